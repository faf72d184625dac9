import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { useTempDir } from '../../../helpers/tree.js';
import { appOf, jobSite, sh } from '../../../helpers/jobsite.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();
const gitEnv = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

async function commitAndPush(work: string, file: string, text: string, branch = 'main'): Promise<void> {
  await sh(['sh', '-c', 'printf "%s" "$1" > "$2"', 'sh', text, path.join(work, file)]);
  await sh(['git', '-C', work, 'add', '-A'], { env: gitEnv });
  await sh(['git', '-C', work, 'commit', '-q', '-m', `change ${file}`], { env: gitEnv });
  await sh(['git', '-C', work, 'push', '-q', 'origin', `HEAD:refs/heads/${branch}`], { env: gitEnv });
}

const refs = (gitDir: string) => sh(['git', '--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname)']);

describe('git job: incremental mirrors that fsck accepts', () => {
  const tmp = useTempDir('tierback-git-');
  let site: Site;
  before(async () => {
    const repos = path.join(tmp.dir, 'repos');
    await sh(['mkdir', '-p', repos]);
    for (const r of ['alpha.git', 'beta.git']) await sh(['git', 'init', '-q', '--bare', '-b', 'main', path.join(repos, r)]);
    await sh(['git', 'init', '-q', '-b', 'main', path.join(tmp.dir, 'work')]);
    await sh(['git', '-C', path.join(tmp.dir, 'work'), 'remote', 'add', 'origin', path.join(repos, 'alpha.git')]);
    await commitAndPush(path.join(tmp.dir, 'work'), 'README', 'one\n');
    site = await jobSite(tmp.dir, [{ name: 'code', type: 'git', path: repos, relpath: 'git.example.com' }]);
  });

  it('backs up every bare repo of the folder, then picks up new commits, branches and deletions; a clone of the backup matches', async () => {
    const app = appOf(site, 'code');
    const first = await runJob(site, app, { log });
    assert.equal(first.status, 'ok', first.error?.message);
    const mirror = path.join(first.target, 'repos', 'alpha.git');
    assert.equal(await refs(mirror), await refs(path.join(tmp.dir, 'repos', 'alpha.git')));

    const work = path.join(tmp.dir, 'work');
    await commitAndPush(work, 'README', 'two\n');
    await commitAndPush(work, 'feature.txt', 'f\n', 'feature');
    await sh(['git', '-C', work, 'tag', 'v1']);
    await sh(['git', '-C', work, 'push', '-q', 'origin', 'v1']);
    const second = await runJob(site, app, { log });
    assert.equal(second.status, 'ok', second.error?.message);
    assert.equal(await refs(mirror), await refs(path.join(tmp.dir, 'repos', 'alpha.git')));
    assert.equal(second.record!.extra?.['repos'], '2');

    await sh(['git', '-C', work, 'push', '-q', 'origin', ':feature']);
    const third = await runJob(site, app, { log });
    assert.equal(third.status, 'ok');
    assert.doesNotMatch(await refs(mirror), /feature/);

    // restore by hand (docs/jobs/git.md): clone --mirror from the backup, drop the origin
    const restored = path.join(tmp.dir, 'restored', 'alpha.git');
    await sh(['git', 'clone', '-q', '--mirror', mirror, restored]);
    await sh(['git', '--git-dir', restored, 'remote', 'remove', 'origin']);
    await sh(['git', '--git-dir', restored, 'fsck', '--no-progress']);
    assert.equal(await refs(restored), await refs(path.join(tmp.dir, 'repos', 'alpha.git')));
    const log1 = await sh(['git', '--git-dir', restored, 'log', '--format=%s', 'main']);
    assert.match(log1, /change README\nchange README/);
  });

  it('captures a repo consistently while it is being pushed to', async () => {
    const app = appOf(site, 'code');
    const work = path.join(tmp.dir, 'work');
    const pushes = (async () => {
      for (let i = 0; i < 8; i++) await commitAndPush(work, `f${i}.txt`, `${i}\n`);
    })();
    const o = await runJob(site, app, { log });
    await pushes;
    assert.equal(o.status, 'ok', o.error?.message);
    // every ref in the backup points at a commit whose whole history is present (fsck passed in verify)
    const mirror = path.join(o.target, 'repos', 'alpha.git');
    await sh(['git', '--git-dir', mirror, 'fsck', '--no-progress', '--connectivity-only']);
    const head = (await sh(['git', '--git-dir', mirror, 'rev-parse', 'main'])).trim();
    await sh(['git', '--git-dir', path.join(tmp.dir, 'repos', 'alpha.git'), 'merge-base', '--is-ancestor', head, 'main']);
  });
});
