/**
 * Where an app has lived. Every move appends one line to the app's move record
 * `<vm tree>/_moves/<app>` (docs/convention.md#move-records), and the record travels with the app
 * (same server: renamed with it; other server: copied with it), so whoever sees the app's current
 * place also sees every place it lived before, and the pulls carry it to the backup servers.
 * `list`/`restore` take points from every place; `status` counts the last good copy at the old
 * place until the new place has one (lib/features/status/moved.ts).
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import * as C from './layout.js';
import * as N from './names.js';
import { appendLogLine } from '../base/fsutil.js';
import { logfmtFields } from './history.js';
import type { ResolvedApp, Site } from './inventory/model.js';
import { diskPath } from './machine.js';

export interface Place {
  server: string;
  vm: string;
  relpath: string;
}

export interface PlaceOnServer extends Place {
  partition: string;
}

export interface MoveRecord {
  /** When the move was done. */
  at: Date;
  app: string;
  from: PlaceOnServer;
  to: PlaceOnServer;
  /** Host that ran the move. */
  host?: string | undefined;
}

export const MOVE_RECORD_HEADER = '# tierback moves v1: one move per line, logfmt; see docs/convention.md#move-records';

/** `server:vm/relpath`, for messages and as a key. */
export function describePlace(p: Place): string {
  return `${p.server}:${p.vm}/${p.relpath}`;
}

export function samePlace(a: Place, b: Place): boolean {
  return a.server === b.server && a.vm === b.vm && a.relpath === b.relpath;
}

function quote(v: string): string {
  return /^[A-Za-z0-9._:/@+-]+$/.test(v) ? v : `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f]/g, ' ')}"`;
}

