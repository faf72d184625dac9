/** The moinmoin job type's plan as data: data/ without caches, and the top-level configuration files into config/. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TierbackError } from '../../../../lib/base/errors.js';
import { moinmoinJob } from '../../../../lib/tiers/jobs/moinmoin.js';
import { argvs, assertRefused, planOf, RSYNC } from '../../../helpers/plans.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

describe('moinmoin job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const wiki = path.join(dir, 'wiki');
  await makeTree(wiki, { 'wikiconfig.py': '', data: { pages: {}, user: {} }, store: { pages: {} } });

  it('copies data/ without caches and compiled Python, and the *.py, *.wsgi, *.cgi files at the top into config/', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'first'), { type: 'moinmoin', path: wiki });
    const data = path.join(wiki, 'data');
    assert.deepEqual(plan.sources, [data, wiki]);
    assert.deepEqual(argvs(plan.steps), [
      [...RSYNC, '--exclude=cache/', '--exclude=*.pyc', '--exclude=__pycache__/', `${data}/`, `${staging}/data/`],
      [...RSYNC, '--filter=+ /*.py', '--filter=+ /*.wsgi', '--filter=+ /*.cgi', '--filter=- *', `${wiki}/`, `${staging}/config/`],
    ]);
  });

  it('takes another data folder and excludes from the options, and links data/ to the previous copy', async () => {
    const root = path.join(dir, 'again');
    await makeTree(path.join(root, 'backup', 'app.example.com', 'data'), { pages: {} });
    const { plan, target, staging } = await planOf(root, { type: 'moinmoin', path: wiki, options: { data: 'store', exclude: ['tmp/'] } });
    assert.deepEqual(argvs(plan.steps)[0], [...RSYNC, `--link-dest=${target}/data`, '--exclude=tmp/', `${wiki}/store/`, `${staging}/data/`]);
  });

  it('refuses a data folder that does not exist, naming apps[0].options.data', async () => {
    await assert.rejects(planOf(path.join(dir, 'nodata'), { type: 'moinmoin', path: wiki, options: { data: 'missing' } }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /wiki data folder .*missing does not exist/);
      assert.match(err.hint ?? '', /apps\[0\]\.options\.data/);
      return true;
    });
  });

  it('refuses an empty exclude pattern, and has no databases', async () => {
    await assertRefused(path.join(dir, 'bad'), { type: 'moinmoin', path: wiki, options: { exclude: [''] } }, 'apps[0].options.exclude[0]', /too small|>=1/i);
    assert.equal(moinmoinJob.databases, undefined);
  });
});
