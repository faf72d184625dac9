/** postgresql: standalone PostgreSQL databases: pg_dump custom format each, or pg_dumpall for "all". */
import { z } from 'zod';
import { DUMP_DIR } from '../../model/layout.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { verifyDumps } from './common.js';
import { dumpName, readPasswordFile } from '../engines/common.js';
import { postgresDump, postgresDumpAll } from '../engines/postgresql.js';
import type { DbConnection } from '../engines/types.js';
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

export function postgresqlConnection(o: PostgresqlOptions, app: ResolvedApp): DbConnection {
  return { host: o.host, port: o.port, socket: o.socket, user: o.user, password: o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : undefined };
}

export const postgresqlJob = defineJobType<PostgresqlOptions>({
  name: 'postgresql',
  summary: 'PostgreSQL databases (custom-format dumps checked with pg_restore --list)',
  options: postgresqlOptions,
  async plan(app, o, ctx) {
    const conn = postgresqlConnection(o, app);
    let steps: Step[];
    if (o.databases === 'all') {
      steps = [postgresDumpAll(ctx, conn)];
    } else {
      steps = o.databases.map((db) => postgresDump(ctx, conn, dumpName(db, app, 'options.databases')));
    }
    return { sources: [`postgresql://${conn.host ?? conn.socket ?? 'localhost'}${conn.port ? `:${conn.port}` : ''}/${o.databases === 'all' ? '*' : o.databases.join(',')}`], steps };
  },
  verify: (dir, _o, { exec, signal }) => verifyDumps(dir, exec, signal, { required: true }),
  databases: async (app, o, { db }) => ({ conn: postgresqlConnection(o, app), live: db }),
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
