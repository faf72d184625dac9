/**
 * Points in time of an app on every tier this machine sees: the local tier's folder (the newest
 * backup) and its dumps, and each remote snapshot that holds the app, at every place it has lived
 * (its current place and the old ones its move records name, lib/model/places.ts). Read-only.
 */
import { lstat, readdir } from 'node:fs/promises';
import { dumpDir, dumpPath, dumpRelPath, jobHistoryDir, localAppDir, snapshotAppDir, snapshotJobHistoryDir, vmHistoryDir } from '../../model/layout.js';
import { parseDumpFileName, parseSnapshotStamp } from '../../model/names.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { dayOf, readHistory, type Run } from '../../model/history.js';
import { parseAt, type AtSpec } from '../../base/timespec.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { jobTarget } from '../jobs/run.js';
import { diskPath } from '../../model/machine.js';
import { manifestRun } from '../jobs/manifest.js';
import { appPlaces, peekCurrentStamp, stampsNewestFirst, type Place } from '../../model/places.js';

export type Tier = 'local' | 'remote';

export interface DumpRef {
  db: string;
  /** Path relative to the app folder: `db/<db>-<stamp>.<ext>`. */
  file: string;
  stamp: string;
  at: Date;
  ext: string;
  bytes: number;
}

export interface Point {
  app: string;
  tier: Tier;
  /** `local`, or `<backup server>/<snapshot stamp>`. */
  id: string;
  /** When the data was backed up: start of the job that wrote it (else the snapshot's stamp or the folder's mtime). */
  at: Date;
  /** The app folder as the inventory names it. */
  dir: string;
  /** The same folder on this machine's disk (with --root). */
  disk: string;
  /** Partition holding this point (the app's server's, or the backup server's). */
  partition: string;
  /** The history files that travelled with this backup, on disk. */
  historyDisk: string;
  backupServer?: string | undefined;
  snapshot?: string | undefined;
  /** Where the app lived when this backup was made (remote tier). */
  place?: Place | undefined;
  /** The point is at a place the app has since moved away from (from its move records). */
  moved?: boolean | undefined;
  /** The snapshot `remote/<server>` points to (remote tier), or the local folder. */
  current: boolean;
  /** Status of the job that wrote this backup, from the history that travels with it. */
  status: 'ok' | 'warning' | 'unknown';
  /** Run id of that job. */
  run?: string | undefined;
  files?: number | undefined;
  bytes?: number | undefined;
  /** The newest run of the app's job recorded there, when it failed after this backup (the backup is older than expected). */
  lastFailure?: string | undefined;
  dumps: DumpRef[];
}

