/** The git job type's plan as data: a mirror clone per bare repository, incremental from the previous mirror. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TierbackError } from '../../../../lib/base/errors.js';
import { gitJob } from '../../../../lib/tiers/jobs/git.js';
import { argvs, assertRefused, planOf } from '../../../helpers/plans.js';
import { makeTree, tempDir, type Tree } from '../../../helpers/tree.js';

const GIT = ['git', '-c', 'safe.directory=*'];
/** What the job takes for a bare repository: HEAD, objects/, refs/. */
const bare = (): Tree => ({ HEAD: 'ref: refs/heads/main\n', objects: { info: {} }, refs: { heads: {} } });

describe('git job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const live = path.join(dir, 'git');
  await makeTree(live, { 'alpha.git': bare(), 'beta.git': bare(), 'notes': { 'readme.txt': 'not a repository' } });

  it('mirrors each bare repository of the folder into repos/<name>, in name order, from scratch on the first run', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'first'), { type: 'git', path: live });
    assert.deepEqual(plan.sources, [path.join(live, 'alpha.git'), path.join(live, 'beta.git')]);
    assert.deepEqual(argvs(plan.steps), [
      [...GIT, 'clone', '--quiet', '--mirror', '--no-local', path.join(live, 'alpha.git'), path.join(staging, 'repos', 'alpha.git')],
      [...GIT, 'clone', '--quiet', '--mirror', '--no-local', path.join(live, 'beta.git'), path.join(staging, 'repos', 'beta.git')],
    ]);
    assert.deepEqual(plan.facts, { repos: '2' });
    assert.equal(plan.keepsDumps, false);
    assert.deepEqual(plan.secretFiles, []);
  });

  it('starts from the previous mirror (objects hard-linked), points it at the live repository and fetches with --prune', async () => {
    const root = path.join(dir, 'again');
    const target = path.join(root, 'backup', 'app.example.com');
    await makeTree(path.join(target, 'repos'), { 'alpha.git': bare() });
    const { plan, staging } = await planOf(root, { type: 'git', path: live });
    const prev = path.join(target, 'repos', 'alpha.git');
    const dest = path.join(staging, 'repos', 'alpha.git');
    assert.deepEqual(argvs(plan.steps), [
      [...GIT, 'clone', '--quiet', '--mirror', '--local', prev, dest],
      [...GIT, '--git-dir', dest, 'remote', 'set-url', 'origin', path.join(live, 'alpha.git')],
      [...GIT, '--git-dir', dest, 'fetch', '--quiet', '--prune', '--no-auto-gc', 'origin'],
      // beta.git has no previous mirror: a fresh one
      [...GIT, 'clone', '--quiet', '--mirror', '--no-local', path.join(live, 'beta.git'), path.join(staging, 'repos', 'beta.git')],
    ]);
  });

  it('takes path itself when it is one bare repository', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'one'), { type: 'git', path: path.join(live, 'beta.git') });
    assert.deepEqual(argvs(plan.steps), [[...GIT, 'clone', '--quiet', '--mirror', '--no-local', path.join(live, 'beta.git'), path.join(staging, 'repos', 'beta.git')]]);
  });

  it('mirrors only the repositories options.repos names, and refuses a name the folder does not hold', async () => {
    const { plan } = await planOf(path.join(dir, 'only'), { type: 'git', path: live, options: { repos: ['beta.git'] } });
    assert.deepEqual(plan.sources, [path.join(live, 'beta.git')]);
    assert.deepEqual(plan.facts, { repos: '1' });
    await assert.rejects(planOf(path.join(dir, 'absent'), { type: 'git', path: live, options: { repos: ['beta.git', 'gamma.git'] } }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /no bare repository gamma\.git in /);
      assert.match(err.hint ?? '', /apps\[0\]\.options\.repos/);
      return true;
    });
  });

  it('refuses a folder holding no bare repository, naming apps[0].path', async () => {
    await assert.rejects(planOf(path.join(dir, 'none'), { type: 'git', path: path.join(live, 'notes') }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /holds no bare git repository/);
      assert.match(err.hint ?? '', /apps\[0\]\.path/);
      return true;
    });
  });

  it('refuses a repository name that could leave the folder, and has no databases', async () => {
    await assertRefused(path.join(dir, 'bad'), { type: 'git', path: live, options: { repos: ['../etc'] } }, 'apps[0].options.repos[0]', /repository folder name/);
    assert.equal(gitJob.databases, undefined);
  });
});
