/** Helpers shared by job types: rsync argv, source checks, dump checks, option files. Pure or read-only. */
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DUMP_DIR, parseDumpFileName } from '../convention.js';
import type { Exec } from '../exec.js';
import { TierbackError } from '../errors.js';
import type { ResolvedApp } from '../inventory/model.js';
import type { DumpCheck, VerifyProblem } from './types.js';

/** rsync exit code for "some files vanished before they could be transferred": a warning. */
export const RSYNC_VANISHED = 24;

/**
 * Base rsync options of every copy: archive, numeric ids, the whole file list first, and hard links
 * kept (-H) between the files one copy holds (an app's folder; rails copies shared/ and the data
 * folder on their own). Cost measured by bench/job-hardlinks.ts (docs/decisions.md).
 */
export const RSYNC_BASE = ['-a', '--numeric-ids', '--no-inc-recursive', '-H'] as const;

export interface RsyncArgs {
  source: string;
  dest: string;
  /** Previous copy of the same folder: unchanged files become hard links to it. */
  linkDest?: string | undefined;
  excludes?: readonly string[];
  filters?: readonly string[];
  extra?: readonly string[];
  /** Copy the source itself (a file or a symlink), not its contents. */
  single?: boolean;
}

/** rsync argv copying `source/` into `dest/` (or `source` itself when single). Never a shell string. */
export function rsyncArgv(a: RsyncArgs): string[] {
  const argv = ['rsync', ...RSYNC_BASE];
  if (a.linkDest) argv.push(`--link-dest=${a.linkDest}`);
  for (const f of a.filters ?? []) argv.push(`--filter=${f}`);
  for (const e of a.excludes ?? []) argv.push(`--exclude=${e}`);
  argv.push(...(a.extra ?? []));
  if (a.single) argv.push(a.source, a.dest.endsWith('/') ? a.dest : `${a.dest}/`);
  else argv.push(`${a.source.replace(/\/+$/, '')}/`, `${a.dest.replace(/\/+$/, '')}/`);
  return argv;
}

/** A source folder of the app that must exist: a clear error naming the inventory path if not. */
export async function requireDir(dir: string, app: ResolvedApp, what: string, key = 'path'): Promise<void> {
  let st;
  try {
    st = await stat(dir);
  } catch (err) {
    throw new TierbackError(`app "${app.name}": ${what} ${dir} does not exist (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: `check apps[${app.index}].${key} in the inventory, and that the job runs on the machine where the app lives`,
    });
  }
  if (!st.isDirectory()) {
    throw new TierbackError(`app "${app.name}": ${what} ${dir} is not a folder`, { hint: `check apps[${app.index}].${key} in the inventory` });
  }
}

export async function requireFile(file: string, app: ResolvedApp, what: string, key = 'path'): Promise<void> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
  } catch (err) {
    throw new TierbackError(`app "${app.name}": ${what} ${file} is missing or not a file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      hint: `check apps[${app.index}].${key} in the inventory`,
    });
  }
}

