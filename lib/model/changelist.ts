/**
 * Change lists (`<app dir>/.tierback-files.gz`, docs/remote.md#change-lists): every entry a job wrote
 * into an app's folder, in one sorted, gzip-compressed text file written from the walk the job already
 * does for its manifest (no second walk). A pull compares the new list with the one in its current
 * snapshot (a streaming merge of two sorted lists: memory stays flat) and copies only what changed.
 *
 *   # tierback files v1
 *   # run 20260201T030000-a1b2c3
 *   d 0 1767225600000000000 755 db
 *   f 48213 1767225600123456789 644 db/shop-2026-02-01T030000Z.sql.gz
 *   l 11 1767225600000000000 777 current
 *   # end entries=3 files=1 bytes=48213
 *
 * Fields: type (f file, d folder, l symlink, o other), size (0 for folders), mtime in ns, mode (octal permission
 * bits), path (the rest of the line, relative to the app's folder). Entries are sorted by path,
 * component by component (a folder's entries right after it). The manifest and the list itself are
 * not listed. A name holding a newline or a carriage return cannot be listed: the list then says
 * `# incomplete`, and a pull copies that folder in full. A list without its `# end` line (cut short)
 * or out of order is not trusted either.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { lstat, opendir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import { CHANGE_LIST_FILE, MANIFEST_FILE } from './convention.js';
import { FILE_MODE } from '../base/fsutil.js';

export const CHANGE_LIST_HEADER = '# tierback files v1';

export type EntryType = 'f' | 'd' | 'l' | 'o';

export interface ListEntry {
  rel: string;
  type: EntryType;
  size: number;
  mtimeNs: bigint;
  mode: number;
}

/** A list that cannot be trusted (missing, unreadable, cut short, out of order, incomplete). */
export class ChangeListError extends Error {}

/**
 * Path order of lists: component by component, each by JS string order (what the walk yields). The
 * same as comparing the strings with "/" below every other character; done without splitting.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === 47) return -1; // a's component ended first: a is before b
    if (y === 47) return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

function typeOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  return st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'o';
}

/**
 * Every entry below `dir` (folders too), in list order, with lstat's facts; never follows symlinks.
 * Holds one folder's names at a time. `skipTop` names top-level entries left out (manifest, list).
 */
export async function* walkSorted(dir: string, rel = '', skipTop: readonly string[] = [MANIFEST_FILE, CHANGE_LIST_FILE, `${CHANGE_LIST_FILE}.tmp`]): AsyncGenerator<ListEntry> {
  let names: string[] = [];
  try {
    const h = await opendir(rel ? path.join(dir, rel) : dir);
    for await (const e of h) names.push(e.name);
  } catch {
    return;
  }
  names = names.filter((n) => rel || !skipTop.includes(n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(dir, r), { bigint: true }).catch(() => undefined);
    if (!st) continue; // vanished meanwhile
    const type = typeOf(st);
    // A folder's size depends on the filesystem (4096 on ext4, its names' length on btrfs): listed as 0.
    yield { rel: r, type, size: type === 'd' ? 0 : Number(st.size), mtimeNs: st.mtimeNs, mode: Number(st.mode & 0o7777n) };
    if (type === 'd') yield* walkSorted(dir, r, skipTop);
  }
}

/** Writes a list as it is walked: streamed through gzip, renamed into place by `close`. */
export class ChangeListWriter {
  private readonly gz: Gzip;
  private readonly out: WriteStream;
  private entries = 0;
  private files = 0;
  private bytes = 0;
  private incomplete = false;
  private readonly tmp: string;

  constructor(
    private readonly file: string,
    run: string | undefined,
  ) {
    this.tmp = `${file}.tmp`;
    this.gz = createGzip({ level: 6 });
    this.out = createWriteStream(this.tmp, { mode: FILE_MODE, flags: 'w' });
    this.gz.pipe(this.out);
    this.gz.write(`${CHANGE_LIST_HEADER}\n${run ? `# run ${run}\n` : ''}`);
  }

  async add(e: ListEntry): Promise<void> {
    if (/[\n\r]/.test(e.rel)) {
      this.incomplete = true;
      return;
    }
    this.entries++;
    if (e.type === 'f') {
      this.files++;
      this.bytes += e.size;
    }
    if (!this.gz.write(`${e.type} ${e.size} ${e.mtimeNs} ${e.mode.toString(8)} ${e.rel}\n`)) await once(this.gz, 'drain');
  }

  async close(): Promise<void> {
    if (this.incomplete) this.gz.write('# incomplete\n');
    this.gz.end(`# end entries=${this.entries} files=${this.files} bytes=${this.bytes}\n`);
    await once(this.out, 'finish');
    await rename(this.tmp, this.file);
  }

  async abort(): Promise<void> {
    this.gz.destroy();
    this.out.destroy();
    await rm(this.tmp, { force: true });
  }
}

export interface ListTotals {
  run: string | undefined;
  /** Folders listed (counted while reading; not in the end line). */
  dirs?: number;
  entries: number;
  files: number;
  bytes: number;
}

/** The lines of a gzip file, read in large chunks (no per-line stream machinery). */
async function* gzLines(file: string): AsyncGenerator<string[]> {
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const input = createGunzip({ chunkSize: 1 << 18 });
  raw.on('error', (err) => input.destroy(err));
  raw.pipe(input);
  input.setEncoding('utf8');
  let rest = '';
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      yield lines;
    }
    if (rest) yield [rest];
  } finally {
    input.destroy();
    raw.destroy();
  }
}

