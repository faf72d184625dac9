/**
 * What the interface shows of an app, from the code the CLI uses: its points in time
 * (lib/tiers/restore/points.ts), a folder's entries streamed a page at a time, a search across every
 * point streamed with a cap, and the plain commands that load a dump (lib/tiers/restore/database.ts,
 * the same text `tierback restore --database` prints). Read-only.
 */
import { lstat, opendir, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { NotFoundError } from '../../base/errors.js';
import { dumpFormat, planLoad } from '../../tiers/restore/database.js';
import { listPoints, type DumpRef, type Point } from '../../tiers/restore/points.js';
import { resolveInPoint, type Resolved } from './fspath.js';

export interface Entry {
  name: string;
  type: 'file' | 'folder' | 'link' | 'other';
  size: number;
  mtime: string;
  mode: string;
  /** Where a link points (shown, never followed). */
  target?: string | undefined;
}

export function modeString(mode: number, type: Entry['type']): string {
  const t = type === 'folder' ? 'd' : type === 'link' ? 'l' : type === 'file' ? '-' : '?';
  const rwx = (b: number) => `${b & 4 ? 'r' : '-'}${b & 2 ? 'w' : '-'}${b & 1 ? 'x' : '-'}`;
  return t + rwx((mode >> 6) & 7) + rwx((mode >> 3) & 7) + rwx(mode & 7);
}

/** Points of the app, oldest first, each with what changed since the one before (from the history's counts). */
export interface PointView extends Point {
  deltaFiles?: number | undefined;
  deltaBytes?: number | undefined;
}

export async function pointsOf(site: Site, app: ResolvedApp, root: string | undefined): Promise<PointView[]> {
  const points = await listPoints(site, app, { root });
  return points.map((p, i) => {
    const prev = points[i - 1];
    const v: PointView = { ...p };
    if (prev?.files !== undefined && p.files !== undefined) v.deltaFiles = p.files - prev.files;
    if (prev?.bytes !== undefined && p.bytes !== undefined) v.deltaBytes = p.bytes - prev.bytes;
    return v;
  });
}

export function findPoint(points: readonly Point[], id: string | undefined): Point {
  const p = points.find((x) => x.id === id);
  if (!p) throw new NotFoundError(`no point in time "${id ?? ''}" of this app here`, 'open the app to see its points');
  return p;
}

export async function resolveEntry(point: Point, rel: string | undefined): Promise<Resolved> {
  return resolveInPoint(point.disk, rel);
}

function entryOf(name: string, st: import('node:fs').Stats, target?: string): Entry {
  const type: Entry['type'] = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
  return { name, type, size: st.size, mtime: st.mtime.toISOString(), mode: modeString(st.mode, type), ...(target !== undefined ? { target } : {}) };
}

export const PAGE = 1000;
export const MAX_PAGE = 10_000;

/**
 * Entries `from`..`from+limit` of a folder, in the folder's own order (a snapshot's folder does not
 * change, so pages are stable), sorted by name within the page; `more` when entries are left.
 * Entries are read one at a time (opendir): a folder of a million names costs one page.
 */
export async function listFolder(dir: string, from = 0, limit = PAGE): Promise<{ entries: Entry[]; more: boolean }> {
  const d = await opendir(dir, { bufferSize: 256 });
  const entries: Entry[] = [];
  let i = 0;
  let more = false;
  let batch: string[] = [];
  // Names are read one at a time; their lstat()s go out LSTAT_BATCH at a time (libuv's thread pool
  // runs them side by side), so a page of 10,000 costs a fraction of 10,000 sequential calls.
  const flush = async () => {
    const stats = await Promise.all(batch.map((n) => lstat(path.join(dir, n)).catch(() => undefined)));
    const links = await Promise.all(batch.map((n, k) => (stats[k]?.isSymbolicLink() ? readlink(path.join(dir, n)).catch(() => '?') : undefined)));
    batch.forEach((n, k) => {
      const st = stats[k];
      if (st) entries.push(entryOf(n, st, links[k]));
    });
    batch = [];
  };
  for await (const e of d) {
    if (i++ < from) continue;
    if (entries.length + batch.length >= limit) {
      more = true;
      break;
    }
    batch.push(e.name);
    if (batch.length >= LSTAT_BATCH) await flush();
  }
  await flush();
  if (more) await d.close().catch(() => undefined);
  entries.sort((a, b) => (a.type === 'folder') !== (b.type === 'folder') ? (a.type === 'folder' ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { entries, more };
}

const LSTAT_BATCH = 64;

/** A name or path pattern: `*` and `?` as in a shell (`*` not crossing `/`, `**` crossing), else a substring; case-insensitive. */
export function matcher(pattern: string): (rel: string) => boolean {
  const p = pattern.trim();
  if (!/[*?]/.test(p)) {
    const needle = p.toLowerCase();
    return (rel) => rel.toLowerCase().includes(needle);
  }
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern without a slash matches a name anywhere; with one, a path from the point's top.
  const r = new RegExp(p.includes('/') ? `^${re}$` : `(^|/)${re}$`, 'i');
  return (rel) => r.test(rel);
}

export interface Hit {
  point: string;
  at: string;
  path: string;
  size: number;
  mtime: string;
  type: Entry['type'];
}

/** Every entry under `dir` whose path matches, depth first, one entry at a time. */
async function* walk(dir: string, rel: string, match: (rel: string) => boolean, budget: { left: number }): AsyncGenerator<{ rel: string; entry: Entry }> {
  let d;
  try {
    d = await opendir(dir, { bufferSize: 256 });
  } catch {
    return;
  }
  for await (const e of d) {
    if (--budget.left < 0) {
      await d.close().catch(() => undefined);
      return;
    }
    const r = rel ? `${rel}/${e.name}` : e.name;
    const full = path.join(dir, e.name);
    const st = await lstat(full).catch(() => undefined);
    if (!st) continue;
    if (match(r)) yield { rel: r, entry: entryOf(e.name, st) };
    if (st.isDirectory()) yield* walk(full, r, match, budget);
  }
}

export const FIND_LIMIT = 200;
/** Entries looked at in all, across points, before a search stops (and says so). */
export const FIND_BUDGET = 2_000_000;

/** Streams the matches across `points` (newest first), up to `limit`; the last item says whether the search was cut. */
export async function* findAcross(points: readonly Point[], pattern: string, limit = FIND_LIMIT): AsyncGenerator<Hit | { done: true; more: boolean }> {
  const match = matcher(pattern);
  const budget = { left: FIND_BUDGET };
  let n = 0;
  for (const p of [...points].reverse()) {
    let base: string;
    try {
      base = (await resolveInPoint(p.disk, '')).disk;
    } catch {
      continue;
    }
    for await (const h of walk(base, '', match, budget)) {
      if (n >= limit) {
        yield { done: true, more: true };
        return;
      }
      n++;
      yield { point: p.id, at: p.at.toISOString(), path: h.rel, size: h.entry.size, mtime: h.entry.mtime, type: h.entry.type };
    }
    if (budget.left < 0) {
      yield { done: true, more: true };
      return;
    }
  }
  yield { done: true, more: false };
}

export interface DumpView {
  point: string;
  dump: DumpRef;
  /** The plain commands that load it into a new database (empty: not a single-database dump). */
  commands: string[];
  target?: string | undefined;
}

/** Each dump of the app's points with the commands `tierback restore --database` would run for it. */
export function dumpsOf(points: readonly Point[]): DumpView[] {
  const out: DumpView[] = [];
  for (const p of [...points].reverse()) {
    for (const d of p.dumps) {
      const file = path.join(p.disk, d.file);
      const format = d.db === 'all' ? undefined : dumpFormat(file);
      if (!format) {
        out.push({ point: p.id, dump: d, commands: [] });
        continue;
      }
      const target = format === 'sqlite' ? `/tmp/restore/${d.db}-restored.sqlite3` : `${d.db.replace(/[^A-Za-z0-9_]/g, '_')}_restored`;
      const commands = planLoad(format, file, target, {}, 'my.cnf').printable;
      out.push({ point: p.id, dump: d, commands, target });
    }
  }
  return out;
}
