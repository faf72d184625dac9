/**
 * The mongodb job type's plan as data (per database and "all", default connection, databases(),
 * bad options). The engine's archive check and load commands are tested in test/unit/tiers/engines/mongodb.test.ts.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { mongodbEngine } from '../../../../lib/tiers/engines/mongodb.js';
import { TierbackError } from '../../../../lib/base/errors.js';
import { mongodbJob } from '../../../../lib/tiers/jobs/mongodb.js';
import { argvs, assertRefused, assertSecretsHidden, planOf, siteOf, STAMP } from '../../../helpers/plans.js';
import { tempDir } from '../../../helpers/tree.js';

describe('mongodb job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const uriFile = path.join(dir, 'uri');
  const pwFile = path.join(dir, 'pw');
  await writeFile(uriFile, 'mongodb://backupuser@db1.example.com:27017/?authSource=admin\n', { mode: 0o600 });
  await writeFile(pwFile, 'm0ngo-pw\n', { mode: 0o600 });

  it('dumps every database in one archive without --db, to localhost by default, the config file holding only the URI', async () => {
    const { plan, staging, secretDir } = await planOf(path.join(dir, 'all'), { type: 'mongodb', path: '/var/lib/mongodb', options: { databases: 'all' } });
    assert.deepEqual(plan.sources, ['mongodb://localhost:27017/*']);
    assert.deepEqual(argvs(plan.steps), [['mongodump', `--config=${secretDir}/mongo-all.yaml`, '--archive', '--gzip']]);
    assert.equal(plan.steps[0]?.kind === 'dump' && plan.steps[0].file, `${staging}/db/all-${STAMP}.mongodb.archive.gz`);
    assert.deepEqual(plan.secretFiles, [{ path: `${secretDir}/mongo-all.yaml`, content: 'uri: "mongodb://localhost:27017"\n' }]);
    assert.equal(plan.keepsDumps, true);
  });

  it('keeps the user and the password out of argv, sources and the printed plan', async () => {
    const { plan } = await planOf(path.join(dir, 'one'), { type: 'mongodb', path: '/', options: { databases: ['shop'], uri_file: uriFile, password_file: pwFile } });
    assert.deepEqual(plan.sources, ['mongodb://db1.example.com:27017/shop']);
    assertSecretsHidden(plan, ['m0ngo-pw', 'backupuser']);
  });

  it('gives restore and drills the connection string and password of a dump and its live database', async () => {
    const { app } = await siteOf(path.join(dir, 'db'), { type: 'mongodb', path: '/', options: { databases: ['shop'], uri_file: uriFile, password_file: pwFile } });
    const got = await mongodbJob.databases!(app, mongodbJob.options.parse(app.options), { engine: mongodbEngine, db: 'shop' });
    assert.deepEqual(got, { conn: { uri: 'mongodb://backupuser@db1.example.com:27017/?authSource=admin', password: 'm0ngo-pw' }, live: 'shop' });
  });

  it('refuses a relative uri_file, a URI written in the inventory and an unreadable password file', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'mongodb', path: '/', options: { databases: ['shop'], uri_file: 'uri' } }, 'apps[0].options.uri_file', /"\/"/);
    await assertRefused(path.join(dir, 'bad2'), { type: 'mongodb', path: '/', options: { databases: ['shop'], uri: 'mongodb://u:p@h' } }, 'apps[0].options', /uri/);
    await assert.rejects(planOf(path.join(dir, 'bad3'), { type: 'mongodb', path: '/', options: { databases: ['shop'], password_file: path.join(dir, 'none') } }), (err: unknown) => err instanceof TierbackError && /apps\[0\]\.options\.password_file/.test(err.hint ?? ''));
  });
});
