/**
 * rails: a Capistrano-deployed app `/home/<user>/rails/<name>-app/{current,releases,shared}`.
 * Dumps the database named in current/config/database.yml (sqlite3, postgresql, mysql2) into
 * db/, copies the whole Capistrano folder (current, releases/ with older releases, repo/,
 * revisions.log, any other top-level entry), shared/ without `exclude` (pids, tmp) and the
 * data directory shared/var links to; a dumped SQLite file's -wal/-shm/-journal are left out. `path` may name the `<name>-app` folder or the `<name>`
 * symlink beside it.
 */
import { lstat, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { CHANGE_LIST_FILE, DUMP_DIR, MANIFEST_FILE } from '../../model/layout.js';
import { TierbackError } from '../../base/errors.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { copyArgv, verifyDumps, copyStep } from './common.js';
import { isDir, exists } from '../../base/fsutil.js';
import { readPasswordFile } from '../engines/common.js';
import { mysqlDump } from '../engines/mysql.js';
import { postgresDump } from '../engines/postgresql.js';
import { SQLITE_SIDE_SUFFIXES, sqliteDump, sqliteOpenMode } from '../engines/sqlite.js';
import type { DbConnection } from '../engines/types.js';
import { defineJobType, type SecretFile, type Step, type VerifyProblem } from './types.js';

export const railsOptions = z
  .strictObject({
    environment: z.string().regex(/^[a-z0-9_]+$/).default('production').meta({ description: 'Section of database.yml to dump (default "production").' }),
    password_file: z.string().startsWith('/').optional().meta({ description: 'File holding the database password, when database.yml does not (e.g. it reads ENV).' }),
    exclude: z
      .array(z.string().min(1))
      .default(['/pids/', '/tmp/'])
      .meta({ description: 'rsync exclude patterns inside shared/ (default: "/pids/", "/tmp/").' }),
    data: z.boolean().default(true).meta({ description: 'Copy the data directory that shared/var links to (default true).' }),
  })
  .meta({ description: 'Options of the rails type (docs/jobs/rails.md).' });
export type RailsOptions = z.output<typeof railsOptions>;

export interface RailsDatabase {
  adapter: 'sqlite3' | 'postgresql' | 'mysql2';
  database: string;
  host?: string | undefined;
  port?: number | undefined;
  socket?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
}

/** The Capistrano folder of an app path: the path itself, or `<path>-app` beside the `<name>` symlink. */
export async function capistranoDir(app: ResolvedApp): Promise<string> {
  const candidates = [app.path.replace(/\/+$/, ''), `${app.path.replace(/\/+$/, '')}-app`];
  for (const c of candidates) if (await exists(path.join(c, 'current'))) return c;
  throw new TierbackError(`app "${app.name}": no Capistrano layout at ${app.path} (looked for ${candidates.map((c) => `${c}/current`).join(' and ')})`, {
    hint: `apps[${app.index}].path names the <name>-app folder or the <name> symlink beside it`,
  });
}

/** Reads the section of database.yml, without running ERB. */
export async function readDatabaseYml(file: string, env: string, app: ResolvedApp, opts: { ignorePassword?: boolean } = {}): Promise<RailsDatabase> {
  let doc: unknown;
  try {
    doc = yaml.load(await readFile(file, 'utf8'));
  } catch (err) {
    throw new TierbackError(`app "${app.name}": cannot read ${file}: ${(err as Error).message.split('\n')[0]}`, { hint: 'the job reads database.yml as plain YAML (ERB tags are not run)' });
  }
  const section = (doc as Record<string, unknown> | undefined)?.[env];
  if (!section || typeof section !== 'object') {
    throw new TierbackError(`app "${app.name}": ${file} has no "${env}" section`, { hint: `set apps[${app.index}].options.environment to the section to dump` });
  }
  const s = section as Record<string, unknown>;
  const str = (k: string) => {
    const v = s[k];
    if (v === undefined || v === null) return undefined;
    const t = String(v);
    if (t.includes('<%')) {
      throw new TierbackError(`app "${app.name}": ${file} ${env}.${k} is an ERB expression (${t})`, {
        hint: k === 'password' ? `put the password in a 0600 file and set apps[${app.index}].options.password_file` : 'write the value literally in database.yml',
      });
    }
    return t;
  };
  const adapter = str('adapter');
  if (adapter !== 'sqlite3' && adapter !== 'postgresql' && adapter !== 'mysql2') {
    throw new TierbackError(`app "${app.name}": ${file} ${env}.adapter is "${adapter ?? ''}"`, { hint: 'supported adapters: sqlite3, postgresql, mysql2' });
  }
  const database = str('database');
  if (!database) throw new TierbackError(`app "${app.name}": ${file} ${env}.database is missing`, { hint: 'name the database in database.yml' });
  const port = str('port');
  return { adapter, database, host: str('host'), port: port ? Number(port) : undefined, socket: str('socket'), username: str('username'), password: s['password'] === undefined || opts.ignorePassword ? undefined : str('password') };
}

/** Top-level names of an app's backup folder that tierback writes itself: a Capistrano folder holding one cannot be copied whole. */
const RESERVED = [DUMP_DIR, MANIFEST_FILE, CHANGE_LIST_FILE];

async function refuseReservedNames(cap: string, app: ResolvedApp): Promise<void> {
  for (const n of RESERVED) {
    if (await exists(path.join(cap, n))) {
      throw new TierbackError(`app "${app.name}": ${path.join(cap, n)} has a name the backup folder uses for itself (${RESERVED.join(', ')})`, {
        hint: `move it into shared/ (or out of the Capistrano folder); nothing of apps[${app.index}] is left out silently`,
      });
    }
  }
}

/** rsync excludes (anchored at `sourceReal`) of the SQLite side files of `dbReal`, when it lies inside that source. */
export function sqliteSideExcludes(dbReal: string, sourceReal: string): string[] {
  const rel = path.relative(sourceReal, dbReal);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return [];
  // rsync reads backslashes as escapes only in a pattern holding a wildcard: escape only then.
  const esc = /[[*?]/.test(rel) ? rel.replace(/[[\]*?\\]/g, (c) => `\\${c}`) : rel;
  return SQLITE_SIDE_SUFFIXES.map((x) => `/${esc}${x}`);
}

export const railsJob = defineJobType<RailsOptions>({
  name: 'rails',
  summary: 'Capistrano Rails app: database dump, the whole Capistrano folder, data directory',
  options: railsOptions,
  async plan(app, o, ctx) {
    const cap = await capistranoDir(app);
    const current = path.join(cap, 'current');
    const dbYml = path.join(current, 'config', 'database.yml');
    const db = await readDatabaseYml(dbYml, o.environment, app, { ignorePassword: o.password_file !== undefined });
    const steps: Step[] = [];
    const secretFiles: SecretFile[] = [];
    const password = o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : db.password;
    const conn: DbConnection = { host: db.host, port: db.port, socket: db.socket, user: db.username, password };
    // Real path of a dumped SQLite file: its -wal/-shm/-journal are left out of the file copies (the dump is the consistent copy).
    let sqliteReal: string | undefined;
    if (db.adapter === 'sqlite3') {
      const file = path.resolve(current, db.database);
      if (!(await exists(file))) throw new TierbackError(`app "${app.name}": the sqlite3 database ${file} (from ${dbYml}) does not exist`, { hint: 'check database.yml' });
      sqliteReal = await realpath(file);
      steps.push(sqliteDump(ctx, file, path.basename(db.database).replace(/\.(sqlite3?|db)$/, '') || 'db', await sqliteOpenMode(sqliteReal)));
    } else if (db.adapter === 'postgresql') {
      steps.push(postgresDump(ctx, conn, db.database));
    } else {
      const m = mysqlDump(ctx, conn, db.database);
      steps.push(m.step);
      secretFiles.push(m.secret);
    }
    const sources = [cap];
    for (const sub of ['releases', 'shared']) {
      if (!(await isDir(path.join(cap, sub)))) throw new TierbackError(`app "${app.name}": ${path.join(cap, sub)} is missing`, { hint: 'a Capistrano app has releases/ and shared/' });
    }
    await refuseReservedNames(cap, app);
    const sideFiles = async (src: string) => (sqliteReal ? sqliteSideExcludes(sqliteReal, await realpath(src)) : []);
    // shared/ (and releases/ when it is a symlink to another disk) are copied followed, on their own:
    // "/shared" without a slash also leaves out a symlink, which must never become the copy's target.
    const releasesLinked = (await lstat(path.join(cap, 'releases'))).isSymbolicLink();
    steps.push({
      kind: 'rsync',
      title: 'copy the Capistrano folder but shared/ (current, releases/ with older releases, repo/, revisions.log, ...)',
      source: cap,
      dest: ctx.staging,
      argv: copyArgv({ source: cap, dest: ctx.staging, linkDest: ctx.previous, excludes: ['/shared', ...(releasesLinked ? ['/releases'] : []), ...(await sideFiles(cap))] }),
    });
    if (releasesLinked) {
      const rel = path.join(cap, 'releases');
      steps.push(copyStep(ctx, 'releases', { title: 'copy releases/ (a symlink, followed)', source: rel, excludes: await sideFiles(rel) }));
    }
    steps.push(copyStep(ctx, 'shared', { title: 'copy shared/ (its var link is followed separately)', source: path.join(cap, 'shared'), excludes: [...o.exclude, '/var', ...(await sideFiles(path.join(cap, 'shared')))] }));
    const varLink = path.join(cap, 'shared', 'var');
    if (o.data && (await exists(varLink))) {
      const st = await lstat(varLink);
      const data = st.isSymbolicLink() ? await realpath(varLink).catch(() => undefined) : varLink;
      if (!data) throw new TierbackError(`app "${app.name}": ${varLink} links to ${await readlink(varLink)}, which does not exist`, { hint: 'is the data disk mounted?' });
      sources.push(data);
      steps.push(copyStep(ctx, 'shared/var', { title: `copy the data directory ${data} into shared/var/`, source: data, excludes: await sideFiles(data) }));
    }
    return { sources, steps, secretFiles, facts: { adapter: db.adapter } };
  },
  async verify(dir, _o, { exec, signal }) {
    const problems: VerifyProblem[] = await verifyDumps(dir, exec, signal, { required: true });
    for (const sub of ['releases', 'shared']) if (!(await isDir(path.join(dir, sub)))) problems.push({ path: sub, message: 'missing' });
    return problems;
  },
  async databases(app, o, { engine }) {
    const current = path.join(await capistranoDir(app), 'current');
    const y = await readDatabaseYml(path.join(current, 'config', 'database.yml'), o.environment, app, { ignorePassword: o.password_file !== undefined });
    const password = o.password_file ? readPasswordFile(o.password_file, app, 'password_file') : y.password;
    return { conn: { host: y.host, port: y.port, socket: y.socket, user: y.username, password }, live: engine.fileBased ? path.resolve(current, y.database) : y.database };
  },
  restore(app, _o, backupDir) {
    return {
      contents: [
        'db/<database>-<stamp>.<ext>: database dumps (newest last)',
        'current, releases/, repo/, revisions.log, ...: the Capistrano folder as it was (all but shared/)',
        'shared/: shared/ without the excluded pids/ and tmp/; shared/var/: the data directory',
      ],
      commands: [
        'R=<new folder>   # restore beside the live app first; the live folder only when you mean to replace it',
        `rsync -aH --exclude=/db/ --exclude=/.tierback-manifest --exclude=/shared/var ${backupDir}/ $R/`,
        `rsync -aH ${backupDir}/shared/var/ $R/var-data/`,
        'sqlite3:    gunzip -c db/<db>-<stamp>.sqlite.sql.gz | sqlite3 $R/<database file>   (a new file; the dump keeps the journal mode)',
        'postgresql: createdb <new db>; pg_restore --no-owner --no-acl -d <new db> db/<db>-<stamp>.pgdump',
        'mysql2:     mysql -e "CREATE DATABASE <new db>"; gunzip -c db/<db>-<stamp>.mysql.sql.gz | mysql <new db>',
      ],
    };
  },
});
