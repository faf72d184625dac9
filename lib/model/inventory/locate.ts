/** Which inventory file to use, and why. Light (no schema, no YAML): shell completion uses it too. */
import type { InventorySource } from './model.js';

export const DEFAULT_INVENTORY = '/etc/tierback/inventory.yaml';
export const INVENTORY_ENV = 'TIERBACK_INVENTORY';

export interface LocateOptions {
  /** Path given with -i/--inventory. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** Which inventory file to use, and why: -i, then $TIERBACK_INVENTORY, then the default path. */
export function locateInventory(opts: LocateOptions): { file: string; source: InventorySource } {
  if (opts.file) return { file: opts.file, source: 'option' };
  const fromEnv = (opts.env ?? process.env)[INVENTORY_ENV];
  if (fromEnv) return { file: fromEnv, source: 'environment' };
  return { file: DEFAULT_INVENTORY, source: 'default' };
}
