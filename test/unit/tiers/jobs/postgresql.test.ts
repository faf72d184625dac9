/** The postgresql job type's plan as data: pg_dump custom format per database, or one pg_dumpall; the password only in PGPASSWORD. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { postgresqlEngine } from '../../../../lib/tiers/engines/postgresql.js';
import { postgresqlJob } from '../../../../lib/tiers/jobs/postgresql.js';
import { describePlan } from '../../../../lib/tiers/jobs/run.js';
import { argvs, assertRefused, assertSecretsHidden, planOf, siteOf, STAMP } from '../../../helpers/plans.js';
import { tempDir } from '../../../helpers/tree.js';

describe('postgresql job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const pwFile = path.join(dir, 'pg.pw');
  const password = "s3cr'et pg";
  await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  const options = { databases: ['shop', 'crm'], host: '192.0.2.10', port: 5433, user: 'backup', password_file: pwFile };

  it('dumps each database with pg_dump --format=custom, not gzip\'d again, checked with pg_restore --list', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'two'), { type: 'postgresql', path: '/var/lib/postgresql', options });
    assert.deepEqual(plan.sources, ['postgresql://192.0.2.10:5433/shop,crm']);
    const conn = ['--format=custom', '--no-password', '--host=192.0.2.10', '--port=5433', '--username=backup'];
    assert.deepEqual(argvs(plan.steps), [
      ['pg_dump', ...conn, '--dbname=shop'],
      ['pg_dump', ...conn, '--dbname=crm'],
    ]);
    assert.deepEqual(
      plan.steps.map((s) => s.kind === 'dump' && { db: s.db, file: s.file, compress: s.compress, check: s.check }),
      [
        { db: 'shop', file: `${staging}/db/shop-${STAMP}.pgdump`, compress: false, check: 'pg_restore' },
        { db: 'crm', file: `${staging}/db/crm-${STAMP}.pgdump`, compress: false, check: 'pg_restore' },
      ],
    );
    assert.equal(plan.keepsDumps, true);
  });

  it('hands the password to the child as PGPASSWORD only: not in argv, not in the printed plan, no secret file', async () => {
    const { plan } = await planOf(path.join(dir, 'secret'), { type: 'postgresql', path: '/', options });
    for (const s of plan.steps) assert.deepEqual(s.kind === 'dump' && s.command.secretEnv, { PGPASSWORD: password });
    assert.deepEqual(plan.secretFiles, []);
    const printed = describePlan(plan) as { steps: { command: { secretEnv: string[] } }[] };
    assert.deepEqual(printed.steps[0]?.command.secretEnv, ['PGPASSWORD']);
    assertSecretsHidden(plan, [password]);
  });

  it('dumps the whole server with one gzip\'d pg_dumpall, connecting through the socket folder', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'all'), { type: 'postgresql', path: '/', options: { databases: 'all', socket: '/run/postgresql', user: 'postgres' } });
    assert.deepEqual(plan.sources, ['postgresql:///run/postgresql/*']);
    assert.deepEqual(argvs(plan.steps), [['pg_dumpall', '--no-password', '--host=/run/postgresql', '--username=postgres']]);
    const [all] = plan.steps;
    assert.ok(all?.kind === 'dump');
    assert.deepEqual({ db: all.db, file: all.file, compress: all.compress, check: all.check, env: all.command.secretEnv }, { db: 'all', file: `${staging}/db/all-${STAMP}.pgdumpall.sql.gz`, compress: true, check: 'pg_dumpall', env: undefined });
  });

  it('gives restore and drills the connection of a dump and its live database', async () => {
    const { app } = await siteOf(path.join(dir, 'db'), { type: 'postgresql', path: '/', options });
    const got = await postgresqlJob.databases!(app, postgresqlJob.options.parse(app.options), { engine: postgresqlEngine, db: 'shop' });
    assert.deepEqual(got, { conn: { host: '192.0.2.10', port: 5433, socket: undefined, user: 'backup', password }, live: 'shop' });
  });

  it('refuses a port out of range, a relative socket, a user that reads as an option and "all" misspelt', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'postgresql', path: '/', options: { databases: ['shop'], port: 70000 } }, 'apps[0].options.port', /too big|<=65535/i);
    await assertRefused(path.join(dir, 'bad2'), { type: 'postgresql', path: '/', options: { databases: ['shop'], socket: 'run/postgresql' } }, 'apps[0].options.socket', /"\/"/);
    await assertRefused(path.join(dir, 'bad3'), { type: 'postgresql', path: '/', options: { databases: ['shop'], user: '-U' } }, 'apps[0].options.user', /not a database user name/);
    await assertRefused(path.join(dir, 'bad4'), { type: 'postgresql', path: '/', options: { databases: 'ALL' } }, 'apps[0].options.databases', /./);
  });
});
