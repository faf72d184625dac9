/**
 * Loading a dump into a database: the connection an app's dumps belong to (from its options or its
 * own configuration, overridable), the commands that load each dump format into a NEW database, and
 * counting what a loaded database holds (restore drills). Passwords go only into a 0600 option file
 * (MySQL) or the child's environment (PGPASSWORD); never argv, logs or printed commands.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import { RefusedError, TierbackError, UsageError } from '../errors.js';
import { describeCommand, type CommandSpec, type Exec } from '../exec.js';
import { FILE_MODE } from '../fsutil.js';
import type { ResolvedApp } from '../inventory/model.js';
import { mysqlOptionFile } from '../jobs/common.js';
import { SQLITE_SIDE_SUFFIXES, isSqliteWal, readPasswordFile, type DbConnection } from '../jobs/databases.js';
import { mysqlConnection, mysqlOptions } from '../jobs/mysql.js';
import { postgresqlOptions } from '../jobs/postgresql.js';
import { capistranoDir, railsOptions, readDatabaseYml } from '../jobs/rails.js';
import { parseWpConfig, wpConnection } from '../jobs/wordpress.js';

export type DumpFormat = 'sqlite' | 'mysql' | 'postgresql';

export function dumpFormat(file: string): DumpFormat | undefined {
  if (file.endsWith('.sqlite.sql.gz')) return 'sqlite';
  if (file.endsWith('.mysql.sql.gz')) return 'mysql';
  if (file.endsWith('.pgdump')) return 'postgresql';
  return undefined;
}

/** A database name tierback creates: plain, so it needs no quoting anywhere. */
export function checkNewDatabaseName(name: string, format: DumpFormat): void {
  if (format === 'sqlite') {
    if (!path.isAbsolute(name)) throw new UsageError(`--database "${name}" must be the absolute path of a new SQLite file`, 'e.g. --database /tmp/shop-restored.sqlite3');
    return;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new UsageError(`--database "${name}" is not a plain database name`, 'use letters, digits and "_", starting with a letter, e.g. shop_restored');
  }
}

/** What the app's own configuration says about its database: connection and live name (undefined when unknown here). */
export async function appDatabase(app: ResolvedApp, format: DumpFormat, db: string): Promise<{ conn: DbConnection; live: string | undefined }> {
  try {
    if (app.type === 'mysql' || app.type === 'postgresql') {
      const o = (app.type === 'mysql' ? mysqlOptions : postgresqlOptions).parse(app.options);
      const conn = app.type === 'mysql' ? mysqlConnection(o, app) : { host: o.host, port: o.port, socket: o.socket, user: o.user, password: o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : undefined };
      return { conn, live: db };
    }
    if (app.type === 'rails') {
      const o = railsOptions.parse(app.options);
      const current = path.join(await capistranoDir(app), 'current');
      const y = await readDatabaseYml(path.join(current, 'config', 'database.yml'), o.environment, app, { ignorePassword: o.password_file !== undefined });
      const password = o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : y.password;
      return { conn: { host: y.host, port: y.port, socket: y.socket, user: y.username, password }, live: format === 'sqlite' ? path.resolve(current, y.database) : y.database };
    }
    if (app.type === 'wordpress') {
      // WordPress also looks one folder up for wp-config.php.
      for (const file of [path.join(app.path, 'wp-config.php'), path.join(path.dirname(app.path), 'wp-config.php')]) {
        const text = await readFile(file, 'utf8').catch(() => undefined);
        if (text === undefined) continue;
        const c = parseWpConfig(text);
        if (c.name && c.user && c.host) return { conn: wpConnection({ name: c.name, user: c.user, password: c.password ?? '', host: c.host, tablePrefix: c.tablePrefix ?? 'wp_' }), live: c.name };
      }
    }
  } catch {
    // The live app is not on this machine (e.g. a backup server): only the dump's own name is known.
  }
  return { conn: {}, live: format === 'sqlite' ? undefined : db };
}

/** Connection settings given on the command line replace the app's own as a whole (a user without its password makes no sense). */
export function pickConnection(own: DbConnection, override: DbConnection | undefined): DbConnection {
  const given = Object.fromEntries(Object.entries(override ?? {}).filter(([, v]) => v !== undefined)) as DbConnection;
  return Object.keys(given).length ? given : own;
}

export interface LoadPlan {
  /** Commands in order; `pipe` entries are `from | to`. */
  steps: ({ kind: 'run'; command: CommandSpec } | { kind: 'pipe'; from: CommandSpec; to: CommandSpec })[];
  /** The commands as a person types them (passwords left out). */
  printable: string[];
}

