/** MySQL/MariaDB: mysqldump --single-transaction, gzip'd; the password goes into a 0600 option file. */
import path from 'node:path';
import { DUMP_DIR, dumpPath } from '../../model/layout.js';
import { dumpFileName } from '../../model/names.js';
import { countMysqlDumpRows } from './dumprows.js';
import { UsageError } from '../../base/errors.js';
import { checkGzipTrailer, countedDumpFacts } from './common.js';
import { countsOf, defineEngine, printableLine, type DbConnection, type DumpStep, type PlanContext, type SecretFile } from './types.js';

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

/** The dump step of one database (or of every one, db "all" with allDatabases) and its option file. */
export function mysqlDump(ctx: PlanContext, conn: DbConnection, db: string, opts: { tables?: string[]; tag?: string; allDatabases?: boolean } = {}): { step: DumpStep; secret: SecretFile } {
  const optionFile = path.join(ctx.secretDir, `my-${opts.tag ?? db}.cnf`);
  const argv = mysqldumpArgv(optionFile, db, opts.tables ?? []);
  return {
    secret: { path: optionFile, content: mysqlOptionFile(conn) },
    step: {
      kind: 'dump',
      title: opts.allDatabases ? `mysqldump --all-databases into ${DUMP_DIR}/` : `mysqldump ${db} (single transaction) into ${DUMP_DIR}/`,
      db,
      file: dumpPath(ctx.staging, dumpFileName(db, ctx.stamp, 'mysql.sql.gz')),
      command: { argv: opts.allDatabases ? [...argv.filter((a) => a !== '--' && a !== db), '--all-databases'] : argv },
      compress: true,
      check: 'mysqldump',
    },
  };
}

export const mysqlEngine = defineEngine({
  name: 'mysql',
  summary: 'MySQL/MariaDB (mysqldump output, gzip\'d; option file 0600 for the password)',
  dumps: [{ ext: 'mysql.sql.gz', check: 'mysqldump', loadable: true }],
  fileBased: false,
  secrets: 'option-file',
  checkDump: (file) => checkGzipTrailer(file, /-- Dump completed/, 'no "-- Dump completed" trailer: mysqldump stopped early'),
  dumpFacts: countedDumpFacts(countMysqlDumpRows),
  checkNewName: checkServerDatabaseName,
  secretFile: mysqlOptionFile,
  planLoad(dumpFile, target, _conn, optionFile) {
    const mysql = ['mysql', `--defaults-extra-file=${optionFile}`];
    const create = { argv: [...mysql, '-e', `CREATE DATABASE \`${target}\``] };
    const from = { argv: ['gunzip', '-c', dumpFile] };
    const to = { argv: [...mysql, target] };
    return {
      steps: [{ kind: 'run', command: create }, { kind: 'pipe', from, to }],
      printable: [printableLine(create.argv), `${printableLine(from.argv)} | ${printableLine(to.argv)}`],
    };
  },
  async count(exec, target, _conn, optionFile, signal) {
    const mysql = ['mysql', `--defaults-extra-file=${optionFile}`, '--batch', '--skip-column-names'];
    const t = await exec.run({ argv: [...mysql, '-e', `SELECT table_name FROM information_schema.tables WHERE table_schema='${target}' AND table_type='BASE TABLE' ORDER BY 1`] }, signal);
    const names = t.stdout.split('\n').filter(Boolean);
    if (names.length === 0) return countsOf([], []);
    const sql = names.map((n) => `SELECT count(*) FROM \`${target}\`.\`${n.replace(/`/g, '``')}\``).join(' UNION ALL ');
    const r = await exec.run({ argv: [...mysql, '-e', sql] }, signal);
    return countsOf(names, r.stdout.split('\n').filter(Boolean).map(Number));
  },
  async drop(exec, target, _conn, optionFile) {
    await exec.run({ argv: ['mysql', `--defaults-extra-file=${optionFile}`, '-e', `DROP DATABASE IF EXISTS \`${target}\``] });
  },
});

/** A database name tierback creates on a server: plain, so it needs no quoting anywhere. */
export function checkServerDatabaseName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
    throw new UsageError(`--database "${name}" is not a plain database name`, 'use letters, digits and "_", starting with a letter, e.g. shop_restored');
  }
}
