/**
 * The manifest of a backup folder (`<app folder>/.tierback-manifest`), written by every job and
 * read by restore drills. It is a sha256sum file (so `grep -v '^#' .tierback-manifest | sha256sum -c`
 * checks it without tierback) of every dump and a random sample of the other files, plus `#` lines:
 *
 *   # tierback manifest v1
 *   # files=120 bytes=48213
 *   # run 20260201T030000-a1b2c3
 *   # dump db/shop-2026-02-01T030000Z.sqlite.sql.gz tables=3 rows=12
 *   # table db/shop-2026-02-01T030000Z.sqlite.sql.gz rows=10 "orders"
 *   <sha256>  db/shop-2026-02-01T030000Z.sqlite.sql.gz
 *   <sha256>  files/a.txt
 *
 * Totals count every non-folder entry except the manifest and the change list (tierback's own files). Walks stream; memory stays flat.
 * `# table` lines hold the rows of each table of a dump (MySQL/MariaDB, PostgreSQL custom format and
 * SQLite), counted from the dump itself (lib/tiers/engines/dumprows.ts); the name is a JSON string.
 * `# run` names the job run that wrote the folder: a pull compares it before and after copying the
 * app, to tell whether the folder was replaced meanwhile (lib/tiers/pull/consistency.ts).
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { lstat, open, opendir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CHANGE_LIST_FILE, DUMP_DIR, MANIFEST_FILE, manifestPath } from '../../model/layout.js';
import { parseDumpFileName } from '../../model/names.js';
import { ChangeListWriter, walkSorted } from '../../model/changelist.js';
import { engineOfFile } from '../engines/registry.js';
import type { Exec } from '../../base/exec.js';
import { writeFileAtomic } from '../../base/fsutil.js';

export const MANIFEST_HEADER = '# tierback manifest v1';
/** Files (other than dumps) whose checksum the manifest keeps. */
export const MANIFEST_SAMPLE = 32;

export interface DumpFacts {
  /** Tables the dump creates (undefined when the format does not say). */
  tables?: number | undefined;
  /** Rows the dump inserts (every table). */
  rows?: number | undefined;
  /** Rows per table, counted from the dump itself (undefined in manifests of older versions). */
  tableRows?: Map<string, number> | undefined;
}

export interface Manifest {
  files: number;
  bytes: number;
  /** relpath -> sha256 hex. */
  sums: Map<string, string>;
  /** dump relpath (db/<name>) -> facts. */
  dumps: Map<string, DumpFacts>;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Safe for a sha256sum line (no newline or backslash, which sha256sum would escape). */
function plainName(rel: string): boolean {
  return !/[\n\r\\]/.test(rel);
}

/** Streams every non-folder entry below `dir` (relative paths), never following symlinks. */
export async function* walkFiles(dir: string, rel = ''): AsyncGenerator<{ rel: string; file: boolean; size: number }> {
  let h;
  try {
    h = await opendir(rel ? path.join(dir, rel) : dir);
  } catch {
    return;
  }
  for await (const e of h) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walkFiles(dir, r);
    else if (e.isFile()) yield { rel: r, file: true, size: (await lstat(path.join(dir, r)).catch(() => ({ size: 0 }))).size };
    else yield { rel: r, file: false, size: 0 };
  }
}

/** Tables and rows (per table) a dump holds, read from the dump itself (streamed, one pass). */
export async function dumpFacts(file: string, exec: Exec): Promise<DumpFacts> {
  const found = engineOfFile(path.basename(file));
  return found ? found.engine.dumpFacts(file, exec) : {};
}

/** The run a manifest's text names (its `# run <id>` line), if any. */
export function runOf(manifest: string): string | undefined {
  return /^# run (\S+)$/m.exec(manifest)?.[1];
}

/**
 * The job run that wrote `dir` (its manifest's `# run` line, in the first lines), or undefined when
 * the folder has no manifest or one written before run lines existed. Reads 4 KiB, not the sums.
 */
export async function manifestRun(dir: string): Promise<string | undefined> {
  const head = await manifestHead(dir);
  return head === undefined ? undefined : runOf(head);
}

/** The totals of a manifest's text (its `# files=N bytes=M` line), if it has them. */
export function totalsOf(manifest: string): { files: number; bytes: number } | undefined {
  const m = /^# files=(\d+) bytes=(\d+)/m.exec(manifest);
  return m ? { files: Number(m[1]), bytes: Number(m[2]) } : undefined;
}

/**
 * The totals `dir`'s manifest gives (files and bytes the job wrote), from its first lines; undefined
 * when the folder has no manifest or it has no totals. Reads 4 KiB, not the sums.
 */
export async function manifestTotals(dir: string): Promise<{ files: number; bytes: number } | undefined> {
  const head = await manifestHead(dir);
  return head === undefined ? undefined : totalsOf(head);
}