/** Parses `<type> <size> <mtime ns> <octal mode> <path>`; undefined when the line is not an entry. */
function parseEntry(line: string): ListEntry | undefined {
  const type = line[0];
  if ((type !== 'f' && type !== 'd' && type !== 'l' && type !== 'o') || line[1] !== ' ') return undefined;
  const s1 = line.indexOf(' ', 2);
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
  if (s3 < 0 || s3 + 1 >= line.length) return undefined;
  const size = line.slice(2, s1);
  const mtime = line.slice(s1 + 1, s2);
  const mode = line.slice(s2 + 1, s3);
  if (!/^\d+$/.test(size) || !/^\d+$/.test(mtime) || !/^[0-7]+$/.test(mode)) return undefined;
  return { rel: line.slice(s3 + 1), type, size: Number(size), mtimeNs: BigInt(mtime), mode: parseInt(mode, 8) };
}

/** True when `rel` is absolute or has an empty, `.` or `..` component. */
function leaves(rel: string): boolean {
  if (rel.startsWith('/') || rel.endsWith('/') || rel.includes('//')) return true;
  if (!rel.includes('.')) return false;
  return rel.split('/').some((c) => c === '.' || c === '..');
}

/**
 * Streams the entries of a list, checking it as it goes: header, order, no `..` or absolute path,
 * and at the end the `# end` totals. Throws ChangeListError for anything it cannot trust. `totals`
 * is filled once the iteration has finished.
 */
export async function* readList(file: string, totals?: ListTotals): AsyncGenerator<ListEntry> {
  let n = 0;
  let prev: string | undefined;
  let end: ListTotals | undefined;
  let run: string | undefined;
  const seen = { entries: 0, files: 0, bytes: 0, dirs: 0 };
  try {
    for await (const lines of gzLines(file)) {
      for (const line of lines) {
        n++;
        if (n === 1) {
          if (line !== CHANGE_LIST_HEADER) throw new ChangeListError(`${file}: not a change list (first line ${JSON.stringify(line.slice(0, 40))})`);
          continue;
        }
        if (end) throw new ChangeListError(`${file}: line ${n} after the end line`);
        if (line.startsWith('# run ')) run = line.slice(6);
        else if (line === '# incomplete') throw new ChangeListError(`${file}: the job could not list every name (a name with a newline)`);
        else if (line.startsWith('# end ')) {
          const m = /^# end entries=(\d+) files=(\d+) bytes=(\d+)$/.exec(line);
          if (!m) throw new ChangeListError(`${file}: bad end line`);
          end = { run, entries: Number(m[1]), files: Number(m[2]), bytes: Number(m[3]) };
        } else {
          const e = parseEntry(line);
          if (!e) throw new ChangeListError(`${file}: line ${n} is not an entry`);
          if (leaves(e.rel)) throw new ChangeListError(`${file}: line ${n}: path ${JSON.stringify(e.rel)} leaves the folder`);
          if (prev !== undefined && comparePaths(prev, e.rel) >= 0) throw new ChangeListError(`${file}: line ${n}: out of order`);
          prev = e.rel;
          seen.entries++;
          if (e.type === 'd') seen.dirs++;
          if (e.type === 'f') {
            seen.files++;
            seen.bytes += e.size;
          }
          yield e;
        }
      }
    }
  } catch (err) {
    if (err instanceof ChangeListError) throw err;
    throw new ChangeListError(`${file}: ${(err as Error).message}`);
  }
  if (!end) throw new ChangeListError(`${file}: cut short (no end line)`);
  if (end.entries !== seen.entries || end.files !== seen.files || end.bytes !== seen.bytes) throw new ChangeListError(`${file}: its end line does not match its entries`);
  if (totals) Object.assign(totals, end, { dirs: seen.dirs });
}

/** The run a list names (its first lines); undefined when none or unreadable. */
export async function listRun(file: string): Promise<string | undefined> {
  const raw = createReadStream(file);
  const input = createGunzip();
  raw.on('error', (err) => input.destroy(err));
  raw.pipe(input);
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    let i = 0;
    for await (const line of lines) {
      if (line.startsWith('# run ')) return line.slice(6);
      if (++i > 2) return undefined;
    }
  } catch {
    return undefined;
  } finally {
    lines.close();
    input.destroy();
    raw.destroy();
  }
  return undefined;
}

export const sameEntry = (a: ListEntry, b: ListEntry): boolean => a.type === b.type && a.size === b.size && a.mtimeNs === b.mtimeNs && a.mode === b.mode;

export interface Difference {
  /** In `b` only, or different: copy it. `retyped`: it was another type before (remove that first). */
  changed?: ListEntry;
  /** The entry in `a` when `changed` is in both (its facts differ). */
  before?: ListEntry;
  retyped?: boolean;
  /** In `a` only: delete it. */
  deleted?: ListEntry;
}

/**
 * The differences from `a` (older) to `b` (newer), both sorted: one streaming merge, memory flat.
 * A folder whose own facts are equal but whose content changed is not itself reported.
 */
export async function* diffLists(a: AsyncIterable<ListEntry>, b: AsyncIterable<ListEntry>): AsyncGenerator<Difference> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  let x = await ia.next();
  let y = await ib.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && comparePaths(x.value.rel, y.value.rel) < 0)) {
      yield { deleted: x.value };
      x = await ia.next();
    } else if (x.done || comparePaths(x.value.rel, y.value.rel) > 0) {
      yield { changed: y.value };
      y = await ib.next();
    } else {
      if (!sameEntry(x.value, y.value)) yield { changed: y.value, before: x.value, retyped: x.value.type !== y.value.type };
      x = await ia.next();
      y = await ib.next();
    }
  }
}
