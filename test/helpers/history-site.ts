/**
 * A small site with crafted history trees laid out exactly as jobs and pulls write them
 * (lib/model/convention.ts), under a temporary root: for status, history, report and exports tests.
 */
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../lib/model/convention.js';
import { appendRecord, newRunId, type HistoryRecord, type LineStatus } from '../../lib/model/history.js';
import { parseInventory } from '../../lib/site/load.js';
import type { Site } from '../../lib/model/inventory/model.js';
import { rooted } from '../../lib/model/machine.js';

export const APP_SERVER = 'app1.test.example';
export const BACKUP_SERVER = 'bk.test.example';
export const APP_PARTITION = '/p/app';
export const BACKUP_PARTITION = '/p/bk';

export function siteYaml(opts: { timezone?: string; apps?: string; extra?: string } = {}): string {
  return `version: 1
site: testsite
defaults:
  timezone: ${opts.timezone ?? 'UTC'}
  stale_after: 26h
  shrink_threshold: 20
servers:
  - { fqdn: ${APP_SERVER}, role: app, partition: ${APP_PARTITION} }
  - { fqdn: ${BACKUP_SERVER}, role: backup, partition: ${BACKUP_PARTITION} }
vms:
  - { name: web, server: ${APP_SERVER} }
apps:
${opts.apps ?? `  - { name: alpha, server: ${APP_SERVER}, vm: web, path: /srv/alpha, relpath: alpha.example.org, type: files }
  - { name: beta, server: ${APP_SERVER}, vm: web, path: /srv/beta, relpath: beta.example.org, type: files }
  - { name: gamma, server: ${APP_SERVER}, vm: web, path: /srv/gamma, relpath: gamma.example.org, type: files, stale_after: 2h }
  - { name: delta, server: ${APP_SERVER}, path: /srv/delta, relpath: delta.example.org, type: files }`}
backup_servers:
  - { server: ${BACKUP_SERVER}, pulls: [${APP_SERVER}] }
${opts.extra ?? ''}`;
}

export async function writeSite(root: string, yaml = siteYaml()): Promise<{ file: string; site: Site }> {
  const file = path.join(root, 'inventory.yaml');
  await writeFile(file, yaml);
  return { file, site: parseInventory(yaml, file) };
}

export interface CraftedRun {
  name: string;
  start: Date;
  /** Minutes the run took (default 5). */
  minutes?: number;
  status?: LineStatus;
  files?: number;
  mb?: number;
  error?: string;
  kind?: string;
  tier?: HistoryRecord['tier'];
  /** Write only the start line (an interrupted run, or one still running). */
  noEnd?: boolean;
}

/** Writes a run (start line and end line) the way runners do. Returns its run id. */
export async function writeRun(dir: string, r: CraftedRun, timeZone = 'UTC'): Promise<string> {
  const run = newRunId(r.start);
  const base = { run, name: r.name, kind: r.kind ?? 'job', tier: r.tier ?? 'local', start: r.start, host: 'test' } as const;
  await appendRecord(dir, { ...base, status: 'running' }, timeZone);
  if (r.noEnd) return run;
  const end = new Date(r.start.getTime() + (r.minutes ?? 5) * 60_000);
  const status = r.status ?? 'ok';
  await appendRecord(
    dir,
    {
      ...base,
      status,
      end,
      durationS: (end.getTime() - r.start.getTime()) / 1000,
      ...(r.files !== undefined ? { files: r.files } : {}),
      ...(r.mb !== undefined ? { mb: r.mb, bytes: Math.round(r.mb * 1e6) } : {}),
      ...(r.error ? { error: r.error } : {}),
    },
    timeZone,
  );
  return run;
}

export function localHistory(root: string, vm = 'web'): string {
  return rooted(root, C.jobHistoryDir(APP_PARTITION, vm));
}

/** Creates snapshots/<server>/<stamp> and the remote/<server> symlink; returns remote job history dir of `vm`. */
export async function makeSnapshot(root: string, at: Date, vm = 'web'): Promise<string> {
  const stamp = C.snapshotStamp(at);
  const snap = rooted(root, C.snapshotDir(BACKUP_PARTITION, APP_SERVER, stamp));
  await mkdir(path.join(snap, vm, C.HISTORY_DIR), { recursive: true });
  await mkdir(rooted(root, C.remoteRoot(BACKUP_PARTITION)), { recursive: true });
  await symlink(C.currentLinkTarget(APP_SERVER, stamp), rooted(root, C.remoteServerDir(BACKUP_PARTITION, APP_SERVER)));
  return rooted(root, C.remoteJobHistoryDir(BACKUP_PARTITION, APP_SERVER, vm));
}

export function pullHistory(root: string): string {
  return rooted(root, C.serverHistoryDir(BACKUP_PARTITION));
}

export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export function ago(now: Date, ms: number): Date {
  return new Date(now.getTime() - ms);
}