function pgArgs(conn: DbConnection): string[] {
  const a: string[] = ['--no-password'];
  const host = conn.socket ?? conn.host;
  if (host) a.push(`--host=${host}`);
  if (conn.port) a.push(`--port=${conn.port}`);
  if (conn.user) a.push(`--username=${conn.user}`);
  return a;
}

/**
 * Plans loading `dumpFile` into the NEW database `target`. `optionFile` is where the MySQL option
 * file (0600) will be; the caller writes it with `mysqlOptionFile(conn)`.
 */
export function planLoad(format: DumpFormat, dumpFile: string, target: string, conn: DbConnection, optionFile: string): LoadPlan {
  const pgEnv = conn.password !== undefined ? { secretEnv: { PGPASSWORD: conn.password } } : {};
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const line = (argv: readonly string[]) => argv.map(q).join(' ');
  if (format === 'sqlite') {
    const from = { argv: ['gunzip', '-c', dumpFile] };
    const to = { argv: ['sqlite3', '-bail', target] };
    return { steps: [{ kind: 'pipe', from, to }], printable: [`${line(from.argv)} | ${line(to.argv)}`] };
  }
  if (format === 'mysql') {
    const mysql = ['mysql', `--defaults-extra-file=${optionFile}`];
    const create = { argv: [...mysql, '-e', `CREATE DATABASE \`${target}\``] };
    const from = { argv: ['gunzip', '-c', dumpFile] };
    const to = { argv: [...mysql, target] };
    return {
      steps: [{ kind: 'run', command: create }, { kind: 'pipe', from, to }],
      printable: [line(create.argv), `${line(from.argv)} | ${line(to.argv)}`],
    };
  }
  const create = { argv: ['createdb', ...pgArgs(conn), target], ...pgEnv };
  const restore = { argv: ['pg_restore', ...pgArgs(conn), '--no-owner', '--no-acl', '--exit-on-error', `--dbname=${target}`, dumpFile], ...pgEnv };
  return { steps: [{ kind: 'run', command: create }, { kind: 'run', command: restore }], printable: [line(create.argv), line(restore.argv)] };
}

