/**
 * wordpress: reads wp-config.php (DB_NAME, DB_USER, DB_PASSWORD, DB_HOST, $table_prefix) as text,
 * never executing PHP; dumps the database with mysqldump --single-transaction and copies
 * wp-content/ and the configuration (wp-config.php, .htaccess) into config/.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TierbackError } from '../../base/errors.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { requireDir, copyArgv, verifyDumps, copyStep } from './common.js';
import { isDir, exists } from '../../base/fsutil.js';
import { dumpName } from '../engines/common.js';
import { mysqlDump } from '../engines/mysql.js';
import type { DbConnection } from '../engines/types.js';
import { defineJobType, type Step } from './types.js';

export const wordpressOptions = z
  .strictObject({
    exclude: z.array(z.string().min(1)).default(['/cache/', '/upgrade/']).meta({ description: 'rsync exclude patterns inside wp-content/ (default "/cache/", "/upgrade/").' }),
  })
  .meta({ description: 'Options of the wordpress type (docs/jobs/wordpress.md).' });
export type WordpressOptions = z.output<typeof wordpressOptions>;

export interface WpConfig {
  name: string;
  user: string;
  password: string;
  host: string;
  tablePrefix: string;
}

/** Unescapes a PHP single- or double-quoted string body (the common escapes). */
function phpString(quote: string, body: string): string {
  return quote === "'" ? body.replace(/\\(['\\])/g, '$1') : body.replace(/\\(["\\$])/g, '$1').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
}

/** Parses wp-config.php text (comments ignored). */
export function parseWpConfig(text: string): Partial<WpConfig> {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*(\/\/|#).*$/gm, '');
  const out: Partial<WpConfig> = {};
  const define = /define\s*\(\s*(['"])(DB_NAME|DB_USER|DB_PASSWORD|DB_HOST)\1\s*,\s*(['"])((?:\\.|(?!\3).)*)\3\s*\)/g;
  const keys: Record<string, keyof WpConfig> = { DB_NAME: 'name', DB_USER: 'user', DB_PASSWORD: 'password', DB_HOST: 'host' };
  for (const m of code.matchAll(define)) out[keys[m[2]!]!] = phpString(m[3]!, m[4]!);
  const prefix = /\$table_prefix\s*=\s*(['"])((?:\\.|(?!\1).)*)\1\s*;/.exec(code);
  if (prefix) out.tablePrefix = phpString(prefix[1]!, prefix[2]!);
  return out;
}

/** DB_HOST forms: "localhost", "db.example.com", "127.0.0.1:3307", "localhost:/run/mysqld/mysqld.sock". */
export function wpConnection(c: WpConfig): DbConnection {
  const [host, rest] = c.host.split(/:(.*)/s, 2) as [string, string | undefined];
  if (rest?.startsWith('/')) return { host, socket: rest, user: c.user, password: c.password };
  if (rest && /^\d+$/.test(rest)) return { host, port: Number(rest), user: c.user, password: c.password };
  return { host: c.host, user: c.user, password: c.password };
}

async function readWpConfig(app: ResolvedApp): Promise<{ file: string; config: WpConfig }> {
  // WordPress also looks one folder up for wp-config.php.
  const candidates = [path.join(app.path, 'wp-config.php'), path.join(path.dirname(app.path), 'wp-config.php')];
  for (const file of candidates) {
    if (!(await exists(file))) continue;
    const c = parseWpConfig(await readFile(file, 'utf8'));
    const missing = (['name', 'user', 'password', 'host'] as const).filter((k) => c[k] === undefined);
    if (missing.length) {
      throw new TierbackError(`app "${app.name}": ${file} does not define ${missing.map((k) => `DB_${k.toUpperCase()}`).join(', ')} as a plain string`, {
        hint: 'the job reads wp-config.php without running PHP: define() the values with literal strings',
      });
    }
    return { file, config: { tablePrefix: 'wp_', ...c } as WpConfig };
  }
  throw new TierbackError(`app "${app.name}": no wp-config.php in ${app.path} or its parent`, { hint: `apps[${app.index}].path names the WordPress folder (the one holding wp-content/)` });
}

export const wordpressJob = defineJobType<WordpressOptions>({
  name: 'wordpress',
  summary: 'WordPress: mysqldump of its database, wp-content/ and configuration',
  options: wordpressOptions,
  async plan(app, o, ctx) {
    await requireDir(app.path, app, 'WordPress folder');
    const { file, config } = await readWpConfig(app);
    const m = mysqlDump(ctx, wpConnection(config), dumpName(config.name, app, `DB_NAME in ${file}`));
    const steps: Step[] = [m.step];
    const content = path.join(app.path, 'wp-content');
    if (!(await isDir(content))) throw new TierbackError(`app "${app.name}": ${content} is missing`, { hint: `apps[${app.index}].path names the WordPress folder` });
    steps.push(copyStep(ctx, 'wp-content', { title: 'copy wp-content/', source: content, excludes: o.exclude }));
    for (const f of [file, path.join(app.path, '.htaccess')]) {
      if (!(await exists(f))) continue;
      steps.push({ kind: 'rsync', title: `copy ${path.basename(f)} into config/`, source: f, dest: path.join(ctx.staging, 'config'), argv: copyArgv({ source: f, dest: path.join(ctx.staging, 'config'), single: true }) });
    }
    return { sources: [app.path, `mysql://${config.host}/${config.name}`], steps, secretFiles: [m.secret], facts: { table_prefix: config.tablePrefix } };
  },
  async verify(dir, _o, { exec, signal }) {
    const problems = await verifyDumps(dir, exec, signal, { required: true });
    if (!(await isDir(path.join(dir, 'wp-content')))) problems.push({ path: 'wp-content', message: 'missing' });
    if (!(await exists(path.join(dir, 'config', 'wp-config.php')))) problems.push({ path: 'config/wp-config.php', message: 'missing' });
    return problems;
  },
  async databases(app, _o, { engine, db }) {
    // WordPress also looks one folder up for wp-config.php.
    for (const file of [path.join(app.path, 'wp-config.php'), path.join(path.dirname(app.path), 'wp-config.php')]) {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const c = parseWpConfig(text);
      if (c.name && c.user && c.host) return { conn: wpConnection({ name: c.name, user: c.user, password: c.password ?? '', host: c.host, tablePrefix: c.tablePrefix ?? 'wp_' }), live: c.name };
    }
    return { conn: {}, live: engine.fileBased ? undefined : db };
  },
  restore(app, _o, backupDir) {
    return {
      contents: ['db/<DB_NAME>-<stamp>.mysql.sql.gz: the database', 'wp-content/: themes, plugins, uploads', 'config/: wp-config.php (holds the DB password: keep it private), .htaccess'],
      commands: [
        `rsync -a ${backupDir}/wp-content/ ${app.path}/wp-content/`,
        `cp -p ${backupDir}/config/wp-config.php ${app.path}/`,
        `gunzip -c ${backupDir}/db/<DB_NAME>-<stamp>.mysql.sql.gz | mysql <DB_NAME>`,
      ],
    };
  },
});
