/**
 * The one-server site the local-transport pull tests share: server `sandbox.test` (role both)
 * pulling its own local tier, with one dump at local/web/a.example.org/db/dump.sql.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from './tree.js';

export const LOCAL_PULL_SERVER = 'sandbox.test';

export interface LocalPullSite {
  root: string;
  cleanup: () => Promise<void>;
  /** The partition (root/part). */
  part: string;
  /** The inventory file (root/inv.yaml). */
  inv: string;
  /** The app folder holding db/dump.sql. */
  app: string;
}

/** The inventory text: the server at `part` (role both) pulling itself over the local transport. */
export function localPullInventory(part: string): string {
  const S = LOCAL_PULL_SERVER;
  return `version: 1\nservers:\n  - { fqdn: ${S}, partition: ${part}, role: both }\nbackup_servers:\n  - server: ${S}\n    pulls: [{ server: ${S}, transport: local }]\n`;
}

export async function localPullSite(prefix: string): Promise<LocalPullSite> {
  const { dir: root, cleanup } = await tempDir(prefix);
  const part = path.join(root, 'part');
  const app = path.join(part, 'local/web/a.example.org');
  await mkdir(path.join(app, 'db'), { recursive: true });
  await writeFile(path.join(app, 'db/dump.sql'), 'create table t;');
  const inv = path.join(root, 'inv.yaml');
  await writeFile(inv, localPullInventory(part));
  return { root, cleanup, part, inv, app };
}
