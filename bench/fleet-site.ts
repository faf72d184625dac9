/**
 * The fleet bench's site (bench/fleet.ts): an inventory of app servers with VMs and mixed app types
 * on backup servers that place their pulls themselves (`pulls: auto`, capacities, a second copy of
 * every tenth server), and a year of history in the real formats where each machine keeps it, all
 * under one folder that stands for / (`--root`):
 *   <app partition>/local/<vm>/_history/backup-<app>-<day>       one file per app per day (job start + end)
 *   <backup partition>/snapshots/<server>/<stamp>/               the newest pull: a hardlinked copy of the local tree
 *   <backup partition>/remote/<server> -> ../snapshots/<server>/<stamp>
 *   <backup partition>/history/backup-pull-<server>-<day>        one file per pulled server per day
 * Lines are made by the library's own formatRecord, paths by its layout, the placement by parseInventory.
 * Deterministic for a given size and `now`. Files are written by a pool of workers (streamed, never
 * the whole history in memory); the snapshot is `cp -al` of the local tree, as a pull makes it.
 */
import { execa } from 'execa';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../lib/model/convention.js';
import { dayOf, formatRecord, HISTORY_HEADER, type HistoryRecord } from '../lib/model/history.js';
import { parseInventory } from '../lib/site/load.js';
import type { Site } from '../lib/model/inventory/model.js';

export interface FleetSize {
  servers: number;
  vmsPerServer: number;
  apps: number;
  backupServers: number;
  days: number;
}

export const FULL_FLEET: FleetSize = { servers: 200, vmsPerServer: 3, apps: 4000, backupServers: 4, days: 365 };

export interface FleetSite {
  /** The folder standing for / (give it as --root). */
  root: string;
  inventory: string;
  site: Site;
  backupServers: string[];
  /** History files written (job and pull). */
  files: number;
}

const LOCATIONS = ['zg', 'zh', 'be', 'bs', 'ge', 'lu', 'sg', 'ti'];
const VM_ROLES = ['web', 'db', 'mail', 'git', 'app', 'intra'];
const BACKUPS = ['odin', 'thor', 'loki', 'freya', 'baldr', 'tyr', 'njord', 'frigg'];
const CAPACITIES = ['40T', '40T', '20T', '30T', '20T', '40T', '20T', '30T'];
const CUSTOMERS = [
  'alpina', 'birchler', 'cornu', 'dufour', 'egger', 'fehr', 'gasser', 'huber', 'imhof', 'jaeggi', 'keller', 'lehmann', 'meier', 'notz', 'odermatt',
  'pfister', 'quadri', 'roth', 'steiner', 'tanner', 'ulrich', 'vogel', 'wyss', 'zbinden', 'amrein', 'baumann', 'caduff', 'daetwyler', 'eberle',
  'frei', 'graf', 'hess', 'iseli', 'jost', 'kuhn', 'lanz', 'moser', 'nef', 'ott', 'probst', 'rey', 'schmid', 'thommen', 'urech', 'vetter',
  'weber', 'zaugg', 'aebi', 'brunner', 'christen', 'dubach', 'erni', 'frey',
];
/** App kinds and the job type (and options) each one uses. */
const KINDS: { word: string; type: string; options?: string }[] = [
  { word: 'shop', type: 'rails' }, { word: 'blog', type: 'wordpress' }, { word: 'wiki', type: 'moinmoin' }, { word: 'code', type: 'git' },
  { word: 'mail', type: 'maildir' }, { word: 'crm', type: 'mysql', options: '{ databases: [crm] }' }, { word: 'erp', type: 'postgresql', options: '{ databases: [erp] }' },
  { word: 'docs', type: 'files' }, { word: 'intranet', type: 'files' }, { word: 'tickets', type: 'mysql', options: '{ databases: [tickets] }' },
  { word: 'portal', type: 'rails' }, { word: 'media', type: 'files' }, { word: 'booking', type: 'postgresql', options: '{ databases: all }' },
  { word: 'news', type: 'wordpress' }, { word: 'archive', type: 'cvs' }, { word: 'api', type: 'files' }, { word: 'forum', type: 'mysql', options: '{ databases: all }' },
];

/** A deterministic number in [0,1) from integers (no state: the same inputs give the same site). */
function hash01(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) {
    h ^= x + 0x9e3779b9;
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 2 ** 32;
}

interface GenServer { fqdn: string; partition: string; vms: string[]; apps: GenApp[] }
interface GenApp { name: string; vm: string; kind: (typeof KINDS)[number]; index: number; mb: number }