export interface PointOptions {
  /** Prefix of every inventory path on disk (default "/"). */
  root?: string | undefined;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readDumps(disk: string): Promise<DumpRef[]> {
  let names: string[] = [];
  try {
    names = await readdir(dumpDir(disk));
  } catch {
    return [];
  }
  const out: DumpRef[] = [];
  for (const n of names.sort()) {
    const p = parseDumpFileName(n);
    if (!p) continue;
    const st = await lstat(dumpPath(disk, n)).catch(() => undefined);
    if (!st?.isFile()) continue;
    out.push({ db: p.db, file: dumpRelPath(n), stamp: p.stamp, at: p.at, ext: p.ext, bytes: st.size });
  }
  return out;
}

/**
 * The job run that wrote the backup and the newest failure after it. The folder's manifest names
 * its run (`# run`): that run, when the history holds it. Else (older manifests) the newest
 * ok/warning run that started at or before `before` (a snapshot's stamp, to the second: a job
 * that started within that second counts).
 */
async function jobFacts(historyDisk: string, app: string, disk: string, before?: Date): Promise<{ good: Run | undefined; failure: Run | undefined }> {
  const { runs } = await readHistory(historyDisk, { name: app }).catch(() => ({ runs: [] as Run[] }));
  const all = runs.filter((r) => r.kind === 'job');
  const ok = (r: Run) => r.status === 'ok' || r.status === 'warning';
  const wrote = await manifestRun(disk);
  const byRun = wrote === undefined ? -1 : all.findIndex((r) => r.run === wrote && ok(r));
  const jobs = all.filter((r) => !before || r.start.getTime() < before.getTime() + 1000);
  const good = byRun >= 0 ? all[byRun] : [...jobs].reverse().find(ok);
  const last = jobs.at(-1);
  return { good, failure: last && last.status === 'failed' && last !== good && (!good || last.start > good.start) ? last : undefined };
}

async function folderPoint(app: ResolvedApp, tier: Tier, id: string, dir: string, disk: string, historyDisk: string, extra: Partial<Point>, before?: Date): Promise<Point> {
  const { good, failure } = await jobFacts(historyDisk, app.name, disk, before);
  const fallback = before ?? (await lstat(disk)).mtime;
  return {
    app: app.name,
    tier,
    id,
    at: good?.start ?? fallback,
    dir,
    disk,
    partition: app.partition,
    historyDisk,
    current: false,
    status: good ? (good.status as 'ok' | 'warning') : 'unknown',
    run: good?.run,
    files: good?.files,
    bytes: good?.bytes,
    lastFailure: failure ? `${failure.start.toISOString()} ${failure.error ?? 'failed'}` : undefined,
    dumps: await readDumps(disk),
    ...extra,
  };
}

/** Every point in time of `app` this machine sees, oldest first. */
export async function listPoints(site: Site, app: ResolvedApp, opts: PointOptions = {}): Promise<Point[]> {
  const root = opts.root;
  const points: Point[] = [];
  // Local tier: inside the VM (its mount) or on the server (the partition); the same folder seen twice is listed once.
  const candidates = [
    { dir: jobTarget(app), history: vmHistoryDir(app.mount) },
    { dir: localAppDir(app.partition, app.vm, app.relpath), history: jobHistoryDir(app.partition, app.vm) },
  ];
  const seen = new Set<string>();
  for (const c of candidates) {
    const disk = diskPath(root, c.dir);
    if (seen.has(disk) || !(await isDirectory(disk))) continue;
    seen.add(disk);
    points.push(await folderPoint(app, 'local', 'local', c.dir, disk, diskPath(root, c.history), { current: true }));
    break;
  }
  // Remote tier: snapshots of every place the app has lived (lib/model/places.ts), on the backup servers
  // whose partition is here. A snapshot holds the app at one place; the newest place wins a tie.
  const seenSnapshots = new Set<string>();
  for (const place of await appPlaces(site, app, { root })) {
    const moved = !(place.server === app.server && place.vm === app.vm && place.relpath === app.relpath);
    const partitions = new Map<string, string>();
    const pulling = site.backupServers.filter((b) => b.pulls.some((p) => p.server === place.server));
    // An old server may no longer be pulled: its snapshots stay where they are until retention.
    for (const b of moved && pulling.length === 0 ? site.backupServers : pulling) if (!partitions.has(b.partition)) partitions.set(b.partition, b.server);
    for (const [partition, backupServer] of partitions) {
      const names = await stampsNewestFirst(root, partition, place.server);
      if (names.length === 0) continue;
      // remote/<server> -> ../snapshots/<server>/<stamp> (relative, so it reads the same under --root).
      const current = await peekCurrentStamp(root, partition, place.server);
      for (const stamp of names.reverse()) {
        const key = `${partition}\0${place.server}\0${stamp}`;
        if (seenSnapshots.has(key)) continue;
        const dir = snapshotAppDir(partition, place.server, stamp, place.vm, place.relpath);
        const disk = diskPath(root, dir);
        if (!(await isDirectory(disk))) continue;
        seenSnapshots.add(key);
        const history = diskPath(root, snapshotJobHistoryDir(partition, place.server, stamp, place.vm));
        // Snapshots of the app's own server keep their short id; those of an old server name it.
        const id = place.server === app.server ? `${backupServer}/${stamp}` : `${backupServer}/${place.server}/${stamp}`;
        const extra: Partial<Point> = { backupServer, partition, snapshot: stamp, current: !moved && stamp === current, place: { server: place.server, vm: place.vm, relpath: place.relpath } };
        if (moved) extra.moved = true;
        points.push(await folderPoint(app, 'remote', id, dir, disk, history, extra, parseSnapshotStamp(stamp)));
      }
    }
  }
  // Oldest first; at equal times snapshots (oldest first) before the local folder, the most current place.
  return points.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.tier === b.tier ? (a.snapshot ?? '').localeCompare(b.snapshot ?? '') : a.tier === 'local' ? 1 : -1));
}