/** The first 4 KiB of `dir`'s manifest (never through a symlink), or undefined. */
async function manifestHead(dir: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(manifestPath(dir), constants.O_RDONLY | constants.O_NOFOLLOW);
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/** Reads a manifest; undefined when the folder has none. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(manifestPath(dir), 'utf8');
  } catch {
    return undefined;
  }
  const m: Manifest = { files: -1, bytes: -1, sums: new Map(), dumps: new Map() };
  for (const line of text.split('\n')) {
    let x;
    const totals = line.startsWith('# files=') ? totalsOf(line) : undefined;
    if (totals) {
      m.files = totals.files;
      m.bytes = totals.bytes;
    } else if ((x = /^# dump (\S+)(.*)$/.exec(line))) {
      const facts: DumpFacts = {};
      const t = /tables=(\d+)/.exec(x[2]!);
      const r = /rows=(\d+)/.exec(x[2]!);
      if (t) facts.tables = Number(t[1]);
      if (r) facts.rows = Number(r[1]);
      m.dumps.set(x[1]!, { ...m.dumps.get(x[1]!), ...facts });
    } else if ((x = /^# table (\S+) rows=(\d+) (".*")$/.exec(line))) {
      let table: unknown;
      try {
        table = JSON.parse(x[3]!);
      } catch {
        continue;
      }
      if (typeof table !== 'string') continue;
      const facts = m.dumps.get(x[1]!) ?? {};
      (facts.tableRows ??= new Map()).set(table, Number(x[2]));
      m.dumps.set(x[1]!, facts);
    } else if ((x = /^([0-9a-f]{64}) {2}(.+)$/.exec(line))) {
      m.sums.set(x[2]!, x[1]!);
    }
  }
  return m;
}

/**
 * Writes the manifest of `dir` (a job's staging folder), naming the job `run` that wrote it. Checksums and dump facts of dumps the
 * `previous` backup's manifest already describes (carried-over hard links) are reused.
 */
export async function writeManifest(dir: string, exec: Exec, previous?: string, run?: string, opts: { changeList?: boolean } = {}): Promise<Manifest> {
  const prev = previous ? await readManifest(previous) : undefined;
  let files = 0;
  let bytes = 0;
  const dumps: string[] = [];
  const sample: string[] = [];
  let seen = 0;
  // The same walk writes the folder's change list (lib/model/changelist.ts); like the manifest, the totals leave it out.
  const list = opts.changeList ? new ChangeListWriter(path.join(dir, CHANGE_LIST_FILE), run) : undefined;
  try {
    for await (const e of walkSorted(dir)) {
      await list?.add(e);
      if (e.type === 'd') continue;
      files++;
      bytes += e.size;
      if (e.type !== 'f' || !plainName(e.rel)) continue;
      if (e.rel.startsWith(`${DUMP_DIR}/`) && parseDumpFileName(e.rel.slice(DUMP_DIR.length + 1))) {
        dumps.push(e.rel);
        continue;
      }
      // Reservoir sample: every file has the same chance, whatever the tree's size.
      seen++;
      if (sample.length < MANIFEST_SAMPLE) sample.push(e.rel);
      else {
        const j = Math.floor(Math.random() * seen);
        if (j < MANIFEST_SAMPLE) sample[j] = e.rel;
      }
    }
    await list?.close();
  } catch (err) {
    await list?.abort();
    throw err;
  }
  const m: Manifest = { files, bytes, sums: new Map(), dumps: new Map() };
  for (const d of dumps.sort()) {
    const old = prev?.sums.get(d);
    const oldFacts = prev?.dumps.get(d);
    m.sums.set(d, old ?? (await sha256File(path.join(dir, d))));
    m.dumps.set(d, old && oldFacts ? oldFacts : await dumpFacts(path.join(dir, d), exec).catch(() => ({})));
  }
  for (const f of sample.sort()) m.sums.set(f, await sha256File(path.join(dir, f)));
  const lines = [MANIFEST_HEADER, `# check without tierback: grep -v '^#' ${MANIFEST_FILE} | sha256sum -c`, `# files=${files} bytes=${bytes}`];
  if (run) lines.push(`# run ${run}`);
  for (const [d, f] of m.dumps) {
    lines.push(`# dump ${d}${f.tables !== undefined ? ` tables=${f.tables}` : ''}${f.rows !== undefined ? ` rows=${f.rows}` : ''}`);
    for (const [t, n] of f.tableRows ?? []) lines.push(`# table ${d} rows=${n} ${JSON.stringify(t)}`);
  }
  for (const [f, sum] of m.sums) lines.push(`${sum}  ${f}`);
  await writeFileAtomic(manifestPath(dir), `${lines.join('\n')}\n`);
  return m;
}
