/** The rails job type's plan as data: the database of database.yml dumped by adapter, the Capistrano folder, shared/ and the data directory. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { engineOfFile } from '../../../../lib/tiers/engines/registry.js';
import { TierbackError } from '../../../../lib/base/errors.js';
import { railsJob } from '../../../../lib/tiers/jobs/rails.js';
import { argvs, assertRefused, assertSecretsHidden, planOf, RSYNC, siteOf, STAMP } from '../../../helpers/plans.js';
import { makeRailsTree } from '../../../helpers/rails.js';
import { tempDir } from '../../../helpers/tree.js';

const SQLITE_YML = 'production:\n  adapter: sqlite3\n  database: db/production.sqlite3\n';
const PG_YML = 'production:\n  adapter: postgresql\n  database: hydro_prod\n  host: db1.example.com\n  port: 5433\n  username: hydro\n  password: <%= ENV["DB_PASSWORD"] %>\n';
const MYSQL_YML = 'production:\n  adapter: mysql2\n  database: hydro_prod\n  socket: /run/mysqld/mysqld.sock\n  username: hydro\n  password: "my-Pa55"\n';

/** Asserts `plan` fails with a TierbackError whose message and hint match. */
async function assertPlanError(p: Promise<unknown>, message: RegExp, hint: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TierbackError, String(err));
    assert.match(err.message, message);
    assert.match(err.hint ?? '', hint);
    return true;
  });
}

