/** The cvs job type's plan as data: read locks in every folder, one rsync without lock files, locks released whatever happened. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TierbackError } from '../../../../lib/base/errors.js';
import { cvsJob } from '../../../../lib/tiers/jobs/cvs.js';
import { assertRefused, planOf, RSYNC, RUN_ID } from '../../../helpers/plans.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

describe('cvs job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const repo = path.join(dir, 'cvsroot');
  await makeTree(repo, { CVSROOT: { 'modules,v': '' }, project: { 'main.c,v': '' } });

  it('takes read locks named after the run, copies the repository without lock files, and releases the locks in cleanup', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'first'), { type: 'cvs', path: repo });
    const args = { root: repo, lock: `#cvs.rfl.tierback.${RUN_ID}`, wait: '120' };
    assert.deepEqual(plan.sources, [repo]);
    assert.equal(plan.steps.length, 2);
    const [lock, copy] = plan.steps;
    assert.deepEqual(lock && { kind: lock.kind, ...(lock.kind === 'custom' ? { action: lock.action, args: lock.args } : {}) }, { kind: 'custom', action: 'cvs-readlock', args });
    assert.ok(copy?.kind === 'rsync');
    assert.deepEqual(copy.argv, [...RSYNC, '--exclude=#cvs.*', '--exclude=CVS/Entries.Log', `${repo}/`, `${staging}/cvsroot/`]);
    assert.equal(plan.cleanup.length, 1);
    assert.deepEqual(plan.cleanup[0]?.kind === 'custom' && { action: plan.cleanup[0].action, args: plan.cleanup[0].args }, { action: 'cvs-unlock', args });
    assert.equal(plan.keepsDumps, false);
  });

  it('waits options.wait_locks seconds for writers, and links to the previous copy', async () => {
    const root = path.join(dir, 'again');
    await makeTree(path.join(root, 'backup', 'app.example.com', 'cvsroot'), { CVSROOT: {} });
    const { plan, target, staging } = await planOf(root, { type: 'cvs', path: repo, options: { wait_locks: 5 } });
    const [lock, copy] = plan.steps;
    assert.ok(lock?.kind === 'custom' && copy?.kind === 'rsync');
    assert.equal(lock.args['wait'], '5');
    assert.deepEqual(copy.argv, [...RSYNC, `--link-dest=${target}/cvsroot`, '--exclude=#cvs.*', '--exclude=CVS/Entries.Log', `${repo}/`, `${staging}/cvsroot/`]);
  });

  it('refuses a folder without CVSROOT/, naming apps[0].path', async () => {
    await assert.rejects(planOf(path.join(dir, 'noroot'), { type: 'cvs', path: path.join(repo, 'project') }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /has no CVSROOT folder/);
      assert.match(err.hint ?? '', /apps\[0\]\.path/);
      return true;
    });
  });

  it('refuses a negative or too long wait, and has no databases', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'cvs', path: repo, options: { wait_locks: -1 } }, 'apps[0].options.wait_locks', /too small|>=0/i);
    await assertRefused(path.join(dir, 'bad2'), { type: 'cvs', path: repo, options: { wait_locks: 7200 } }, 'apps[0].options.wait_locks', /too big|<=3600/i);
    assert.equal(cvsJob.databases, undefined);
  });
});
