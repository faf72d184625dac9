/**
 * Orphans: backup folders on disk that no inventory entry owns (an app removed or moved without
 * `tierback apply`, a VM renamed, a typo), leftovers of interrupted jobs, and the reverse: active
 * apps with no backup folder. Read-only: it lists, never deletes. Never follows symlinks.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../model/layout.js';
import * as N from '../../model/names.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { whichPath } from '../../model/paths.js';

const posix = path.posix;

export type OrphanKind = 'vm' | 'folder' | 'history' | 'leftover' | 'server' | 'symlink';

export interface Orphan {
  kind: OrphanKind;
  /** Path as the inventory sees it (without --root). */
  path: string;
  tier: 'local' | 'remote' | 'snapshots';
  reason: string;
}

export interface MissingBackup {
  app: string;
  server: string;
  vm: string;
  path: string;
  reason: string;
}

export interface OrphanReport {
  partitions: string[];
  orphans: Orphan[];
  missing: MissingBackup[];
}

export interface OrphanOptions {
  /** Prefix of every path on disk (tests: a temp dir); default "/". */
  root?: string;
  /** Only this server's partition and apps; its missing folders are then certain, not guessed. */
  server?: string | undefined;
}

type Entry = { name: string; dir: boolean; link: boolean };

async function list(dir: string): Promise<Entry[] | undefined> {
  try {
    const ents = await readdir(dir, { withFileTypes: true });
    return ents.map((e) => ({ name: e.name, dir: e.isDirectory(), link: e.isSymbolicLink() })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Walks one VM tree (`<local>/<vm>` or `<remote>/<server>/<vm>`): every folder is an app's folder,
 * an ancestor of one (descend), or an orphan (report, do not descend).
 */
async function walkVmTree(disk: string, logical: string, apps: ResolvedApp[], tier: Orphan['tier'], out: Orphan[]): Promise<void> {
  const relpaths = apps.map((a) => a.relpath);
  const names = new Set(apps.map((a) => a.name));
  async function walk(rel: string): Promise<void> {
    const entries = (await list(rel ? path.join(disk, rel) : disk)) ?? [];
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const at = posix.join(logical, r);
      if (rel === '' && e.name === C.HISTORY_DIR && e.dir) {
        for (const f of (await list(path.join(disk, e.name))) ?? []) {
          const h = N.parseHistoryFileName(f.name);
          if (h && !names.has(h.name)) out.push({ kind: 'history', path: posix.join(at, f.name), tier, reason: `history of "${h.name}", which is not an app of this VM` });
        }
        continue;
      }
      if (rel === '' && e.name === C.MOVES_DIR && e.dir) {
        for (const f of (await list(path.join(disk, e.name))) ?? []) {
          if (!names.has(f.name)) out.push({ kind: 'history', path: posix.join(at, f.name), tier, reason: `move record of "${f.name}", which is not an app of this VM` });
        }
        continue;
      }
      const w = N.parseWorkingName(e.name);
      if (w) {
        if (w.kind !== 'lock') out.push({ kind: 'leftover', path: at, tier, reason: `${w.kind === 'partial' ? 'staging folder of an interrupted job' : 'previous backup parked by an interrupted job'} of ${w.base}; the next job of that app cleans it up` });
        continue;
      }
      if (e.link) {
        out.push({ kind: 'symlink', path: at, tier, reason: 'symlink in a backup tree (tierback never follows it)' });
        continue;
      }
      if (relpaths.includes(r)) continue; // an app's folder
      if (e.dir && relpaths.some((p) => p.startsWith(`${r}/`))) {
        await walk(r);
        continue;
      }
      out.push({ kind: 'folder', path: at, tier, reason: e.dir ? 'no app of this VM has this relpath' : 'file outside every app folder' });
    }
  }
  await walk('');
}

export async function findOrphans(site: Site, opts: OrphanOptions = {}): Promise<OrphanReport> {
  const root = opts.root ?? '/';
  const onDisk = (p: string) => path.join(root, p);
  const servers = opts.server ? site.servers.filter((s) => s.fqdn === opts.server) : site.servers;
  const partitions = [...new Set(servers.map((s) => s.partition))];
  const report: OrphanReport = { partitions: [], orphans: [], missing: [] };
  const vmNames = new Set(site.vms.map((v) => v.name));

  for (const partition of partitions) {
    const here = servers.filter((s) => s.partition === partition).map((s) => s.fqdn);
    const local = C.localRoot(partition);
    const vms = await list(onDisk(local));
    if (vms) {
      report.partitions.push(partition);
      for (const v of vms) {
        const logical = posix.join(local, v.name);
        if (v.name.startsWith('.')) continue;
        if (!v.dir || v.link) {
          report.orphans.push({ kind: v.link ? 'symlink' : 'folder', path: logical, tier: 'local', reason: 'not a VM folder' });
          continue;
        }
        if (v.name !== N.HOST_VM && !vmNames.has(v.name)) {
          report.orphans.push({ kind: 'vm', path: logical, tier: 'local', reason: `no VM "${v.name}" in the inventory` });
          continue;
        }
        const apps = site.apps.filter((a) => a.vm === v.name && a.partition === partition && here.includes(a.server));
        await walkVmTree(onDisk(logical), logical, apps, 'local', report.orphans);
      }
      // Active apps whose folder is missing: certain with --server; else only where the VM folder exists here.
      for (const a of site.apps.filter((x) => x.status === 'active' && x.partition === partition && here.includes(x.server))) {
        const dir = C.localAppDir(partition, a.vm, a.relpath);
        const vmThere = vms.some((v) => v.name === a.vm);
        if (!opts.server && !vmThere) continue;
        if (!(await lstat(onDisk(dir)).catch(() => undefined))) {
          report.missing.push({ app: a.name, server: a.server, vm: a.vm, path: dir, reason: 'no backup folder: the job has never run here (or the app moved without `tierback apply`)' });
        }
      }
    }

    // Remote tier of a backup server: servers no longer pulled, and inside each, the same walk.
    const backup = site.backupServers.find((b) => b.partition === partition && here.includes(b.server));
    for (const [area, tier] of [[C.remoteRoot(partition), 'remote'], [C.snapshotsRoot(partition), 'snapshots']] as const) {
      const entries = await list(onDisk(area));
      if (!entries) continue;
      if (!report.partitions.includes(partition)) report.partitions.push(partition);
      for (const s of entries) {
        const pulled = backup?.pulls.some((p) => p.server === s.name);
        if (!pulled) {
          report.orphans.push({
            kind: 'server',
            path: posix.join(area, s.name),
            tier,
            reason: site.servers.some((x) => x.fqdn === s.name) ? `${s.name} is not pulled by this backup server any more; retention will not touch it` : `no server "${s.name}" in the inventory`,
          });
          continue;
        }
        if (tier !== 'remote') continue;
        // remote/<server> is the symlink to the newest snapshot: walk what it points to.
        const base = posix.join(area, s.name);
        for (const v of (await list(onDisk(base))) ?? []) {
          const logical = posix.join(base, v.name);
          if (v.name.startsWith('.')) continue;
          if (v.name !== N.HOST_VM && !site.vms.some((x) => x.name === v.name && x.server === s.name)) {
            const owners = whichPath(site, logical);
            report.orphans.push({ kind: 'vm', path: logical, tier, reason: owners.length ? `VM "${v.name}" does not run on ${s.name} any more` : `no VM "${v.name}" in the inventory` });
            continue;
          }
          const apps = site.apps.filter((a) => a.vm === v.name && a.server === s.name);
          await walkVmTree(onDisk(logical), logical, apps, tier, report.orphans);
        }
      }
    }
  }
  return report;
}