describe('rails job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);

  it('sqlite3: dumps the file read-only, copies the Capistrano folder but shared/ (leaving out the live file\'s -wal/-shm/-journal), then shared/ and the data directory', async () => {
    const t = await makeRailsTree(path.join(dir, 'sq'), 'hydro', SQLITE_YML, { db: { 'production.sqlite3': 'not a WAL database' } });
    const { plan, staging } = await planOf(path.join(dir, 'sq-plan'), { type: 'rails', path: t.link });
    const data = await realpath(t.data);
    const live = path.join(t.current, 'db', 'production.sqlite3');
    const side = ['-wal', '-shm', '-journal'].map((s) => `--exclude=/releases/240201120000/db/production.sqlite3${s}`);
    assert.deepEqual(plan.sources, [t.cap, data]);
    assert.deepEqual(argvs(plan.steps), [
      ['sqlite3', '-readonly', '-bail', live, "SELECT 'PRAGMA journal_mode=' || journal_mode || ';' FROM pragma_journal_mode", '.dump'],
      [...RSYNC, '--exclude=/shared', ...side, `${t.cap}/`, `${staging}/`],
      [...RSYNC, '--exclude=/pids/', '--exclude=/tmp/', '--exclude=/var', `${t.cap}/shared/`, `${staging}/shared/`],
      [...RSYNC, `${data}/`, `${staging}/shared/var/`],
    ]);
    assert.equal(plan.steps[0]?.kind === 'dump' && plan.steps[0].file, `${staging}/db/production-${STAMP}.sqlite.sql.gz`);
    assert.deepEqual(plan.facts, { adapter: 'sqlite3' });
    assert.deepEqual(plan.secretFiles, []);
    assert.equal(plan.keepsDumps, true);
  });

  it('postgresql: pg_dump with the connection of database.yml, the password from password_file in PGPASSWORD only', async () => {
    const t = await makeRailsTree(path.join(dir, 'pg'), 'hydro', PG_YML);
    const pw = path.join(dir, 'pg.pw');
    await writeFile(pw, 'Rails-PG-pw\n', { mode: 0o600 });
    const { plan, staging } = await planOf(path.join(dir, 'pg-plan'), { type: 'rails', path: t.cap, options: { password_file: pw, exclude: ['/pids/'], data: false } });
    const [dump] = plan.steps;
    assert.ok(dump?.kind === 'dump');
    assert.deepEqual(dump.command.argv, ['pg_dump', '--format=custom', '--no-password', '--host=db1.example.com', '--port=5433', '--username=hydro', '--dbname=hydro_prod']);
    assert.deepEqual(dump.command.secretEnv, { PGPASSWORD: 'Rails-PG-pw' });
    assert.equal(dump.file, `${staging}/db/hydro_prod-${STAMP}.pgdump`);
    // data: false: no copy of the data directory; the excludes of shared/ come from the options
    assert.deepEqual(argvs(plan.steps).slice(1), [
      [...RSYNC, '--exclude=/shared', `${t.cap}/`, `${staging}/`],
      [...RSYNC, '--exclude=/pids/', '--exclude=/var', `${t.cap}/shared/`, `${staging}/shared/`],
    ]);
    assert.deepEqual(plan.sources, [t.cap]);
    assertSecretsHidden(plan, ['Rails-PG-pw']);
  });

  it('mysql2: mysqldump over the socket, the password of database.yml only in the 0600 option file', async () => {
    const t = await makeRailsTree(path.join(dir, 'my'), 'hydro', MYSQL_YML);
    const { plan, secretDir } = await planOf(path.join(dir, 'my-plan'), { type: 'rails', path: t.link });
    assert.deepEqual(argvs(plan.steps)[0]?.slice(0, 2), ['mysqldump', `--defaults-extra-file=${secretDir}/my-hydro_prod.cnf`]);
    assert.deepEqual(plan.secretFiles, [{ path: `${secretDir}/my-hydro_prod.cnf`, content: '[client]\nuser="hydro"\npassword="my-Pa55"\nsocket="/run/mysqld/mysqld.sock"\n' }]);
    assert.deepEqual(plan.facts, { adapter: 'mysql2' });
    assertSecretsHidden(plan, ['my-Pa55']);
  });

  it('gives restore and drills the live database: a path for sqlite3, a name for a server', async () => {
    const sq = await makeRailsTree(path.join(dir, 'db-sq'), 'hydro', SQLITE_YML, { db: { 'production.sqlite3': '' } });
    const a = (await siteOf(path.join(dir, 'db-sq-site'), { type: 'rails', path: sq.link })).app;
    const sqlite = engineOfFile(`production-${STAMP}.sqlite.sql.gz`)!.engine;
    assert.deepEqual(await railsJob.databases!(a, railsJob.options.parse(a.options), { engine: sqlite, db: 'production' }), {
      conn: { host: undefined, port: undefined, socket: undefined, user: undefined, password: undefined },
      live: path.join(sq.current, 'db', 'production.sqlite3'),
    });
    const my = await makeRailsTree(path.join(dir, 'db-my'), 'hydro', MYSQL_YML);
    const b = (await siteOf(path.join(dir, 'db-my-site'), { type: 'rails', path: my.link })).app;
    const mysql = engineOfFile(`hydro_prod-${STAMP}.mysql.sql.gz`)!.engine;
    assert.deepEqual(await railsJob.databases!(b, railsJob.options.parse(b.options), { engine: mysql, db: 'hydro_prod' }), {
      conn: { host: undefined, port: undefined, socket: '/run/mysqld/mysqld.sock', user: 'hydro', password: 'my-Pa55' },
      live: 'hydro_prod',
    });
  });

  it('refuses an ERB password without password_file, an unsupported adapter and a missing environment section', async () => {
    const pg = await makeRailsTree(path.join(dir, 'erb'), 'hydro', PG_YML);
    await assertPlanError(planOf(path.join(dir, 'erb-plan'), { type: 'rails', path: pg.link }), /production\.password is an ERB expression/, /apps\[0\]\.options\.password_file/);
    await assertPlanError(planOf(path.join(dir, 'env-plan'), { type: 'rails', path: pg.link, options: { environment: 'staging' } }), /has no "staging" section/, /apps\[0\]\.options\.environment/);
    const odd = await makeRailsTree(path.join(dir, 'odd'), 'hydro', 'production:\n  adapter: oracle\n  database: x\n');
    await assertPlanError(planOf(path.join(dir, 'odd-plan'), { type: 'rails', path: odd.link }), /adapter is "oracle"/, /supported adapters: sqlite3, postgresql, mysql2/);
  });

  it('refuses a path without a Capistrano layout and a Capistrano folder holding a name the backup uses (db/)', async () => {
    await mkdir(path.join(dir, 'plain'));
    await assertPlanError(planOf(path.join(dir, 'plain-plan'), { type: 'rails', path: path.join(dir, 'plain') }), /no Capistrano layout at /, /apps\[0\]\.path/);
    const t = await makeRailsTree(path.join(dir, 'reserved'), 'hydro', SQLITE_YML, { db: { 'production.sqlite3': '' } });
    await mkdir(path.join(t.cap, 'db'));
    await assertPlanError(planOf(path.join(dir, 'reserved-plan'), { type: 'rails', path: t.link }), /has a name the backup folder uses for itself/, /apps\[0\]/);
  });

  it('refuses an environment name with capitals and a relative password_file in the inventory', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'rails', path: '/srv', options: { environment: 'Production' } }, 'apps[0].options.environment', /./);
    await assertRefused(path.join(dir, 'bad2'), { type: 'rails', path: '/srv', options: { password_file: 'pw' } }, 'apps[0].options.password_file', /"\/"/);
  });
});