function model(size: FleetSize): { servers: GenServer[]; backups: string[] } {
  const perLoc = new Map<string, number>();
  const servers: GenServer[] = Array.from({ length: size.servers }, (_, s) => {
    const loc = LOCATIONS[s % LOCATIONS.length]!;
    const n = (perLoc.get(loc) ?? 0) + 1;
    perLoc.set(loc, n);
    const short = `${loc}-${n}`;
    return { fqdn: `${short}.hosting.example.ch`, partition: `/m/${short}/v01/backup`, vms: Array.from({ length: size.vmsPerServer }, (_, v) => `${loc}${n}-${VM_ROLES[v % VM_ROLES.length]}${v >= VM_ROLES.length ? v : ''}`), apps: [] };
  });
  for (let i = 0; i < size.apps; i++) {
    // Uneven on purpose: some servers carry many more apps than others (as a real fleet does).
    const s = servers[Math.floor(hash01(i, 1) ** 1.3 * servers.length)]!;
    const kind = KINDS[i % KINDS.length]!;
    const cust = CUSTOMERS[Math.floor(i / KINDS.length) % CUSTOMERS.length]!;
    const round = Math.floor(i / (CUSTOMERS.length * KINDS.length));
    s.apps.push({ name: `${cust}-${kind.word}${round ? round + 1 : ''}`, vm: s.vms[s.apps.length % s.vms.length]!, kind, index: i, mb: Math.round(20 + 4000 * hash01(i, 2) ** 3) });
  }
  return { servers, backups: Array.from({ length: size.backupServers }, (_, b) => `${BACKUPS[b % BACKUPS.length]}${b >= BACKUPS.length ? b : ''}.backup.example.ch`) };
}

/** The inventory text of the fleet. */
export function fleetInventoryYaml(size: FleetSize): string {
  const { servers, backups } = model(size);
  const out = ['# The fleet bench\'s site (bench/fleet-site.ts): generated, deterministic.', 'version: 1', 'site: fleet', 'defaults:', '  timezone: UTC', 'servers:'];
  servers.forEach((s, k) => {
    const bytes = s.apps.reduce((n, a) => n + a.mb, 0) * 1e6;
    out.push(`  - { fqdn: ${s.fqdn}, partition: ${s.partition}, size: ${Math.max(1, Math.round(bytes / 1e9))}G${k % 10 === 3 ? ', copies: 2' : ''} }`);
  });
  for (const b of backups) out.push(`  - { fqdn: ${b}, role: backup, partition: /m/${b.split('.')[0]}/v01/backup }`);
  out.push('vms:');
  for (const s of servers) for (const v of s.vms) out.push(`  - { name: ${v}, server: ${s.fqdn} }`);
  out.push('apps:');
  for (const s of servers) {
    for (const a of s.apps) {
      const [cust, word] = a.name.split('-') as [string, string];
      out.push(`  - { name: ${a.name}, server: ${s.fqdn}, vm: ${a.vm}, path: /srv/${word}/${cust}, relpath: ${word}.${cust}.ch, type: ${a.kind.type}${a.kind.options ? `, options: ${a.kind.options}` : ''} }`);
    }
  }
  out.push('backup_servers:');
  backups.forEach((b, k) => out.push(`  - { server: ${b}, pulls: auto, capacity: ${CAPACITIES[k % CAPACITIES.length]} }`));
  out.push('monitoring:', '  prometheus: { textfile: /var/lib/prometheus/node-exporter/tierback.prom }');
  return `${out.join('\n')}\n`;
}

