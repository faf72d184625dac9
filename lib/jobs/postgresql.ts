/** postgresql: standalone PostgreSQL databases: pg_dump custom format each, or pg_dumpall for "all". */
import path from 'node:path';
import { z } from 'zod';
import { DUMP_DIR, dumpFileName } from '../convention.js';
import { verifyDumps } from './common.js';
import { dumpName, postgresDump, readPasswordFile, type DbConnection } from './databases.js';
import { connectionOptions } from './mysql.js';
import { defineJobType, type Step } from './types.js';

const dbName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a database name of letters, digits, "_", "." and "-"');

export const postgresqlOptions = z
  .strictObject({
    databases: z.union([z.literal('all'), z.array(dbName).min(1)]).meta({ description: 'Databases to dump (custom format each), or "all" (one pg_dumpall, roles included).' }),
    ...connectionOptions,
  })
  .meta({ description: 'Options of the postgresql type (docs/jobs/postgresql.md).' });
export type PostgresqlOptions = z.output<typeof postgresqlOptions>;

export const postgresqlJob = defineJobType<PostgresqlOptions>({
  name: 'postgresql',
  summary: 'PostgreSQL databases (custom-format dumps checked with pg_restore --list)',
  options: postgresqlOptions,
  async plan(app, o, ctx) {
    const conn: DbConnection = { host: o.host, port: o.port, socket: o.socket, user: o.user, password: o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : undefined };
    let steps: Step[];
    if (o.databases === 'all') {
      const argv = ['pg_dumpall', '--no-password'];
      const host = conn.socket ?? conn.host;
      if (host) argv.push(`--host=${host}`);
      if (conn.port) argv.push(`--port=${conn.port}`);
      if (conn.user) argv.push(`--username=${conn.user}`);
      steps = [
        {
          kind: 'dump',
          title: `pg_dumpall into ${DUMP_DIR}/`,
          db: 'all',
          file: path.join(ctx.staging, DUMP_DIR, dumpFileName('all', ctx.stamp, 'pgdumpall.sql.gz')),
          command: { argv, ...(conn.password !== undefined ? { secretEnv: { PGPASSWORD: conn.password } } : {}) },
          compress: true,
          check: 'pg_dumpall',
        },
      ];
    } else {
      steps = o.databases.map((db) => postgresDump(ctx, conn, dumpName(db, app, 'options.databases')));
    }
    return { sources: [`postgresql://${conn.host ?? conn.socket ?? 'localhost'}${conn.port ? `:${conn.port}` : ''}/${o.databases === 'all' ? '*' : o.databases.join(',')}`], steps };
  },
  verify: (dir, _o, { exec, signal }) => verifyDumps(dir, exec, signal, { required: true }),
  restore(_app, o, backupDir) {
    return {
      contents: [o.databases === 'all' ? `${DUMP_DIR}/all-<stamp>.pgdumpall.sql.gz: pg_dumpall output (roles and every database)` : `${DUMP_DIR}/<db>-<stamp>.pgdump: pg_dump custom format, newest last`],
      commands: [
        o.databases === 'all'
          ? `gunzip -c ${backupDir}/${DUMP_DIR}/all-<stamp>.pgdumpall.sql.gz | psql -d postgres`
          : `createdb <db> && pg_restore --no-owner -d <db> ${backupDir}/${DUMP_DIR}/<db>-<stamp>.pgdump`,
      ],
    };
  },
});
