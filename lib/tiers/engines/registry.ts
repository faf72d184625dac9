/**
 * The explicit list of database engines (one file each in lib/tiers/engines/). The runner's dump checks,
 * verify, restore, drills and the manifest's dump facts find the engine of a dump file here, by the
 * file name's ending; nothing else knows a dump format. docs/jobs/README.md, "Adding a database engine".
 */
import { checkGzipTrailer } from './common.js';
import { mongodbEngine } from './mongodb.js';
import { mysqlEngine } from './mysql.js';
import { postgresqlEngine } from './postgresql.js';
import { sqliteEngine } from './sqlite.js';
import type { DatabaseEngine, DumpKind } from './types.js';

export const engines: readonly DatabaseEngine[] = [mysqlEngine, postgresqlEngine, sqliteEngine, mongodbEngine];

/** The engine and dump kind of a dump file, from its name (as the runner writes it). */
export function engineOfFile(file: string): { engine: DatabaseEngine; kind: DumpKind } | undefined {
  for (const engine of engines) for (const kind of engine.dumps) if (file.endsWith(`.${kind.ext}`)) return { engine, kind };
  return undefined;
}

/** The engine by name (the dump format restore and drills report). */
export function findEngine(name: string): DatabaseEngine | undefined {
  return engines.find((e) => e.name === name);
}

/** Any other gzip'd stream (e.g. a `command` job's dump): the whole file decompresses and is not empty. */
export const GZIP_CHECK = 'gzip';

/** The check a dump file gets, from its name (as written by the runner). */
export function checkForFile(file: string): string | undefined {
  const found = engineOfFile(file);
  if (found) return found.kind.check;
  if (file.endsWith('.gz')) return GZIP_CHECK;
  return undefined;
}

/** Checks one dump for completeness with the check its engine registers; returns a problem message or undefined. */
export async function checkDump(file: string, check: string, exec: Parameters<DatabaseEngine['checkDump']>[2], signal?: AbortSignal): Promise<string | undefined> {
  if (check === GZIP_CHECK) return checkGzipTrailer(file, /(?:)/, '');
  const engine = engines.find((e) => e.dumps.some((k) => k.check === check));
  if (!engine) return `no engine checks "${check}" dumps`;
  return engine.checkDump(file, check, exec, signal);
}
