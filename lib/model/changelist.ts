/**
 * Change lists (`<app dir>/.tierback-files.gz`, docs/remote.md#change-lists): every entry a job wrote
 * into an app's folder, in one sorted, gzip-compressed text file written from the walk the job already
 * does for its manifest (no second walk). A pull compares the new list with the one in its current
 * snapshot (a streaming merge of two sorted lists, lib/model/changelist-diff.ts: memory stays flat) and copies only what changed.
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
import { lstat, open, opendir, rename, rm } from 'node:fs/promises';
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
  return comparePathsAt(a, 0, b, 0);
}

/** comparePaths of `a` from index `i` and `b` from `j` (a list line's path, without slicing it out). */
export function comparePathsAt(a: string, i: number, b: string, j: number): number {
  const n = Math.min(a.length - i, b.length - j);
  for (let k = 0; k < n; k++) {
    const x = a.charCodeAt(i + k);
    const y = b.charCodeAt(j + k);
    if (x === y) continue;
    if (x === 47) return -1; // a's component ended first: a is before b
    if (y === 47) return 1;
    return x < y ? -1 : 1;
  }
  return a.length - i - (b.length - j);
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

/**
 * The lines of a gzip file, read in 64 KB chunks into one buffer that is used again for each chunk
 * (no stream machinery per line, no new buffer per read: buffers that outlive two young-generation
 * collections are only freed by a full one, so per-read buffers piled up to ~14 MB while a pull
 * compared lists of a million entries).
 */
async function* gzLines(file: string): AsyncGenerator<string[]> {
  const fh = await open(file, 'r');
  const input = createGunzip({ chunkSize: 1 << 14 });
  input.setEncoding('utf8');
  const buf = Buffer.allocUnsafe(1 << 16);
  // Feeds the gunzip; a chunk is read into `buf` again only once the gunzip has taken the last one.
  // Destroyed (the reader stopped early, or bad data), a write's callback may never come: 'close' ends the feed.
  const closed = new Promise<void>((resolve) => input.once('close', resolve));
  const feed = (async () => {
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (input.destroyed) return;
        if (!bytesRead) break;
        await Promise.race([new Promise<void>((resolve, reject) => input.write(buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()))), closed]);
        if (input.destroyed) return;
      }
      input.end();
    } catch (err) {
      input.destroy(err as Error);
    }
  })();
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
    await feed;
    await fh.close();
  }
}

/** The number of the digits `line[from, to)` in `base` (10 or 8); -1 when empty or not all digits. */
function digits(line: string, from: number, to: number, base: 8 | 10): number {
  if (to <= from) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d >= base) return -1;
    v = v * base + d;
  }
  return v;
}

/**
 * Checks `<type> <size> <mtime ns> <octal mode> <path>` without allocating anything: the index where
 * the path starts, or -1 when the line is not an entry.
 */
