/** postgresql: standalone PostgreSQL databases: pg_dump custom format each, or pg_dumpall for "all". */
import type { z } from 'zod';
import { DUMP_DIR } from '../../model/layout.js';
import { postgresDump, postgresDumpAll } from '../engines/postgresql.js';
import { databaseChecks, databasesSource, dumpEach, serverAddress, serverConnection, serverDatabaseOptions } from './database.js';
import { defineJobType } from './types.js';

export const postgresqlOptions = serverDatabaseOptions('postgresql', 'Databases to dump (custom format each), or "all" (one pg_dumpall, roles included).');
export type PostgresqlOptions = z.output<typeof postgresqlOptions>;

export const postgresqlJob = defineJobType<PostgresqlOptions>({
  name: 'postgresql',
  summary: 'PostgreSQL databases (custom-format dumps checked with pg_restore --list)',
  options: postgresqlOptions,
  async plan(app, o, ctx) {
    const conn = serverConnection(o, app);
    const steps = dumpEach(o.databases, app, (db, all) => (all ? postgresDumpAll(ctx, conn) : postgresDump(ctx, conn, db)));
    return { sources: [databasesSource('postgresql', serverAddress(conn), o.databases)], steps };
  },
  ...databaseChecks(serverConnection),
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
