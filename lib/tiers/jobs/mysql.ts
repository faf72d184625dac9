/** mysql: standalone MySQL/MariaDB databases (one, several or all) dumped with mysqldump --single-transaction. */
import type { z } from 'zod';
import { DUMP_DIR } from '../../model/layout.js';
import { mysqlDump } from '../engines/mysql.js';
import { databaseChecks, databasesSource, dumpEach, dumpPlan, serverAddress, serverConnection, serverDatabaseOptions } from './database.js';
import { defineJobType } from './types.js';

export const mysqlOptions = serverDatabaseOptions('mysql', 'Databases to dump, or "all" (one --all-databases dump).');
export type MysqlOptions = z.output<typeof mysqlOptions>;

export const mysqlJob = defineJobType<MysqlOptions>({
  name: 'mysql',
  summary: 'MySQL/MariaDB databases (mysqldump --single-transaction)',
  options: mysqlOptions,
  async plan(app, o, ctx) {
    const conn = serverConnection(o, app);
    return dumpPlan(databasesSource('mysql', serverAddress(conn), o.databases), dumpEach(o.databases, app, (db, all) => mysqlDump(ctx, conn, db, all ? { allDatabases: true } : {})));
  },
  ...databaseChecks(serverConnection),
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
