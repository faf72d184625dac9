/**
 * The names an inventory gives (apps, servers, backup servers), read without validating it: shell
 * completion offers them as the operator types. Light and forgiving on purpose (js-yaml only, no
 * schema): a broken or missing inventory completes nothing; `tierback inventory check` says why.
 */
import { open } from 'node:fs/promises';
import yaml from 'js-yaml';

export interface InventoryNames {
  apps: string[];
  servers: string[];
  backupServers: string[];
}

/** Larger files are not read for completion (an inventory of 250,000 apps is about 32 MB). */
const MAX_BYTES = 32 * 1024 * 1024;

function field(list: unknown, key: string): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((x: unknown) => {
    const v = x && typeof x === 'object' ? (x as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' ? [v] : [];
  });
}

export async function readInventoryNames(file: string): Promise<InventoryNames> {
  const none: InventoryNames = { apps: [], servers: [], backupServers: [] };
  try {
    const fh = await open(file, 'r');
    let text: string;
    try {
      if ((await fh.stat()).size > MAX_BYTES) return none;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
    const doc = yaml.load(text) as Record<string, unknown> | null;
    if (!doc || typeof doc !== 'object') return none;
    return { apps: field(doc['apps'], 'name'), servers: field(doc['servers'], 'fqdn'), backupServers: field(doc['backup_servers'], 'server') };
  } catch {
    return none;
  }
}
