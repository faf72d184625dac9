/** Dump steps shared by the database-bearing types (rails, wordpress, mysql, postgresql): pure plan data. */
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { DUMP_DIR, dumpFileName } from '../convention.js';
import { TierbackError } from '../errors.js';
import type { ResolvedApp } from '../inventory/model.js';
import { isPresent, mysqlOptionFile, mysqldumpArgv, pgDumpArgv } from './common.js';
import type { DumpStep, PlanContext, SecretFile } from './types.js';

export interface DbConnection {
  host?: string | undefined;
  port?: number | undefined;
  socket?: string | undefined;
  user?: string | undefined;
  /** The password itself (read from a config file or a password file); only ever put in 0600 files or secret env. */
  password?: string | undefined;
}

/** A database name safe for a dump file name. */
export function dumpName(db: string, app: ResolvedApp, where: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(db)) {
    throw new TierbackError(`app "${app.name}": database name "${db}" (${where}) cannot name a dump file`, { hint: 'database names of letters, digits, "_", "." and "-" are supported' });
  }
  return db;
}

export function mysqlDump(ctx: PlanContext, conn: DbConnection, db: string, opts: { tables?: string[]; tag?: string } = {}): { step: DumpStep; secret: SecretFile } {
  const optionFile = path.join(ctx.secretDir, `my-${opts.tag ?? db}.cnf`);
  return {
    secret: { path: optionFile, content: mysqlOptionFile(conn) },
    step: {
      kind: 'dump',
      title: `mysqldump ${db} (single transaction) into ${DUMP_DIR}/`,
      db,
      file: path.join(ctx.staging, DUMP_DIR, dumpFileName(db, ctx.stamp, 'mysql.sql.gz')),
      command: { argv: mysqldumpArgv(optionFile, db, opts.tables ?? []) },
      compress: true,
      check: 'mysqldump',
    },
  };
}

export function postgresDump(ctx: PlanContext, conn: DbConnection, db: string): DumpStep {
  const host = conn.socket ?? conn.host;
  return {
    kind: 'dump',
    title: `pg_dump ${db} (custom format) into ${DUMP_DIR}/`,
    db,
    file: path.join(ctx.staging, DUMP_DIR, dumpFileName(db, ctx.stamp, 'pgdump')),
    command: {
      argv: pgDumpArgv({ host, port: conn.port, user: conn.user }, db),
      ...(conn.password !== undefined ? { secretEnv: { PGPASSWORD: conn.password } } : {}),
    },
    compress: false,
    check: 'pg_restore',
  };
}

/** The files SQLite keeps beside a database while it is open or mid-write: never part of a consistent copy. */
export const SQLITE_SIDE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/**
 * How the dump opens a live SQLite file (docs/decisions.md, "SQLite dumps leave the live folder
 * as it was"). A read-only connection to a WAL-mode database creates `-wal` and `-shm` when they
 * are missing and cannot remove them (only a writer checkpoints and deletes them on close). So:
 * - WAL mode and no `-wal`/`-shm`/`-journal` beside it (nobody has it open): a read-write
 *   connection with `PRAGMA query_only`, which writes nothing and, being the last to close,
 *   removes the files it created (SQLite takes the exclusive lock to know it is the last);
 * - otherwise `-readonly`: the side files belong to the app's open connections, and they stay.
 */
export async function sqliteOpenMode(file: string): Promise<'readonly' | 'query_only'> {
  if (!(await isSqliteWal(file))) return 'readonly';
  for (const s of SQLITE_SIDE_SUFFIXES) if (await isPresent(`${file}${s}`)) return 'readonly';
  return 'query_only';
}

/** Whether a SQLite file is in WAL mode, from its header (bytes 18 and 19 are 2); reading it changes nothing. */
export async function isSqliteWal(file: string): Promise<boolean> {
  let h;
  try {
    h = await open(file, 'r');
    const b = Buffer.alloc(20);
    const { bytesRead } = await h.read(b, 0, 20, 0);
    return bytesRead === 20 && b.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' && b[18] === 2 && b[19] === 2;
  } catch {
    return false;
  } finally {
    await h?.close();
  }
}

/** The first line of every SQLite dump: the journal mode, so loading the dump keeps it (`PRAGMA journal_mode=wal;`). */
const JOURNAL_MODE_LINE = "SELECT 'PRAGMA journal_mode=' || journal_mode || ';' FROM pragma_journal_mode";

export function sqliteDump(ctx: PlanContext, file: string, name: string, mode: 'readonly' | 'query_only' = 'readonly'): DumpStep {
  const how = mode === 'readonly' ? ['-readonly'] : ['-cmd', 'PRAGMA query_only=1'];
  return {
    kind: 'dump',
    title: `sqlite3 .dump of ${file} into ${DUMP_DIR}/`,
    db: name,
    file: path.join(ctx.staging, DUMP_DIR, dumpFileName(name, ctx.stamp, 'sqlite.sql.gz')),
    command: { argv: ['sqlite3', ...how, '-bail', file, JOURNAL_MODE_LINE, '.dump'] },
    compress: true,
    check: 'sqlite',
  };
}

/** Reads a password file (first line), with a clear error naming the inventory key. */
export function readPasswordFile(file: string, app: ResolvedApp, key: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n')[0] ?? '';
  } catch (err) {
    throw new TierbackError(`app "${app.name}": cannot read the password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      hint: `check apps[${app.index}].options.${key}; the file holds the password on its first line and should be mode 0600`,
    });
  }
}
