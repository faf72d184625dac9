/** mongodb: MongoDB databases (one, several or all), each dumped with mongodump --archive --gzip. */
import { z } from 'zod';
import { DUMP_DIR } from '../../model/layout.js';
import { readPasswordFile } from '../engines/common.js';
import { DEFAULT_MONGODB_URI, mongoDump } from '../engines/mongodb.js';
import type { DbConnection } from '../engines/types.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { databaseChecks, databasesOption, databasesSource, dumpEach, dumpPlan } from './database.js';
import { defineJobType } from './types.js';

export const mongodbOptions = z
  .strictObject({
    databases: databasesOption('Databases to dump (one archive each), or "all" (one archive of every database).'),
    uri_file: z
      .string()
      .startsWith('/')
      .optional()
      .meta({ description: `File (mode 0600) whose first line is the connection string, e.g. mongodb://backup@db1:27017/?authSource=admin (default ${DEFAULT_MONGODB_URI}); never in argv.` }),
    password_file: z
      .string()
      .startsWith('/')
      .optional()
      .meta({ description: 'File (mode 0600) whose first line is the password of the connection string\'s user; never put the password itself in the inventory.' }),
  })
  .meta({ description: 'Options of the mongodb type (docs/jobs/mongodb.md).' });
export type MongodbOptions = z.output<typeof mongodbOptions>;

export function mongodbConnection(o: MongodbOptions, app: ResolvedApp): DbConnection {
  return {
    uri: o.uri_file ? readPasswordFile(o.uri_file, app, 'uri_file') : undefined,
    password: o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : undefined,
  };
}

/** The connection string without its credentials, for the plan's sources (printed and logged). */
function hostOf(uri: string | undefined): string {
  return (uri ?? DEFAULT_MONGODB_URI).replace(/^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?/, '').replace(/[/?].*$/, '');
}

export const mongodbJob = defineJobType<MongodbOptions>({
  name: 'mongodb',
  summary: 'MongoDB databases (mongodump --archive --gzip, archives checked whole)',
  options: mongodbOptions,
  async plan(app, o, ctx) {
    const conn = mongodbConnection(o, app);
    return dumpPlan(databasesSource('mongodb', hostOf(conn.uri), o.databases), dumpEach(o.databases, app, (db, all) => mongoDump(ctx, conn, db, all ? { allDatabases: true } : {})));
  },
  ...databaseChecks(mongodbConnection),
  restore(_app, o, backupDir) {
    return {
      contents: [`${DUMP_DIR}/<db>-<stamp>.mongodb.archive.gz: mongodump --archive --gzip output, newest last`],
      commands: [
        o.databases === 'all'
          ? `mongorestore --config=<0600 file: uri, password> --archive=${backupDir}/${DUMP_DIR}/all-<stamp>.mongodb.archive.gz --gzip`
          : `mongorestore --config=<0600 file: uri, password> --archive=${backupDir}/${DUMP_DIR}/<db>-<stamp>.mongodb.archive.gz --gzip --nsInclude='<db>.*' --nsFrom='<db>.*' --nsTo='<new db>.*'`,
      ],
    };
  },
});
