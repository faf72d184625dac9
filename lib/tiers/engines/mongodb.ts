/**
 * MongoDB: `mongodump --archive --gzip` (one gzip'd archive per database), checked by reading the
 * whole archive (lib/tiers/engines/mongodb-archive.ts). The connection string and the password go only into
 * a 0600 YAML file passed with `--config` (mongodump, mongorestore) or a 0600 mongosh script (drill
 * counts and drops): never argv. docs/jobs/mongodb.md says what was run against a real server.
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DUMP_DIR, dumpPath } from '../../model/layout.js';
import { dumpFileName, parseDumpFileName } from '../../model/names.js';
import { totalRows } from './dumprows.js';
import type { Exec } from '../../base/exec.js';
import { FILE_MODE } from '../../base/fsutil.js';
import { scanMongoArchive } from './mongodb-archive.js';
import { checkServerDatabaseName } from './mysql.js';
import { countsOf, defineEngine, printableLine, type DbConnection, type DumpStep, type PlanContext, type SecretFile } from './types.js';

/** Where mongodump connects when the app gives no connection string. */
export const DEFAULT_MONGODB_URI = 'mongodb://localhost:27017';

/** The YAML file of `--config` (mongodump, mongorestore): the connection string and password, JSON-quoted (valid YAML). */
export function mongoConfigFile(conn: DbConnection): string {
  const lines = [`uri: ${JSON.stringify(conn.uri ?? DEFAULT_MONGODB_URI)}`];
  if (conn.password !== undefined) lines.push(`password: ${JSON.stringify(conn.password)}`);
  return `${lines.join('\n')}\n`;
}

/** mongodump argv writing one gzip'd archive to stdout (`db` undefined: every database). */
export function mongodumpArgv(configFile: string, db: string | undefined): string[] {
  return ['mongodump', `--config=${configFile}`, ...(db === undefined ? [] : [`--db=${db}`]), '--archive', '--gzip'];
}

/** The dump step of one database (or, db "all", of every one) and its 0600 config file. */
export function mongoDump(ctx: PlanContext, conn: DbConnection, db: string, opts: { allDatabases?: boolean } = {}): { step: DumpStep; secret: SecretFile } {
  const configFile = path.join(ctx.secretDir, `mongo-${db}.yaml`);
  return {
    secret: { path: configFile, content: mongoConfigFile(conn) },
    step: {
      kind: 'dump',
      title: opts.allDatabases ? `mongodump --archive --gzip (every database) into ${DUMP_DIR}/` : `mongodump --archive --gzip ${db} into ${DUMP_DIR}/`,
      db,
      file: dumpPath(ctx.staging, dumpFileName(db, ctx.stamp, 'mongodb.archive.gz')),
      command: { argv: mongodumpArgv(configFile, opts.allDatabases ? undefined : db) },
      // mongodump --gzip compresses the archive itself.
      compress: false,
      check: 'mongodump',
    },
  };
}

/** The connection string with the password in it, for a mongosh script file (0600) only. */
export function uriWithPassword(uri: string, password: string | undefined): string {
  if (password === undefined) return uri;
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)([^@/:]+)@/, (_m, scheme: string, user: string) => `${scheme}${user}:${encodeURIComponent(password)}@`);
}

/** Runs a mongosh script written 0600 beside the secret file (in the same private folder); returns stdout. */
async function mongosh(exec: Exec, secretFile: string, name: string, script: string, signal?: AbortSignal): Promise<string> {
  const file = path.join(path.dirname(secretFile), name);
  await writeFile(file, script, { mode: FILE_MODE });
  return (await exec.run({ argv: ['mongosh', '--nodb', '--quiet', '--file', file] }, signal)).stdout;
}

const connectLine = (conn: DbConnection, target: string) => `const d = new Mongo(${JSON.stringify(uriWithPassword(conn.uri ?? DEFAULT_MONGODB_URI, conn.password))}).getDB(${JSON.stringify(target)});`;

export const mongodbEngine = defineEngine({
  name: 'mongodb',
  summary: 'MongoDB (mongodump --archive --gzip; connection string and password in a 0600 --config file)',
  dumps: [{ ext: 'mongodb.archive.gz', check: 'mongodump', loadable: true }],
  fileBased: false,
  secrets: 'option-file',
  async checkDump(file) {
    try {
      await scanMongoArchive(createReadStream(file).pipe(createGunzip()));
      return undefined;
    } catch (err) {
      return (err as Error).message.startsWith('not a complete') ? (err as Error).message : `unreadable: ${(err as Error).message}`;
    }
  },
  async dumpFacts(file) {
    const scan = await scanMongoArchive(createReadStream(file).pipe(createGunzip()));
    // One database: collections by their own name (as a drill counts them); several: `db.collection`.
    const dbs = new Set([...scan.collections, ...scan.documents.keys()].map((ns) => ns.slice(0, ns.indexOf('.'))));
    const name = (ns: string) => (dbs.size === 1 ? ns.slice(ns.indexOf('.') + 1) : ns);
    const rows = new Map([...scan.documents].map(([ns, n]) => [name(ns), n]));
    return { tables: scan.collections.length, rows: totalRows(rows), tableRows: rows };
  },
  checkNewName: checkServerDatabaseName,
  secretFile: mongoConfigFile,
  planLoad(dumpFile, target, _conn, configFile) {
    const db = parseDumpFileName(path.basename(dumpFile))?.db ?? '*';
    const restore = {
      argv: ['mongorestore', `--config=${configFile}`, `--archive=${dumpFile}`, '--gzip', `--nsInclude=${db}.*`, `--nsFrom=${db}.*`, `--nsTo=${target}.*`, '--stopOnError'],
    };
    return { steps: [{ kind: 'run', command: restore }], printable: [printableLine(restore.argv)] };
  },
  async count(exec, target, conn, secretFile, signal) {
    const out = await mongosh(
      exec,
      secretFile,
      'count.js',
      `${connectLine(conn, target)}\nconst out = {};\nfor (const c of d.getCollectionNames().filter((n) => !n.startsWith('system.')).sort()) out[c] = d.getCollection(c).countDocuments({});\nprint(JSON.stringify(out));\n`,
      signal,
    );
    const counted = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    return countsOf(Object.keys(counted), Object.values(counted));
  },
  async drop(exec, target, conn, secretFile) {
    await mongosh(exec, secretFile, 'drop.js', `${connectLine(conn, target)}\nd.dropDatabase();\n`);
  },
});
