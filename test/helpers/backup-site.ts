/**
 * A backup server with a real remote tier for offsite tests: one app server's local tier (an app
 * folder, a gzip'd SQL "dump", job history) pulled with real rsync (local transport) into dated
 * snapshots. `pullAt(date)` makes a new snapshot current.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseInventory } from '../../lib/site/load.js';
import type { Site } from '../../lib/model/inventory/model.js';
import { silentLogger } from '../../lib/base/log.js';
import { resolveBackupServer, runPulls } from '../../lib/tiers/pull/pull.js';

/** The backup server pulls its own local tier (transport local: the only one without sshd). */
export const APP_SERVER = 'backup.test';
export const BACKUP_SERVER = APP_SERVER;
export const APP_REL = 'web/a.example.org/app';
export const DUMP_NAME = 'app-2026-03-01T013000Z.sql.gz';
export const DUMP_SQL = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (2), (3);\n-- marker: plaintext-secret-row\n";

export interface BackupSite {
  root: string;
  source: string;
  backup: string;
  invFile: string;
  site: Site;
  pullAt(at: Date): Promise<string>;
}

export async function makeBackupSite(root: string, offsiteYaml = ''): Promise<BackupSite> {
  const backup = path.join(root, 'backup');
  const source = backup;
  const app = path.join(source, 'local', APP_REL);
  await mkdir(path.join(app, 'db'), { recursive: true });
  await mkdir(path.join(app, 'files'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(path.join(app, 'files', `f${i}.txt`), `file ${i}\n`.repeat(200));
  await writeFile(path.join(app, 'db', DUMP_NAME), gzipSync(DUMP_SQL));
  await mkdir(path.join(source, 'local/web/_history'), { recursive: true });
  await writeFile(path.join(source, 'local/web/_history/backup-app-20260301'), 'v=1 run=x name=app kind=job tier=local status=ok start=2026-03-01T01:30:00Z\n');
  const invFile = path.join(root, 'inventory.yaml');
  const text = `version: 1
defaults:
  timezone: Europe/Zurich
  retention:
    remote: { daily: 7, weekly: 4, monthly: 6 }
servers:
  - { fqdn: ${BACKUP_SERVER}, partition: ${backup}, role: both }
backup_servers:
  - server: ${BACKUP_SERVER}
    pulls: [{ server: ${APP_SERVER}, transport: local }]
${offsiteYaml}`;
  await writeFile(invFile, text);
  const site = parseInventory(text, invFile);
  return {
    root,
    source,
    backup,
    invFile,
    site,
    async pullAt(at: Date) {
      const [o] = await runPulls(site, resolveBackupServer(site, BACKUP_SERVER), { log: silentLogger(), now: () => at, retries: 0 });
      if (!o || o.status !== 'ok') throw new Error(`pull failed: ${o?.error}`);
      return o.snapshot!;
    },
  };
}