/** Runs a load plan; the MySQL option file lives in a private temp folder for the duration. */
export async function runLoad(exec: Exec, format: DumpFormat, dumpFile: string, target: string, conn: DbConnection, signal?: AbortSignal): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-restore-'));
  try {
    const optionFile = path.join(dir, 'my.cnf');
    if (format === 'mysql') await writeFile(optionFile, mysqlOptionFile(conn), { mode: FILE_MODE });
    const plan = planLoad(format, dumpFile, target, conn, optionFile);
    for (const s of plan.steps) {
      if (s.kind === 'run') await exec.run(s.command, signal);
      else await exec.pipe(s.from, s.to, signal);
    }
    return plan.printable;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Refuses loading over the live database unless in place and confirmed. */
export function guardLiveDatabase(app: ResolvedApp, target: string, live: string | undefined, inPlace: boolean, confirmed: boolean): void {
  if (live === undefined || target !== live) return;
  if (!inPlace) throw new RefusedError(`app "${app.name}": "${target}" is the live database`, 'load into another name (e.g. shop_restored) and compare, or pass --in-place (and confirm) to replace the live one');
  if (!confirmed) throw new RefusedError(`app "${app.name}": loading over the live database "${target}" needs confirmation`, 'answer "yes" at the prompt, or pass --yes in scripts');
}

export interface DbCounts {
  tables: number;
  rows: number;
  /** Rows per table, named as lib/dumprows.ts names them (`t`, `schema.table`). */
  tableRows: Map<string, number>;
}

/** Tables and rows (per table) of a (scratch) database. */
export async function countDatabase(exec: Exec, format: DumpFormat, target: string, conn: DbConnection, signal?: AbortSignal): Promise<DbCounts> {
  const counts = (names: string[], rows: number[]): DbCounts => ({ tables: names.length, rows: rows.reduce((a, b) => a + b, 0), tableRows: new Map(names.map((n, i) => [n, rows[i] ?? 0])) });
  if (format === 'sqlite') {
    const t = await exec.run({ argv: ['sqlite3', '-readonly', target, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"] }, signal);
    const names = t.stdout.split('\n').filter(Boolean);
    if (names.length === 0) return counts([], []);
    const sql = names.map((n) => `SELECT count(*) FROM "${n.replace(/"/g, '""')}"`).join(' UNION ALL ');
    const r = await exec.run({ argv: ['sqlite3', '-readonly', target, sql] }, signal);
    return counts(names, r.stdout.split('\n').filter(Boolean).map(Number));
  }
  if (format === 'mysql') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-count-'));
    try {
      const optionFile = path.join(dir, 'my.cnf');
      await writeFile(optionFile, mysqlOptionFile(conn), { mode: FILE_MODE });
      const mysql = ['mysql', `--defaults-extra-file=${optionFile}`, '--batch', '--skip-column-names'];
      const t = await exec.run({ argv: [...mysql, '-e', `SELECT table_name FROM information_schema.tables WHERE table_schema='${target}' AND table_type='BASE TABLE' ORDER BY 1`] }, signal);
      const names = t.stdout.split('\n').filter(Boolean);
      if (names.length === 0) return counts([], []);
      const sql = names.map((n) => `SELECT count(*) FROM \`${target}\`.\`${n.replace(/`/g, '``')}\``).join(' UNION ALL ');
      const r = await exec.run({ argv: [...mysql, '-e', sql] }, signal);
      return counts(names, r.stdout.split('\n').filter(Boolean).map(Number));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const pgEnv = conn.password !== undefined ? { secretEnv: { PGPASSWORD: conn.password } } : {};
  const psql = ['psql', ...pgArgs(conn), '--no-psqlrc', '--tuples-only', '--no-align', `--dbname=${target}`];
  const t = await exec.run({ argv: [...psql, '-c', "SELECT quote_ident(schemaname)||'.'||quote_ident(tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema') ORDER BY 1"], ...pgEnv }, signal);
  const names = t.stdout.split('\n').filter(Boolean);
  if (names.length === 0) return counts([], []);
  const r = await exec.run({ argv: [...psql, '-c', names.map((n) => `SELECT count(*) FROM ${n}`).join(' UNION ALL ')], ...pgEnv }, signal);
  return counts(names, r.stdout.split('\n').filter(Boolean).map(Number));
}

/** Drops a scratch database (drills); errors are reported, never thrown. */
export async function dropDatabase(exec: Exec, format: DumpFormat, target: string, conn: DbConnection): Promise<string | undefined> {
  try {
    if (format === 'sqlite') for (const f of [target, ...SQLITE_SIDE_SUFFIXES.map((x) => `${target}${x}`)]) await rm(f, { force: true });
    else if (format === 'mysql') {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-drop-'));
      try {
        const optionFile = path.join(dir, 'my.cnf');
        await writeFile(optionFile, mysqlOptionFile(conn), { mode: FILE_MODE });
        await exec.run({ argv: ['mysql', `--defaults-extra-file=${optionFile}`, '-e', `DROP DATABASE IF EXISTS \`${target}\``] });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    } else {
      await exec.run({ argv: ['dropdb', ...pgArgs(conn), '--if-exists', target], ...(conn.password !== undefined ? { secretEnv: { PGPASSWORD: conn.password } } : {}) });
    }
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The journal mode a SQLite dump's first line sets (`PRAGMA journal_mode=wal;`, which jobs write), or undefined for older dumps. */
export async function dumpJournalMode(dumpFile: string): Promise<string | undefined> {
  const gunzip = createGunzip();
  const input = createReadStream(dumpFile);
  input.pipe(gunzip);
  let head = '';
  try {
    for await (const chunk of gunzip) {
      head += (chunk as Buffer).toString('utf8');
      if (head.includes('\n') || head.length > 200) break;
    }
  } catch {
    return undefined;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return /^PRAGMA journal_mode=([a-z]+);/i.exec(head)?.[1]?.toLowerCase();
}

/**
 * Keeps a SQLite database's journal mode across a restore: a dump written since tierback records it
 * in its first line (the load sets it); for an older dump, a live database in WAL mode (read from
 * its header, which opens nothing) gets `PRAGMA journal_mode=WAL` on the restored file. Returns the commands run.
 */
export async function keepJournalMode(exec: Exec, dumpFile: string, target: string, liveWal: boolean, signal?: AbortSignal): Promise<string[]> {
  if ((await dumpJournalMode(dumpFile)) !== undefined || !liveWal) return [];
  const argv = ['sqlite3', target, 'PRAGMA journal_mode=WAL'];
  await exec.run({ argv }, signal);
  return [describeCommand(argv)];
}

/** Moves a live SQLite file aside with its -wal/-shm/-journal (a file and a stranger's WAL must never pair up). */
export async function moveSqliteAside(file: string, suffix: string): Promise<void> {
  await rename(file, `${file}${suffix}`).catch(() => undefined);
  for (const x of SQLITE_SIDE_SUFFIXES) await rename(`${file}${x}`, `${file}${suffix}${x}`).catch(() => undefined);
}

/** Whether the live SQLite file is in WAL mode (undefined path: unknown, false). */
export async function liveIsWal(live: string | undefined): Promise<boolean> {
  return live ? isSqliteWal(live) : false;
}

export function unsupportedDump(file: string): TierbackError {
  return new RefusedError(
    `${path.basename(file)} is not a single-database dump tierback can load (whole-server dumps replace every database)`,
    'load it by hand as docs/restore.md ("A whole database server") shows, on a scratch server first',
  );
}
