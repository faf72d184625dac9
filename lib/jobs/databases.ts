/**
 * Moved to the engines (lib/engines/): what each database engine knows lives in its own file there.
 * Kept as re-exports for importers outside lib/ (cli/commands/restore.ts).
 */
export { dumpName, readPasswordFile } from '../engines/common.js';
export type { DbConnection } from '../engines/types.js';