function scanEntry(line: string): number {
  const type = line.charCodeAt(0);
  if ((type !== 102 && type !== 100 && type !== 108 && type !== 111) || line.charCodeAt(1) !== 32) return -1; // f d l o
  const s1 = line.indexOf(' ', 2);
  const s2 = s1 < 0 ? -1 : line.indexOf(' ', s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(' ', s2 + 1);
  if (s3 < 0 || s3 + 1 >= line.length) return -1;
  // The mtime's digits checked here (BigInt would also take "0x..", " 1" or "").
  if (digits(line, 2, s1, 10) < 0 || digits(line, s2 + 1, s3, 8) < 0 || s2 <= s1 + 1) return -1;
  for (let i = s1 + 1; i < s2; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return s3 + 1;
}

/** The entry of a line that scanEntry found to start its path at `at`. */
export function entryAt(line: string, at: number): ListEntry {
  const s1 = line.indexOf(' ', 2);
  const s2 = line.indexOf(' ', s1 + 1);
  return { rel: line.slice(at), type: line[0] as EntryType, size: digits(line, 2, s1, 10), mtimeNs: BigInt(line.slice(s1 + 1, s2)), mode: digits(line, s2 + 1, at - 1, 8) };
}

/** True when `rel` (from index `from`) is absolute or has an empty, `.` or `..` component (one scan for the dots, no split). */
export function leaves(rel: string, from = 0): boolean {
  if (rel.charCodeAt(from) === 47 || rel.charCodeAt(rel.length - 1) === 47 || rel.indexOf('//', from) >= 0) return true;
  for (let i = rel.indexOf('.', from); i >= 0; i = rel.indexOf('.', i + 1)) {
    if (i > from && rel.charCodeAt(i - 1) !== 47) continue; // a dot inside a name
    const j = rel.charCodeAt(i + 1) === 46 ? i + 2 : i + 1; // after "." or ".."
    if (j >= rel.length || rel.charCodeAt(j) === 47) return true;
  }
  return false;
}

/** A batch of a list's entry lines, as read: `at[i]` is where the path of `lines[i]` starts. */
export interface LineBatch {
  lines: string[];
  at: number[];
}

/**
 * Streams the entry lines of a list, checking it as it goes: header, each line's fields, order, no
 * `..` or absolute path, and at the end the `# end` totals. Throws ChangeListError for anything it
 * cannot trust. `totals` is filled once the iteration has finished. One batch per decompressed chunk
 * (about 1,000 lines), only one alive at a time; nothing is allocated per line but the line itself
 * (no entry object, no path string, no BigInt): comparing two lists of a million entries that are
 * mostly the same makes little garbage (docs/decisions.md, "Memory of a pull").
 */
export async function* readListLines(file: string, totals?: ListTotals): AsyncGenerator<LineBatch> {
  let n = 0;
  let prev: string | undefined;
  let prevAt = 0;
  let end: ListTotals | undefined;
  let run: string | undefined;
  const seen = { entries: 0, files: 0, bytes: 0, dirs: 0 };
  try {
    for await (const lines of gzLines(file)) {
      const batch: LineBatch = { lines: [], at: [] };
      for (const line of lines) {
        n++;
        if (n === 1) {
          if (line !== CHANGE_LIST_HEADER) throw new ChangeListError(`${file}: not a change list (first line ${JSON.stringify(line.slice(0, 40))})`);
          continue;
        }
        if (end) throw new ChangeListError(`${file}: line ${n} after the end line`);
        if (line.charCodeAt(0) !== 35) {
          // An entry (the common case first).
          const at = scanEntry(line);
          if (at < 0) throw new ChangeListError(`${file}: line ${n} is not an entry`);
          if (leaves(line, at)) throw new ChangeListError(`${file}: line ${n}: path ${JSON.stringify(line.slice(at))} leaves the folder`);
          if (prev !== undefined && comparePathsAt(prev, prevAt, line, at) >= 0) throw new ChangeListError(`${file}: line ${n}: out of order`);
          prev = line;
          prevAt = at;
          seen.entries++;
          const type = line.charCodeAt(0);
          if (type === 100) seen.dirs++;
          else if (type === 102) {
            seen.files++;
            seen.bytes += digits(line, 2, line.indexOf(' ', 2), 10);
          }
          batch.lines.push(line);
          batch.at.push(at);
        } else if (line.startsWith('# run ')) run = line.slice(6);
        else if (line === '# incomplete') throw new ChangeListError(`${file}: the job could not list every name (a name with a newline)`);
        else if (line.startsWith('# end ')) {
          const m = /^# end entries=(\d+) files=(\d+) bytes=(\d+)$/.exec(line);
          if (!m) throw new ChangeListError(`${file}: bad end line`);
          end = { run, entries: Number(m[1]), files: Number(m[2]), bytes: Number(m[3]) };
        } else throw new ChangeListError(`${file}: line ${n} is not an entry`);
      }
      if (batch.lines.length) yield batch;
    }
  } catch (err) {
    if (err instanceof ChangeListError) throw err;
    throw new ChangeListError(`${file}: ${(err as Error).message}`);
  }
  if (!end) throw new ChangeListError(`${file}: cut short (no end line)`);
  if (end.entries !== seen.entries || end.files !== seen.files || end.bytes !== seen.bytes) throw new ChangeListError(`${file}: its end line does not match its entries`);
  if (totals) Object.assign(totals, end, { dirs: seen.dirs });
}

/** The entries of a list in batches (readListLines, each line made an entry). */
export async function* readListBatches(file: string, totals?: ListTotals): AsyncGenerator<ListEntry[]> {
  for await (const b of readListLines(file, totals)) yield b.lines.map((line, i) => entryAt(line, b.at[i]!));
}

/** The entries of a list one by one (readListBatches, flattened). */
export async function* readList(file: string, totals?: ListTotals): AsyncGenerator<ListEntry> {
  for await (const batch of readListBatches(file, totals)) yield* batch;
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
