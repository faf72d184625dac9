/**
 * rails: a Capistrano-deployed app `/home/<user>/rails/<name>-app/{current,releases,shared}`.
 * Dumps the database named in current/config/database.yml (sqlite3, postgresql, mysql2) into
 * db/, copies releases/ (older releases too), shared/ and the data directory shared/var links to,
 * and keeps the `current` symlink. `path` may name the `<name>-app` folder or the `<name>`
 * symlink beside it (seed 004's layout).
 */
import { lstat, readFile, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { TierbackError } from '../errors.js';
import type { ResolvedApp } from '../inventory/model.js';
import { isDir, isPresent, rsyncArgv, verifyDumps } from './common.js';
import { mysqlDump, postgresDump, readPasswordFile, sqliteDump, type DbConnection } from './databases.js';
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
  for (const c of candidates) if (await isPresent(path.join(c, 'current'))) return c;
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

export const railsJob = defineJobType<RailsOptions>({
  name: 'rails',
  summary: 'Capistrano Rails app: database dump, releases/, shared/, data directory',
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
    if (db.adapter === 'sqlite3') {
      const file = path.resolve(current, db.database);
      if (!(await isPresent(file))) throw new TierbackError(`app "${app.name}": the sqlite3 database ${file} (from ${dbYml}) does not exist`, { hint: 'check database.yml' });
      steps.push(sqliteDump(ctx, file, path.basename(db.database).replace(/\.(sqlite3?|db)$/, '') || 'db'));
    } else if (db.adapter === 'postgresql') {
      steps.push(postgresDump(ctx, conn, db.database));
    } else {
      const m = mysqlDump(ctx, conn, db.database);
      steps.push(m.step);
      secretFiles.push(m.secret);
    }
    const sources = [cap];
    const prev = (sub: string) => (ctx.previous ? path.join(ctx.previous, sub) : undefined);
    for (const sub of ['releases', 'shared']) {
      if (!(await isDir(path.join(cap, sub)))) throw new TierbackError(`app "${app.name}": ${path.join(cap, sub)} is missing`, { hint: 'a Capistrano app has releases/ and shared/' });
    }
    steps.push({ kind: 'rsync', title: 'copy the current symlink', source: current, dest: ctx.staging, argv: rsyncArgv({ source: current, dest: ctx.staging, single: true }) });
    steps.push({
      kind: 'rsync',
      title: 'copy releases/ (older releases too)',
      source: path.join(cap, 'releases'),
      dest: path.join(ctx.staging, 'releases'),
      argv: rsyncArgv({ source: path.join(cap, 'releases'), dest: path.join(ctx.staging, 'releases'), linkDest: prev('releases') }),
    });
    steps.push({
      kind: 'rsync',
      title: 'copy shared/ (its var link is followed separately)',
      source: path.join(cap, 'shared'),
      dest: path.join(ctx.staging, 'shared'),
      argv: rsyncArgv({ source: path.join(cap, 'shared'), dest: path.join(ctx.staging, 'shared'), linkDest: prev('shared'), excludes: [...o.exclude, '/var'] }),
    });
    const varLink = path.join(cap, 'shared', 'var');
    if (o.data && (await isPresent(varLink))) {
      const st = await lstat(varLink);
      const data = st.isSymbolicLink() ? await realpath(varLink).catch(() => undefined) : varLink;
      if (!data) throw new TierbackError(`app "${app.name}": ${varLink} links to ${await readlink(varLink)}, which does not exist`, { hint: 'is the data disk mounted?' });
      sources.push(data);
      steps.push({
        kind: 'rsync',
        title: `copy the data directory ${data} into shared/var/`,
        source: data,
        dest: path.join(ctx.staging, 'shared', 'var'),
        argv: rsyncArgv({ source: data, dest: path.join(ctx.staging, 'shared', 'var'), linkDest: prev('shared/var') }),
      });
    }
    return { sources, steps, secretFiles, facts: { adapter: db.adapter } };
  },
  async verify(dir, _o, { exec, signal }) {
    const problems: VerifyProblem[] = await verifyDumps(dir, exec, signal, { required: true });
    for (const sub of ['releases', 'shared']) if (!(await isDir(path.join(dir, sub)))) problems.push({ path: sub, message: 'missing' });
    return problems;
  },
  restore(app, _o, backupDir) {
    return {
      contents: ['db/<database>-<stamp>.<ext>: database dumps (newest last)', 'releases/, shared/, current: the Capistrano tree', 'shared/var/: the data directory'],
      commands: [
        `rsync -a ${backupDir}/releases ${backupDir}/current <cap dir>/`,
        `rsync -a --exclude=/var ${backupDir}/shared/ <cap dir>/shared/`,
        `rsync -a ${backupDir}/shared/var/ <data dir that <cap dir>/shared/var links to>/`,
        'sqlite3:    gunzip -c db/<db>-<stamp>.sqlite.sql.gz | sqlite3 <database file>',
        'postgresql: pg_restore --clean --if-exists --no-owner -d <database> db/<db>-<stamp>.pgdump',
        'mysql2:     gunzip -c db/<db>-<stamp>.mysql.sql.gz | mysql <database>',
      ],
    };
  },
});
