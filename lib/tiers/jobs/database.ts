/**
 * What the database job types (mysql, postgresql, mongodb) share: the `databases` option (names, or
 * "all"), the connection options of a database server, and a plan of one dump per database or one
 * of them all, each dump checked by verify().
 */
import { z } from 'zod';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { checkDatabaseUser, checkNetworkHost, refineWith } from '../../model/inventory/values.js';
import { DUMP_NAME, dumpName, readPasswordFile } from '../engines/common.js';
import type { DbConnection, DumpStep, SecretFile } from '../engines/types.js';
import { verifyDumps } from './common.js';
import type { JobType, PlanParts } from './types.js';

/** A database name that can name a dump file. */
export const dbName = z.string().regex(DUMP_NAME, 'a database name of letters, digits, "_", "." and "-"');

export type Databases = 'all' | string[];

/** The `databases` option: the names to dump, or "all". */
export function databasesOption(description: string) {
  return z.union([z.literal('all'), z.array(dbName).min(1)]).meta({ description });
}

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

/** The options of a type dumping databases of a server (mysql, postgresql): `databases`, then the connection. */
export function serverDatabaseOptions(type: string, databases: string) {
  return z
    .strictObject({ databases: databasesOption(databases), ...connectionOptions })
    .meta({ description: `Options of the ${type} type (docs/jobs/${type}.md).` });
}

export interface ConnectionOptions {
  host?: string | undefined;
  port?: number | undefined;
  socket?: string | undefined;
  user?: string | undefined;
  password_file?: string | undefined;
}

/** The connection of a mysql or postgresql app: its options, and the password read from its file. */
export function serverConnection(o: ConnectionOptions, app: ResolvedApp): DbConnection {
  return { host: o.host, port: o.port, socket: o.socket, user: o.user, password: o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : undefined };
}

/** Where a server connection goes, for the plan's sources: host (or socket) and port, never credentials. */
export function serverAddress(conn: DbConnection): string {
  return `${conn.host ?? conn.socket ?? 'localhost'}${conn.port ? `:${conn.port}` : ''}`;
}

/** The plan's source: `<scheme>://<address>/<db,db>`, or `/*` for every database. */
export function databasesSource(scheme: string, address: string, databases: Databases): string {
  return `${scheme}://${address}/${databases === 'all' ? '*' : databases.join(',')}`;
}

/** One dump of every database (named "all"), or one per named database (each checked to name a dump file). */
export function dumpEach<P>(databases: Databases, app: ResolvedApp, dump: (db: string, all: boolean) => P): P[] {
  return databases === 'all' ? [dump('all', true)] : databases.map((db) => dump(dumpName(db, app, 'options.databases'), false));
}

/** The plan of dumps that each bring a secret file (an option or config file for the dump tool). */
export function dumpPlan(source: string, parts: { step: DumpStep; secret: SecretFile }[]): PlanParts {
  return { sources: [source], steps: parts.map((p) => p.step), secretFiles: parts.map((p) => p.secret) };
}

/** verify() and databases() of a database type: every dump checked (at least one), the connection from the options. */
export function databaseChecks<O>(connection: (o: O, app: ResolvedApp) => DbConnection): Pick<JobType<O>, 'verify' | 'databases'> {
  return {
    verify: (dir, _o, { exec, signal }) => verifyDumps(dir, exec, signal, { required: true }),
    databases: async (app, o, { db }) => ({ conn: connection(o, app), live: db }),
  };
}
