/** The mysql job type's plan as data: one mysqldump per database (or one --all-databases), the password only in a 0600 option file. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mysqlEngine } from '../../../../lib/tiers/engines/mysql.js';
import { TierbackError } from '../../../../lib/base/errors.js';
import { mysqlJob } from '../../../../lib/tiers/jobs/mysql.js';
import { argvs, assertRefused, assertSecretsHidden, planOf, siteOf, STAMP } from '../../../helpers/plans.js';
import { tempDir } from '../../../helpers/tree.js';

const DUMP_FLAGS = ['--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4'];

describe('mysql job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const pwFile = path.join(dir, 'mysql.pw');
  const password = 'pa"ss\\word 1';
  await writeFile(pwFile, `${password}\nsecond line ignored\n`, { mode: 0o600 });
  const options = { databases: ['shop', 'crm'], host: 'db1.example.com', port: 3307, user: 'backup', password_file: pwFile };

  it('dumps each database with mysqldump --single-transaction into db/, gzip\'d and checked for the trailer', async () => {
    const { plan, staging, secretDir } = await planOf(path.join(dir, 'two'), { type: 'mysql', path: '/var/lib/mysql', options });
    assert.deepEqual(plan.sources, ['mysql://db1.example.com:3307/shop,crm']);
    assert.deepEqual(argvs(plan.steps), [
      ['mysqldump', `--defaults-extra-file=${secretDir}/my-shop.cnf`, ...DUMP_FLAGS, '--', 'shop'],
      ['mysqldump', `--defaults-extra-file=${secretDir}/my-crm.cnf`, ...DUMP_FLAGS, '--', 'crm'],
    ]);
    assert.deepEqual(
      plan.steps.map((s) => s.kind === 'dump' && { db: s.db, file: s.file, compress: s.compress, check: s.check }),
      [
        { db: 'shop', file: `${staging}/db/shop-${STAMP}.mysql.sql.gz`, compress: true, check: 'mysqldump' },
        { db: 'crm', file: `${staging}/db/crm-${STAMP}.mysql.sql.gz`, compress: true, check: 'mysqldump' },
      ],
    );
    assert.equal(plan.keepsDumps, true);
  });

  it('writes the password (first line of password_file) into one 0600 option file per dump, never into argv or the printed plan', async () => {
    const { plan, secretDir } = await planOf(path.join(dir, 'secret'), { type: 'mysql', path: '/var/lib/mysql', options });
    assert.deepEqual(plan.secretFiles.map((f) => f.path), [`${secretDir}/my-shop.cnf`, `${secretDir}/my-crm.cnf`]);
    assert.equal(plan.secretFiles[0]?.content, '[client]\nuser="backup"\npassword="pa\\"ss\\\\word 1"\nhost="db1.example.com"\nport=3307\n');
    assertSecretsHidden(plan, [password, 'pa"ss']);
  });

  it('dumps every database in one mysqldump --all-databases, over the local socket by default', async () => {
    const { plan, staging, secretDir } = await planOf(path.join(dir, 'all'), { type: 'mysql', path: '/var/lib/mysql', options: { databases: 'all', socket: '/run/mysqld/mysqld.sock' } });
    assert.deepEqual(plan.sources, ['mysql:///run/mysqld/mysqld.sock/*']);
    assert.deepEqual(argvs(plan.steps), [['mysqldump', `--defaults-extra-file=${secretDir}/my-all.cnf`, ...DUMP_FLAGS, '--all-databases']]);
    assert.equal(plan.steps[0]?.kind === 'dump' && plan.steps[0].file, `${staging}/db/all-${STAMP}.mysql.sql.gz`);
    assert.equal(plan.secretFiles[0]?.content, '[client]\nsocket="/run/mysqld/mysqld.sock"\n');
  });

  it('gives restore and drills the connection of a dump and its live database', async () => {
    const { app } = await siteOf(path.join(dir, 'db'), { type: 'mysql', path: '/var/lib/mysql', options });
    const got = await mysqlJob.databases!(app, mysqlJob.options.parse(app.options), { engine: mysqlEngine, db: 'crm' });
    assert.deepEqual(got, { conn: { host: 'db1.example.com', port: 3307, socket: undefined, user: 'backup', password }, live: 'crm' });
  });

  it('refuses a password in the inventory, an empty or unsafe database list and a host that reads as an option', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'mysql', path: '/', options: { databases: ['shop'], password: 'x' } }, 'apps[0].options', /password/);
    await assertRefused(path.join(dir, 'bad2'), { type: 'mysql', path: '/', options: { databases: [] } }, 'apps[0].options.databases', /too small|>=1/i);
    await assertRefused(path.join(dir, 'bad3'), { type: 'mysql', path: '/', options: { databases: ['shop; drop'] } }, 'apps[0].options.databases[0]', /database name/);
    await assertRefused(path.join(dir, 'bad4'), { type: 'mysql', path: '/', options: { databases: ['shop'], host: '--all' } }, 'apps[0].options.host', /not a host name/);
  });

  it('refuses a password file it cannot read, naming apps[0].options.password_file', async () => {
    await assert.rejects(planOf(path.join(dir, 'nopw'), { type: 'mysql', path: '/', options: { databases: ['shop'], password_file: path.join(dir, 'absent.pw') } }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /cannot read the password file .*absent\.pw: ENOENT/);
      assert.match(err.hint ?? '', /apps\[0\]\.options\.password_file/);
      return true;
    });
  });
});
