/** PostgreSQL: pg_dump custom format (checked with pg_restore --list) or pg_dumpall; the password goes into PGPASSWORD. */
import path from 'node:path';
import { DUMP_DIR, dumpPath } from '../../model/layout.js';
import { dumpFileName } from '../../model/names.js';
import { countPgCopyRows, totalRows } from './dumprows.js';
import { checkGzipTrailer } from './common.js';
import { checkServerDatabaseName } from './mysql.js';
import { countsOf, defineEngine, printableLine, type DbConnection, type DumpStep, type PlanContext } from './types.js';

export function pgDumpArgv(o: { host?: string | undefined; port?: number | undefined; user?: string | undefined }, db: string): string[] {
  const argv = ['pg_dump', '--format=custom', '--no-password'];
  if (o.host) argv.push(`--host=${o.host}`);
  if (o.port) argv.push(`--port=${o.port}`);
  if (o.user) argv.push(`--username=${o.user}`);
  argv.push(`--dbname=${db}`);
  return argv;
}

/** The password of a connection, for the child's environment only. */
function pgEnv(conn: DbConnection): { secretEnv?: Record<string, string> } {
  return conn.password !== undefined ? { secretEnv: { PGPASSWORD: conn.password } } : {};
}

function pgArgs(conn: DbConnection): string[] {
  const a: string[] = ['--no-password'];
  const host = conn.socket ?? conn.host;
  if (host) a.push(`--host=${host}`);
  if (conn.port) a.push(`--port=${conn.port}`);
  if (conn.user) a.push(`--username=${conn.user}`);
  return a;
}

export function postgresDump(ctx: PlanContext, conn: DbConnection, db: string): DumpStep {
  const host = conn.socket ?? conn.host;
  return {
    kind: 'dump',
    title: `pg_dump ${db} (custom format) into ${DUMP_DIR}/`,
    db,
    file: dumpPath(ctx.staging, dumpFileName(db, ctx.stamp, 'pgdump')),
    command: { argv: pgDumpArgv({ host, port: conn.port, user: conn.user }, db), ...pgEnv(conn) },
    compress: false,
    check: 'pg_restore',
  };
}

/** One pg_dumpall of the whole server (roles and every database), gzip'd. */
export function postgresDumpAll(ctx: PlanContext, conn: DbConnection): DumpStep {
  const argv = ['pg_dumpall', '--no-password'];
  const host = conn.socket ?? conn.host;
  if (host) argv.push(`--host=${host}`);
  if (conn.port) argv.push(`--port=${conn.port}`);
  if (conn.user) argv.push(`--username=${conn.user}`);
  return {
    kind: 'dump',
    title: `pg_dumpall into ${DUMP_DIR}/`,
    db: 'all',
    file: dumpPath(ctx.staging, dumpFileName('all', ctx.stamp, 'pgdumpall.sql.gz')),
    command: { argv, ...pgEnv(conn) },
    compress: true,
    check: 'pg_dumpall',
  };
}

export const postgresqlEngine = defineEngine({
  name: 'postgresql',
  summary: 'PostgreSQL (pg_dump custom format, or pg_dumpall gzip\'d; PGPASSWORD in the child\'s environment)',
  dumps: [
    { ext: 'pgdump', check: 'pg_restore', loadable: true },
    { ext: 'pgdumpall.sql.gz', check: 'pg_dumpall', loadable: false },
  ],
  fileBased: false,
  secrets: 'env',
  async checkDump(file, check, exec, signal) {
    if (check === 'pg_dumpall') return checkGzipTrailer(file, /PostgreSQL database cluster dump complete/, 'no "cluster dump complete" trailer: pg_dumpall stopped early');
    try {
      const r = await exec.run({ argv: ['pg_restore', '--list', file] }, signal);
      if (!/;\s*Archive created at/.test(r.stdout) && !/TABLE|SCHEMA|DATABASE/.test(r.stdout)) return 'pg_restore --list shows no archive header';
      return undefined;
    } catch (err) {
      return `unreadable: ${(err as Error).message}`;
    }
  },
  async dumpFacts(file, exec) {
    if (!file.endsWith('.pgdump')) return {};
    const name = path.basename(file);
    const r = await exec.run({ argv: ['pg_restore', '--list', file] });
    const tables = r.stdout.split('\n').filter((l) => /^\d+; \d+ \d+ TABLE (?!DATA)/.test(l)).length;
    // The data as pg_restore would load it (COPY blocks), streamed through the counter.
    const child = exec.spawn({ argv: ['pg_restore', '--data-only', '--file=-', file], stream: true });
    let counted;
    try {
      counted = await countPgCopyRows(child.stdout!);
    } catch (err) {
      child.kill();
      await child;
      throw err;
    }
    const done = await child;
    if (done.exitCode !== 0) throw new Error(`pg_restore --data-only --file=- ${name} exited with code ${done.exitCode ?? done.signal}`);
    return { tables, rows: totalRows(counted.rows), tableRows: counted.rows };
  },
  checkNewName: checkServerDatabaseName,
  planLoad(dumpFile, target, conn) {
    const create = { argv: ['createdb', ...pgArgs(conn), target], ...pgEnv(conn) };
    const restore = { argv: ['pg_restore', ...pgArgs(conn), '--no-owner', '--no-acl', '--exit-on-error', `--dbname=${target}`, dumpFile], ...pgEnv(conn) };
    return { steps: [{ kind: 'run', command: create }, { kind: 'run', command: restore }], printable: [printableLine(create.argv), printableLine(restore.argv)] };
  },
  async count(exec, target, conn, _secretFile, signal) {
    const psql = ['psql', ...pgArgs(conn), '--no-psqlrc', '--tuples-only', '--no-align', `--dbname=${target}`];
    const t = await exec.run({ argv: [...psql, '-c', "SELECT quote_ident(schemaname)||'.'||quote_ident(tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema') ORDER BY 1"], ...pgEnv(conn) }, signal);
    const names = t.stdout.split('\n').filter(Boolean);
    if (names.length === 0) return countsOf([], []);
    const r = await exec.run({ argv: [...psql, '-c', names.map((n) => `SELECT count(*) FROM ${n}`).join(' UNION ALL ')], ...pgEnv(conn) }, signal);
    return countsOf(names, r.stdout.split('\n').filter(Boolean).map(Number));
  },
  async drop(exec, target, conn) {
    await exec.run({ argv: ['dropdb', ...pgArgs(conn), '--if-exists', target], ...pgEnv(conn) });
  },
});
