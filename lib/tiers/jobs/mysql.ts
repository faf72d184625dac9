/** mysql: standalone MySQL/MariaDB databases (one, several or all) dumped with mysqldump --single-transaction. */
import { z } from 'zod';
import { DUMP_DIR } from '../../model/layout.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { checkDatabaseUser, checkNetworkHost, refineWith } from '../../model/inventory/values.js';
import { verifyDumps } from './common.js';
import { dumpName, readPasswordFile } from '../engines/common.js';
import { mysqlDump } from '../engines/mysql.js';
import type { DbConnection } from '../engines/types.js';
import { defineJobType } from './types.js';

const dbName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a database name of letters, digits, "_", "." and "-"');

/** Connection options shared by the mysql and postgresql types. */
export const connectionOptions = {
  host: z.string().superRefine(refineWith(checkNetworkHost)).optional().meta({ description: 'Server host name or IP address (default: the local socket).' }),
  port: z.number().int().min(1).max(65535).optional().meta({ description: 'Server port.' }),
  socket: z.string().startsWith('/').optional().meta({ description: 'Unix socket (MySQL) or socket directory (PostgreSQL).' }),
  user: z.string().superRefine(refineWith(checkDatabaseUser)).optional().meta({ description: 'User to connect as (letters, digits, "_", ".", "$", "-"; not starting with "-").' }),
  password_file: z
    .string()
    .startsWith('/')
    .optional()
    .meta({ description: 'File (mode 0600) whose first line is the password; never put the password itself in the inventory.' }),
};

export const mysqlOptions = z
  .strictObject({
    databases: z.union([z.literal('all'), z.array(dbName).min(1)]).meta({ description: 'Databases to dump, or "all" (one --all-databases dump).' }),
    ...connectionOptions,
  })
  .meta({ description: 'Options of the mysql type (docs/jobs/mysql.md).' });
export type MysqlOptions = z.output<typeof mysqlOptions>;

export function mysqlConnection(o: MysqlOptions, app: ResolvedApp): DbConnection {
  return { host: o.host, port: o.port, socket: o.socket, user: o.user, password: o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : undefined };
}

export const mysqlJob = defineJobType<MysqlOptions>({
  name: 'mysql',
  summary: 'MySQL/MariaDB databases (mysqldump --single-transaction)',
  options: mysqlOptions,
  async plan(app, o, ctx) {
    const conn = mysqlConnection(o, app);
    const parts = o.databases === 'all' ? [mysqlDump(ctx, conn, 'all', { allDatabases: true })] : o.databases.map((db) => mysqlDump(ctx, conn, dumpName(db, app, 'options.databases')));
    return {
      sources: [`mysql://${conn.host ?? conn.socket ?? 'localhost'}${conn.port ? `:${conn.port}` : ''}/${o.databases === 'all' ? '*' : o.databases.join(',')}`],
      steps: parts.map((p) => p.step),
      secretFiles: parts.map((p) => p.secret),
    };
  },
  verify: (dir, _o, { exec, signal }) => verifyDumps(dir, exec, signal, { required: true }),
  databases: async (app, o, { db }) => ({ conn: mysqlConnection(o, app), live: db }),
  restore(_app, o, backupDir) {
    return {
      contents: [`${DUMP_DIR}/<db>-<stamp>.mysql.sql.gz: mysqldump output, gzip'd, newest last`],
      commands: [
        o.databases === 'all'
          ? `gunzip -c ${backupDir}/${DUMP_DIR}/all-<stamp>.mysql.sql.gz | mysql`
          : `mysql -e 'CREATE DATABASE IF NOT EXISTS <db>' && gunzip -c ${backupDir}/${DUMP_DIR}/<db>-<stamp>.mysql.sql.gz | mysql <db>`,
      ],
    };
  },
});