export function formatMoveRecord(r: MoveRecord): string {
  const kv: [string, string | undefined][] = [
    ['v', '1'],
    ['at', r.at.toISOString()],
    ['app', r.app],
    ['from_server', r.from.server],
    ['from_vm', r.from.vm],
    ['from_relpath', r.from.relpath],
    ['from_partition', r.from.partition],
    ['to_server', r.to.server],
    ['to_vm', r.to.vm],
    ['to_relpath', r.to.relpath],
    ['to_partition', r.to.partition],
    ['host', r.host],
  ];
  return kv.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${quote(v!)}`).join(' ');
}

/** Parses one line; throws on a malformed one (a name or path the convention rejects included). */
export function parseMoveRecord(line: string): MoveRecord {
  const { kv, req } = logfmtFields(line);
  const at = new Date(req('at'));
  if (Number.isNaN(at.getTime())) throw new Error(`bad date in "at": ${kv['at']}`);
  const place = (side: 'from' | 'to'): PlaceOnServer => {
    const p = { server: req(`${side}_server`), vm: req(`${side}_vm`), relpath: req(`${side}_relpath`), partition: req(`${side}_partition`) };
    for (const [what, v] of [['server', N.checkHostname(p.server)], ['vm', N.checkVmName(p.vm)], ['relpath', N.checkRelpath(p.relpath)], ['partition', N.checkPartition(p.partition)]] as const) {
      if (v) throw new Error(`bad ${side}_${what}: ${v.message}`);
    }
    return p;
  };
  return { at, app: req('app'), from: place('from'), to: place('to'), host: kv['host'] };
}

/** The records of a move record file, oldest first; a missing file has none, a bad line is skipped. */
export async function readMoveRecords(file: string): Promise<MoveRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  const out: MoveRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    try {
      out.push(parseMoveRecord(line));
    } catch {
      // A damaged line costs one old place, never the listing.
    }
  }
  return out;
}

/**
 * Appends `r` to the move record file (0600 in a 0700 folder, with a header line), unless its last
 * record is already this move (a move run again after an interruption). Returns whether it wrote.
 */
export async function appendMoveRecord(file: string, r: MoveRecord): Promise<boolean> {
  const last = (await readMoveRecords(file)).at(-1);
  if (last && last.app === r.app && samePlace(last.from, r.from) && samePlace(last.to, r.to)) return false;
  await appendLogLine(file, MOVE_RECORD_HEADER, formatMoveRecord(r));
  return true;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Partitions of the backup servers of the site (each once), with the servers they pull. */
export function backupPartitions(site: Site): { partition: string; backupServer: string; pulls: Set<string> }[] {
  const out = new Map<string, { partition: string; backupServer: string; pulls: Set<string> }>();
  for (const b of site.backupServers) {
    const e = out.get(b.partition) ?? { partition: b.partition, backupServer: b.server, pulls: new Set<string>() };
    for (const p of b.pulls) e.pulls.add(p.server);
    out.set(b.partition, e);
  }
  return [...out.values()];
}

/** Snapshot stamps of a server on a partition, newest first (at most `limit`). */
export async function stampsNewestFirst(root: string | undefined, partition: string, server: string, limit = Infinity): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(diskPath(root, C.snapshotsDir(partition, server)));
  } catch {
    return [];
  }
  return names.filter(N.isStamp).sort().reverse().slice(0, limit);
}

/** How many of a server's newest snapshots are searched for an app not yet pulled at its new place. */
export const SEARCH_SNAPSHOTS = 3;

/**
 * Finds `app` at a place other than `not` in the newest SEARCH_SNAPSHOTS snapshots of the given
 * servers: a VM folder for which `holds(vmTree)` is true (default: it has the app's move record, or
 * the app's folder (same relpath) together with history files of the app, so another app with the
 * same relpath on another VM is never taken for it). Used only when the app's current place has not
 * been pulled yet; reads a handful of folders per server, never a whole snapshot. Newest first.
 */
export async function searchSnapshots(
  root: string | undefined,
  partitions: { partition: string; servers: Iterable<string> }[],
  app: { name: string; relpath: string },
  not: Place,
  holds: (vmTree: string) => Promise<boolean> = (t) => holdsApp(t, app),
  /** Folder listings kept between calls (status searches for several apps in one run). */
  cache: Map<string, Promise<string[]>> = new Map(),
): Promise<{ place: Place; partition: string; stamp: string; vmTree: string }[]> {
  const listing = (dir: string, read: () => Promise<string[]>) => {
    let p = cache.get(dir);
    if (!p) cache.set(dir, (p = read()));
    return p;
  };
  const found: { place: Place; partition: string; stamp: string; vmTree: string }[] = [];
  for (const { partition, servers } of partitions) {
    for (const server of servers) {
      const stamps = await listing(diskPath(root, C.snapshotsDir(partition, server)), () => stampsNewestFirst(root, partition, server, SEARCH_SNAPSHOTS));
      for (const stamp of stamps) {
        const snap = diskPath(root, C.snapshotDir(partition, server, stamp));
        const vms = await listing(snap, () => readdir(snap).then((v) => v.sort(), () => []));
        const hits = [];
        for (const vm of vms) {
          if ((server === not.server && vm === not.vm) || N.checkVmName(vm) !== undefined) continue;
          const vmTree = path.join(snap, vm);
          // A real folder only: a symlink in a snapshot is never followed.
          if (!(await isDir(vmTree)) || !(await holds(vmTree))) continue;
          // The app's relpath there: the last move into that VM, when its record says so.
          const into = (await recordsIn(vmTree, app.name)).filter((r) => r.to.server === server && r.to.vm === vm).at(-1);
          hits.push({ place: { server, vm, relpath: into?.to.relpath ?? app.relpath }, partition, stamp, vmTree });
        }
        if (hits.length) {
          found.push(...hits);
          break; // the newest snapshot holding the app is enough for this server
        }
      }
    }
  }
  return found.sort((a, b) => b.stamp.localeCompare(a.stamp));
}

async function holdsApp(vmTree: string, app: { name: string; relpath: string }): Promise<boolean> {
  if (await lstat(C.moveRecordPath(vmTree, app.name)).then(() => true, () => false)) return true;
  if (!(await isDir(path.join(vmTree, app.relpath)))) return false;
  const names = await readdir(C.historyDirIn(vmTree)).catch(() => [] as string[]);
  return names.some((n) => N.parseHistoryFileName(n)?.name === app.name);
}

/** The move records of `app` in a VM tree (none when it has none). */
async function recordsIn(vmTree: string, app: string): Promise<MoveRecord[]> {
  return readMoveRecords(C.moveRecordPath(vmTree, app));
}

export interface PlacesOptions {
  /** Prefix of every inventory path on disk (default "/"). */
  root?: string | undefined;
}

/**
 * Every place `app` has lived, as far as this machine sees: the current place first, then older
 * places from the move records, newest move first. Records are read at the current place (the VM's
 * mount, the server's local tier, the newest snapshot on each backup partition here); when the
 * current place has not been pulled yet, the newest snapshots of the servers are searched for the
 * app (searchSnapshots) and the records found there are read.
 */
export async function appPlaces(site: Site, app: ResolvedApp, opts: PlacesOptions = {}): Promise<Place[]> {
  const root = opts.root;
  const current: Place = { server: app.server, vm: app.vm, relpath: app.relpath };
  const trees = [app.mount, C.localVmDir(app.partition, app.vm)].map((t) => diskPath(root, t));
  const partitions = backupPartitions(site);
  let pulledHere = false;
  for (const b of partitions) {
    const vmTree = diskPath(root, C.remoteVmDir(b.partition, app.server, app.vm));
    trees.push(vmTree);
    if (await isDir(path.join(vmTree, app.relpath))) pulledHere = true;
  }
  const records: MoveRecord[] = [];
  for (const t of [...new Set(trees)]) records.push(...(await recordsIn(t, app.name)));
  const places: Place[] = [current];
  const add = (p: Place) => {
    if (!places.some((x) => samePlace(x, p))) places.push({ server: p.server, vm: p.vm, relpath: p.relpath });
  };
  if (!pulledHere) {
    const present = [];
    for (const b of partitions) if (await isDir(diskPath(root, C.snapshotsRoot(b.partition)))) present.push({ partition: b.partition, servers: await serversIn(root, b.partition) });
    for (const hit of await searchSnapshots(root, present, { name: app.name, relpath: app.relpath }, current)) {
      add(hit.place);
      records.push(...(await recordsIn(hit.vmTree, app.name)));
    }
  }
  for (const r of records.filter((x) => x.app === app.name).sort((a, b) => b.at.getTime() - a.at.getTime())) {
    add(r.to);
    add(r.from);
  }
  return places;
}

/** Servers with snapshots on a partition (the folder names under snapshots/). */
async function serversIn(root: string | undefined, partition: string): Promise<string[]> {
  try {
    return (await readdir(diskPath(root, C.snapshotsRoot(partition)))).filter((n) => N.checkHostname(n) === undefined).sort();
  } catch {
    return [];
  }
}

/** Reads the `remote/<server>` link below `root` without judging it (the strict check is `currentStamp` in lib/tiers/snapshots): the stamp it names, if any. */
export async function peekCurrentStamp(root: string | undefined, partition: string, server: string): Promise<string | undefined> {
  return readlink(diskPath(root, C.remoteServerDir(partition, server)))
    .then((t) => path.posix.basename(t))
    .catch(() => undefined);
}