/** "the local folder" or "snapshot <backup server>/<stamp>", for messages. */
export function describePoint(p: Point): string {
  return p.tier === 'local' ? 'the local folder' : `snapshot ${p.id}`;
}

export { parseAt, type AtSpec } from '../../base/timespec.js';

function atOrBefore(at: Date, spec: AtSpec, timezone: string): boolean {
  if (spec.kind === 'latest') return true;
  if (spec.kind === 'day') return dayOf(at, timezone) <= spec.day;
  return at.getTime() <= spec.at.getTime();
}

export interface Selection {
  at?: string | undefined;
  tier?: Tier | undefined;
  /** Only snapshots of this backup server. */
  backupServer?: string | undefined;
}

function describeAvailable(points: Point[]): string {
  return points.length ? `available: ${points.map((p) => `${p.id} (${p.at.toISOString()})`).join(', ')}` : 'no backup of this app is visible on this machine; run `tierback list APP` on the VM or the backup server';
}

function filterPoints(points: Point[], sel: Selection): Point[] {
  return points.filter((p) => (!sel.tier || p.tier === sel.tier) && (!sel.backupServer || p.backupServer === sel.backupServer));
}

/** The newest point at or before `--at` (ties: the local tier, then the newest snapshot). */
export function choosePoint(site: Site, app: ResolvedApp, points: Point[], sel: Selection): Point {
  const spec = parseAt(sel.at, site.timezone);
  const pool = filterPoints(points, sel).filter((p) => atOrBefore(p.at, spec, site.timezone));
  const best = pool.sort((a, b) => a.at.getTime() - b.at.getTime() || (a.tier === b.tier ? (a.snapshot ?? '').localeCompare(b.snapshot ?? '') : a.tier === 'local' ? 1 : -1)).at(-1);
  if (!best) throw new NotFoundError(`app "${app.name}": no backup${sel.tier ? ` on the ${sel.tier} tier` : ''}${sel.at && sel.at !== 'latest' ? ` at or before ${sel.at}` : ' on this machine'}`, describeAvailable(filterPoints(points, sel)));
  return best;
}

/** The newest dump (of database `db`, or the only database) at or before `--at`, with the point holding it. */
export function chooseDump(site: Site, app: ResolvedApp, points: Point[], sel: Selection & { db?: string | undefined }): { point: Point; dump: DumpRef } {
  const spec = parseAt(sel.at, site.timezone);
  const all = filterPoints(points, sel).flatMap((point) => point.dumps.map((dump) => ({ point, dump })));
  const dbs = [...new Set(all.map((x) => x.dump.db))].sort();
  if (sel.db && !dbs.includes(sel.db)) throw new NotFoundError(`app "${app.name}": no dump of database "${sel.db}"`, dbs.length ? `dumps exist of: ${dbs.join(', ')}` : 'this app has no dumps here');
  if (!sel.db && dbs.length > 1) throw new UsageError(`app "${app.name}" has dumps of several databases (${dbs.join(', ')})`, 'name one with --db');
  const pool = all.filter((x) => (!sel.db || x.dump.db === sel.db) && atOrBefore(x.dump.at, spec, site.timezone));
  pool.sort((a, b) => a.dump.at.getTime() - b.dump.at.getTime() || (a.point.tier === b.point.tier ? 0 : a.point.tier === 'local' ? 1 : -1));
  const best = pool.at(-1);
  if (!best) throw new NotFoundError(`app "${app.name}": no dump${sel.at && sel.at !== 'latest' ? ` at or before ${sel.at}` : ' on this machine'}`, describeAvailable(filterPoints(points, sel)));
  return best;
}

