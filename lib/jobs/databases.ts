/** Dump steps shared by the database-bearing types (rails, wordpress, mysql, postgresql): pure plan data. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DUMP_DIR, dumpFileName } from '../convention.js';
import { TierbackError } from '../errors.js';
import type { ResolvedApp } from '../inventory/model.js';
import { mysqlOptionFile, mysqldumpArgv, pgDumpArgv } from './common.js';
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

export function sqliteDump(ctx: PlanContext, file: string, name: string): DumpStep {
  return {
    kind: 'dump',
    title: `sqlite3 .dump of ${file} into ${DUMP_DIR}/`,
    db: name,
    file: path.join(ctx.staging, DUMP_DIR, dumpFileName(name, ctx.stamp, 'sqlite.sql.gz')),
    command: { argv: ['sqlite3', '-readonly', '-bail', file, '.dump'] },
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
