/**
 * A generated fleet as one backup server sees it: 200 servers, 600 VMs, 4,000 apps (sizes scale
 * down with the options), the backup server's partition with the current snapshot of every server
 * (its VMs' job history carried in it), the pull history and an rclone offsite target's history,
 * `days` days of them, in the real file formats (formatRecord, layout.ts paths). A few problems are
 * sprinkled in (see FleetSite.problems). Written with synchronous writes, one file at a time: about
 * 150,000 small files in a few seconds.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as C from '../../lib/model/layout.js';
import * as N from '../../lib/model/names.js';
import { dayOf, formatRecord, HISTORY_HEADER, newRunId, type HistoryRecord } from '../../lib/model/history.js';
import { rooted } from '../../lib/model/machine.js';

export const FLEET_BACKUP = 'bk.fleet.test';
const APP_PARTITION = '/p/app';
const BACKUP_PARTITION = '/p/bk';
const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface FleetOptions {
  servers?: number;
  vmsPerServer?: number;
  appsPerServer?: number;
  days?: number;
  now?: Date;
  /** YAML appended to the inventory (e.g. a monitoring: block). */
  extra?: string;
}

export interface FleetSite {
  inventory: string;
  root: string;
  now: Date;
  apps: number;
  /** What was made to go wrong, by state: app names (a failed pull: every app of the server). */
  problems: { FAILED: string[]; MISSING: string[]; SHRUNK: string[]; STALE: string[] };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
export const serverName = (i: number) => `s${pad(i, 3)}.fleet.test`;
export const appName = (i: number) => `app${pad(i, 4)}`;

/** Groups history lines by file, then writes each file once. */
class Files {
  private files = new Map<string, string[]>();
  add(dir: string, r: HistoryRecord): void {
    const file = C.historyFilePath(dir, r.name, dayOf(r.start, 'UTC'));
    let l = this.files.get(file);
    if (!l) this.files.set(file, (l = []));
    l.push(formatRecord(r));
  }
  run(dir: string, base: Omit<HistoryRecord, 'status' | 'run'>, end: Partial<HistoryRecord>): void {
    const run = newRunId(base.start);
    this.add(dir, { ...base, run, status: 'running' } as HistoryRecord);
    this.add(dir, { ...base, run, status: 'ok', ...end } as HistoryRecord);
  }
  flush(): number {
    const dirs = new Set<string>();
    for (const f of this.files.keys()) dirs.add(path.dirname(f));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    for (const [f, lines] of this.files) writeFileSync(f, `${HISTORY_HEADER}\n${lines.join('\n')}\n`);
    const n = this.files.size;
    this.files.clear();
    return n;
  }
}

export function buildFleetSite(root: string, opts: FleetOptions = {}): FleetSite {
  const servers = opts.servers ?? 200;
  const vmsPer = opts.vmsPerServer ?? 3;
  const appsPer = opts.appsPerServer ?? 20;
  const days = opts.days ?? 35;
  const now = opts.now ?? new Date();
  const problems: FleetSite['problems'] = { FAILED: [], MISSING: [], SHRUNK: [], STALE: [] };
  const y: string[] = ['version: 1', 'site: fleet', 'defaults:', '  timezone: UTC', '  stale_after: 26h', '  shrink_threshold: 20', 'servers:'];
  for (let s = 1; s <= servers; s++) y.push(`  - { fqdn: ${serverName(s)}, role: app, partition: ${APP_PARTITION} }`);
  y.push(`  - { fqdn: ${FLEET_BACKUP}, role: backup, partition: ${BACKUP_PARTITION} }`, 'vms:');
  for (let s = 1; s <= servers; s++) for (let v = 1; v <= vmsPer; v++) y.push(`  - { name: s${pad(s, 3)}v${v}, server: ${serverName(s)} }`);
  y.push('apps:');
  const files = new Files();
  const shared = new Files();
  const pullDir = rooted(root, C.serverHistoryDir(BACKUP_PARTITION));
  mkdirSync(rooted(root, C.remoteRoot(BACKUP_PARTITION)), { recursive: true });
  // The sprinkled problems: the last pull of one server failed, one server was last pulled 3 days
  // ago, one app's last job failed, one app shrank by half, one app has no history at all.
  const failedPull = Math.min(7, servers);
  const stalePull = Math.max(1, servers - 50);
  let n = 0;
  for (let s = 1; s <= servers; s++) {
    const server = serverName(s);
    const stamp = N.snapshotStamp(new Date(now.getTime() - 2 * HOUR));
    mkdirSync(rooted(root, C.snapshotDir(BACKUP_PARTITION, server, stamp)), { recursive: true });
    symlinkSync(C.currentLinkTarget(server, stamp), rooted(root, C.remoteServerDir(BACKUP_PARTITION, server)));
    const pullFrom = s === stalePull ? 3 : 0;
    for (let d = days - 1; d >= pullFrom; d--) {
      const start = new Date(now.getTime() - d * DAY - 2 * HOUR);
      const failed = s === failedPull && d === 0;
      shared.run(pullDir, { name: N.pullHistoryName(server), kind: 'pull', tier: 'remote', start, host: FLEET_BACKUP }, failed ? { status: 'failed', end: new Date(start.getTime() + 60_000), error: 'rsync: connection unexpectedly closed (code 12)' } : { end: new Date(start.getTime() + 300_000), durationS: 300 });
      const off = new Date(now.getTime() - d * DAY - HOUR);
      shared.run(pullDir, { name: N.offsiteHistoryName('s3-main'), kind: 'offsite', tier: 'offsite', start: off, host: FLEET_BACKUP, extra: { server } }, { end: new Date(off.getTime() + 60_000), durationS: 60 });
    }
    for (let a = 0; a < appsPer; a++) {
      n++;
      const app = appName(n);
      const vm = `s${pad(s, 3)}v${(a % vmsPer) + 1}`;
      y.push(`  - { name: ${app}, server: ${server}, vm: ${vm}, path: /srv/${app}, relpath: ${app}.example.org, type: files }`);
      if (s === failedPull) problems.FAILED.push(app);
      if (s === stalePull) problems.STALE.push(app);
      const missing = n === Math.min(3333, servers * appsPer);
      if (missing) {
        problems.MISSING.push(app);
        continue;
      }
      const failedJob = n === Math.min(1021, servers * appsPer - 1);
      const shrunk = n === Math.min(2500, servers * appsPer - 2);
      if (failedJob) problems.FAILED.push(app);
      if (shrunk) problems.SHRUNK.push(app);
      const dir = rooted(root, C.snapshotJobHistoryDir(BACKUP_PARTITION, server, stamp, vm));
      const base = 50 + (n % 97) * 10;
      for (let d = days - 1; d >= 0; d--) {
        const start = new Date(now.getTime() - d * DAY - 3 * HOUR + (n % 60) * 30_000);
        const end = new Date(start.getTime() + 120_000);
        const mb = shrunk && d === 0 ? base / 2 : base + (days - d) * 0.5;
        if (failedJob && d === 0) files.run(dir, { name: app, kind: 'job', tier: 'local', start, host: vm }, { status: 'failed', end, error: 'pg_dump: connection to server failed: <refused>' });
        else files.run(dir, { name: app, kind: 'job', tier: 'local', start, host: vm, type: 'files' }, { end, durationS: 120, files: 1000 + n, mb, bytes: Math.round(mb * 1e6) });
      }
    }
    // Written a server at a time: the buffered lines of one server stay small.
    files.flush();
  }
  y.push('backup_servers:', `  - { server: ${FLEET_BACKUP}, pulls: [${Array.from({ length: servers }, (_, i) => serverName(i + 1)).join(', ')}] }`);
  y.push('offsite:', '  recipients: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]', '  targets:', '    - { name: s3-main, remote: "s3:bucket/tierback" }');
  // The pulls and offsite copies of every server, in the backup server's own history.
  shared.flush();
  const inventory = path.join(root, 'inventory.yaml');
  writeFileSync(inventory, `${y.join('\n')}\n${opts.extra ?? ''}`);
  return { inventory, root, now, apps: n, problems };
}