export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function isPresent(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** The check a dump file gets, from its name (as written by the runner). */
export function checkForFile(file: string): DumpCheck | undefined {
  if (file.endsWith('.mysql.sql.gz')) return 'mysqldump';
  if (file.endsWith('.sqlite.sql.gz')) return 'sqlite';
  if (file.endsWith('.pgdump')) return 'pg_restore';
  if (file.endsWith('.pgdumpall.sql.gz')) return 'pg_dumpall';
  if (file.endsWith('.gz')) return 'gzip';
  return undefined;
}

/** Streams a gzip file to the end; returns its last bytes (decompressed) and size. Memory stays flat. */
export async function gzipTail(file: string, keep = 512): Promise<{ tail: string; bytes: number }> {
  let tail = Buffer.alloc(0);
  let bytes = 0;
  const gunzip = createGunzip();
  createReadStream(file).pipe(gunzip);
  for await (const chunk of gunzip) {
    const b = chunk as Buffer;
    bytes += b.length;
    tail = Buffer.concat([tail, b]);
    if (tail.length > keep) tail = tail.subarray(tail.length - keep);
  }
  return { tail: tail.toString('utf8'), bytes };
}

/** Checks one dump for completeness; returns a problem message or undefined. */
export async function checkDump(file: string, check: DumpCheck, exec: Exec, signal?: AbortSignal): Promise<string | undefined> {
  try {
    if (check === 'pg_restore') {
      const r = await exec.run({ argv: ['pg_restore', '--list', file] }, signal);
      if (!/;\s*Archive created at/.test(r.stdout) && !/TABLE|SCHEMA|DATABASE/.test(r.stdout)) return 'pg_restore --list shows no archive header';
      return undefined;
    }
    const { tail, bytes } = await gzipTail(file);
    if (bytes === 0) return 'the dump is empty';
    if (check === 'mysqldump' && !/-- Dump completed/.test(tail)) return 'no "-- Dump completed" trailer: mysqldump stopped early';
    if (check === 'pg_dumpall' && !/PostgreSQL database cluster dump complete/.test(tail)) return 'no "cluster dump complete" trailer: pg_dumpall stopped early';
    if (check === 'sqlite' && !/COMMIT;\s*$/.test(tail)) return 'no final "COMMIT;": the sqlite3 dump stopped early';
    return undefined;
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
}

/** Checks every dump in `<dir>/db/`. */
export async function verifyDumps(dir: string, exec: Exec, signal?: AbortSignal, opts: { required?: boolean } = {}): Promise<VerifyProblem[]> {
  const dbDir = path.join(dir, DUMP_DIR);
  let names: string[] = [];
  try {
    names = await readdir(dbDir);
  } catch {
    return opts.required ? [{ path: DUMP_DIR, message: 'no db/ folder: no dump was written' }] : [];
  }
  const problems: VerifyProblem[] = [];
  let dumps = 0;
  for (const n of names.sort()) {
    if (!parseDumpFileName(n)) continue;
    dumps++;
    const check = checkForFile(n);
    if (!check) continue;
    const msg = await checkDump(path.join(dbDir, n), check, exec, signal);
    if (msg) problems.push({ path: `${DUMP_DIR}/${n}`, message: msg });
  }
  if (opts.required && dumps === 0) problems.push({ path: DUMP_DIR, message: 'db/ holds no dump' });
  return problems;
}

/** A MySQL/MariaDB client option file; values quoted as the option-file syntax wants. */
export function mysqlOptionFile(o: { user?: string | undefined; password?: string | undefined; host?: string | undefined; port?: number | undefined; socket?: string | undefined }): string {
  const q = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['[client]'];
  if (o.user) lines.push(`user=${q(o.user)}`);
  if (o.password !== undefined) lines.push(`password=${q(o.password)}`);
  if (o.host) lines.push(`host=${q(o.host)}`);
  if (o.port) lines.push(`port=${o.port}`);
  if (o.socket) lines.push(`socket=${q(o.socket)}`);
  return `${lines.join('\n')}\n`;
}

/** mysqldump argv for one database (the option file must be the first argument). */
export function mysqldumpArgv(optionFile: string, db: string, tables: readonly string[] = []): string[] {
  return [
    'mysqldump',
    `--defaults-extra-file=${optionFile}`,
    '--single-transaction',
    '--quick',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    '--default-character-set=utf8mb4',
    '--',
    db,
    ...tables,
  ];
}

export function pgDumpArgv(o: { host?: string | undefined; port?: number | undefined; user?: string | undefined }, db: string): string[] {
  const argv = ['pg_dump', '--format=custom', '--no-password'];
  if (o.host) argv.push(`--host=${o.host}`);
  if (o.port) argv.push(`--port=${o.port}`);
  if (o.user) argv.push(`--username=${o.user}`);
  argv.push(`--dbname=${db}`);
  return argv;
}
