/** The maildir job type's plan as data: new/ first, then cur/ and the rest (tmp/ left out), again while messages vanish. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { TierbackError } from '../../../../lib/base/errors.js';
import { maildirJob } from '../../../../lib/tiers/jobs/maildir.js';
import { argvs, assertRefused, planOf, RSYNC } from '../../../helpers/plans.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

describe('maildir job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const mail = path.join(dir, 'Maildir');
  await makeTree(mail, { cur: {}, new: { '1.host': 'm' }, tmp: {} });

  it('copies every new/ first, then cur/ and the rest without tmp/ contents, retrying the second pass 3 times by default', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'first'), { type: 'maildir', path: mail });
    assert.deepEqual(plan.sources, [mail]);
    assert.deepEqual(argvs(plan.steps), [
      [...RSYNC, '--filter=+ */', '--filter=+ new/*', '--filter=- *', `${mail}/`, `${staging}/mail/`],
      [...RSYNC, '--filter=- tmp/*', '--filter=- new/*', '--filter=+ *', `${mail}/`, `${staging}/mail/`],
    ]);
    assert.deepEqual(plan.steps.map((s) => (s.kind === 'rsync' ? s.retryOnVanished : 'not rsync')), [undefined, 3]);
  });

  it('links both passes to the previous copy and takes options.retries', async () => {
    const root = path.join(dir, 'again');
    await makeTree(path.join(root, 'backup', 'app.example.com', 'mail'), { cur: {} });
    const { plan, target } = await planOf(root, { type: 'maildir', path: mail, options: { retries: 0 } });
    assert.deepEqual(argvs(plan.steps).map((a) => a[5]), [`--link-dest=${target}/mail`, `--link-dest=${target}/mail`]);
    assert.equal(plan.steps[1]?.kind === 'rsync' && plan.steps[1].retryOnVanished, 0);
  });

  it('refuses a missing mail folder and more than 10 retries; restores in place from mail/, no databases', async () => {
    await assert.rejects(planOf(path.join(dir, 'missing'), { type: 'maildir', path: path.join(dir, 'nope') }), (err: unknown) => err instanceof TierbackError && /mail folder .*does not exist/.test(err.message));
    await assertRefused(path.join(dir, 'bad'), { type: 'maildir', path: mail, options: { retries: 11 } }, 'apps[0].options.retries', /too big|<=10/i);
    assert.equal(maildirJob.inPlaceDir, 'mail');
    assert.equal(maildirJob.databases, undefined);
  });
});
