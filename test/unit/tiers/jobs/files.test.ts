/** The files job type's plan as data: one rsync of the tree into files/, narrowed by globs through a file list. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TierbackError } from '../../../../lib/base/errors.js';
import { filesJob } from '../../../../lib/tiers/jobs/files.js';
import { argvs, assertRefused, planOf, RSYNC } from '../../../helpers/plans.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

describe('files job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const src = path.join(dir, 'src');
  await makeTree(src, { 'a.txt': 'a', sub: { 'b.log': 'b' } });

  it('copies the whole tree into files/ of the staging folder with one rsync, and keeps no dumps', async () => {
    const { plan, target, staging } = await planOf(path.join(dir, 'whole'), { type: 'files', path: src });
    assert.equal(plan.target, target);
    assert.equal(plan.staging, staging);
    assert.equal(plan.previous, undefined);
    assert.deepEqual(plan.sources, [src]);
    assert.equal(plan.steps.length, 1);
    const [copy] = plan.steps;
    assert.ok(copy?.kind === 'rsync');
    assert.equal(copy.dest, path.join(staging, 'files'));
    assert.deepEqual(copy.argv, [...RSYNC, `${src}/`, `${staging}/files/`]);
    assert.equal(copy.filesFrom, undefined);
    assert.equal(plan.keepsDumps, false);
    assert.deepEqual(plan.secretFiles, []);
    assert.deepEqual(plan.cleanup, []);
  });

  it('with include or exclude globs, rsync reads the file list the runner writes into the private folder', async () => {
    const { plan, staging, secretDir } = await planOf(path.join(dir, 'globs'), { type: 'files', path: src, options: { include: ['**/*.txt'], exclude: ['cache/**'] } });
    const [copy] = plan.steps;
    assert.ok(copy?.kind === 'rsync');
    const list = path.join(secretDir, 'files.list');
    assert.equal(plan.secretDir, secretDir);
    assert.deepEqual(copy.argv, [...RSYNC, `--files-from=${list}`, `${src}/`, `${staging}/files/`]);
    assert.deepEqual(copy.filesFrom, { cwd: src, include: ['**/*.txt'], exclude: ['cache/**'], list });
  });

  it('links unchanged files to the previous backup (--link-dest) when there is one', async () => {
    const root = path.join(dir, 'again');
    await mkdir(path.join(root, 'backup', 'app.example.com', 'files'), { recursive: true });
    const { plan, target, staging } = await planOf(root, { type: 'files', path: src });
    assert.equal(plan.previous, target);
    assert.deepEqual(argvs(plan.steps), [[...RSYNC, `--link-dest=${target}/files`, `${src}/`, `${staging}/files/`]]);
  });

  it('has no databases and restores in place from files/', () => {
    assert.equal(filesJob.databases, undefined);
    assert.equal(filesJob.inPlaceDir, 'files');
  });

  it('refuses a source folder that does not exist, naming apps[0].path', async () => {
    await assert.rejects(planOf(path.join(dir, 'missing'), { type: 'files', path: path.join(dir, 'nowhere') }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /source folder .*nowhere does not exist/);
      assert.match(err.hint ?? '', /apps\[0\]\.path/);
      return true;
    });
  });

  it('refuses an empty glob and an unknown option in the inventory', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'files', path: src, options: { include: [''] } }, 'apps[0].options.include[0]', /too small|>=1/i);
    await assertRefused(path.join(dir, 'bad2'), { type: 'files', path: src, options: { includes: ['*'] } }, 'apps[0].options', /includes/);
  });
});