/** Runs `fn` over `items` with `width` at a time. */
async function pool<T>(items: readonly T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

const DAY = 86_400_000;
const rooted = (root: string, p: string) => path.join(root, p);
const runId = (at: Date, n: number) => `${at.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${(n >>> 0).toString(16).padStart(6, '0').slice(-6)}`;

function historyText(start: HistoryRecord, end: HistoryRecord): string {
  return `${HISTORY_HEADER}\n${formatRecord(start)}\n${formatRecord(end)}\n`;
}

/**
 * Writes the fleet into `dir` (inventory.yaml and root/). Day d's jobs start about 5 h before `now`
 * minus d days, its pulls 2 h before: every run of the year has ended. About one job in 300 fails.
 */
export async function generateFleetSite(dir: string, size: FleetSize, now: Date, progress?: (msg: string) => void): Promise<FleetSite> {
  const root = path.join(dir, 'root');
  const inventory = path.join(dir, 'inventory.yaml');
  await mkdir(root, { recursive: true, mode: 0o700 });
  await writeFile(inventory, fleetInventoryYaml(size));
  const site = parseInventory(fleetInventoryYaml(size), inventory);
  const { servers, backups } = model(size);
  await mkdir(rooted(root, '/var/lib/prometheus/node-exporter'), { recursive: true });
  let files = 0;
  let done = 0;
  await pool(servers, 4, async (s) => {
    for (const vm of s.vms) await mkdir(rooted(root, C.jobHistoryDir(s.partition, vm)), { recursive: true, mode: 0o700 });
    const jobs: (() => Promise<void>)[] = [];
    s.apps.forEach((a, k) => {
      for (let d = size.days - 1; d >= 0; d--) {
        jobs.push(() => {
          const start = new Date(now.getTime() - d * DAY - 5 * 3_600_000 + k * 60_000);
          const failed = hash01(a.index, d, 3) < 1 / 300;
          const dur = Math.round(10 + 600 * hash01(a.index, 4) + 30 * hash01(a.index, d, 5));
          const base: HistoryRecord = { run: runId(start, a.index * 1000 + d), name: a.name, kind: 'job', tier: 'local', status: 'running', start, host: a.vm, type: a.kind.type };
          const mb = a.mb * (1 + (size.days - d) / size.days / 5);
          const end: HistoryRecord = failed
            ? { ...base, status: 'failed', end: new Date(start.getTime() + 2000), durationS: 2, error: 'dump exited 2: Access denied for user (using password: YES)' }
            : { ...base, status: 'ok', end: new Date(start.getTime() + dur * 1000), durationS: dur, files: Math.round(mb * 7), mb, bytes: Math.round(mb * 1e6) };
          return writeFile(rooted(root, C.historyFilePath(C.jobHistoryDir(s.partition, a.vm), a.name, dayOf(start, 'UTC'))), historyText(base, end), { mode: 0o600 });
        });
      }
    });
    await pool(jobs, 32, (f) => f());
    files += jobs.length;
    // Every backup server that pulls it (as placed): a year of pull lines, the newest snapshot, remote/<server>.
    const serverMb = s.apps.reduce((n, a) => n + a.mb, 0);
    for (const b of site.backupServers.filter((x) => x.pulls.some((p) => p.server === s.fqdn))) {
      const bi = backups.indexOf(b.server);
      const hist = rooted(root, C.serverHistoryDir(b.partition));
      await mkdir(hist, { recursive: true, mode: 0o700 });
      let stamp = '';
      const pulls: (() => Promise<void>)[] = [];
      for (let d = size.days - 1; d >= 0; d--) {
        const start = new Date(now.getTime() - d * DAY - 2 * 3_600_000 + bi * 600_000);
        const dur = Math.round(30 + serverMb / 40 + 60 * hash01(bi, d, 6));
        stamp = C.snapshotStamp(start);
        const base: HistoryRecord = { run: runId(start, bi * 1e6 + d), name: C.pullHistoryName(s.fqdn), kind: 'pull', tier: 'remote', status: 'running', start, host: b.server, type: 'ssh' };
        const end: HistoryRecord = { ...base, status: 'ok', end: new Date(start.getTime() + dur * 1000), durationS: dur, files: Math.round(serverMb * 7), mb: serverMb, bytes: serverMb * 1e6, transferredMb: serverMb / 50, extra: { snapshot: stamp } };
        pulls.push(() => writeFile(C.historyFilePath(hist, C.pullHistoryName(s.fqdn), dayOf(start, 'UTC')), historyText(base, end), { mode: 0o600 }));
      }
      await pool(pulls, 32, (f) => f());
      files += pulls.length;
      const snap = rooted(root, C.snapshotDir(b.partition, s.fqdn, stamp));
      await mkdir(snap, { recursive: true, mode: 0o700 });
      await execa('cp', ['-al', `${rooted(root, C.localRoot(s.partition))}/.`, `${snap}/`]);
      await mkdir(rooted(root, C.remoteRoot(b.partition)), { recursive: true, mode: 0o700 });
      await symlink(C.currentLinkTarget(s.fqdn, stamp), rooted(root, C.remoteServerDir(b.partition, s.fqdn)));
    }
    if (++done % 20 === 0) progress?.(`  ${done}/${servers.length} servers, ${files} history files`);
  });
  return { root, inventory, site, backupServers: backups, files };
}
