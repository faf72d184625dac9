/** `tierback pull --dry-run`: the plan the real pull runs (same rsync argv), and nothing written. Real rsync, real CLI. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { partialSnapshotDir } from '../../../../lib/model/convention.js';
import type { PullPlan } from '../../../../lib/tiers/pull/plan.js';
import { tierback } from '../../../helpers/cli.js';
import { freePort } from '../../../helpers/net.js';
import { LOCAL_PULL_SERVER, localPullSite, type LocalPullSite } from '../../../helpers/local-pull-site.js';
import { treeState } from '../../../helpers/treestate.js';

const S = LOCAL_PULL_SERVER;
const sandbox = {} as LocalPullSite;

before(async () => {
  Object.assign(sandbox, await localPullSite('tierback-pull-dry-'));
  await writeFile(path.join(sandbox.part, 'local/top.txt'), 'top');
  // A previous good pull (the plan links against it) and a stale .partial (the plan resumes it).
  const r = await tierback(['pull', '-i', sandbox.inv, '--now', '2026-03-01T01:00:00Z']);
  assert.equal(r.code, 0, r.stderr);
  await mkdir(path.join(partialSnapshotDir(sandbox.part, S, '2026-03-01T120000Z'), 'web'), { recursive: true });
});
after(() => sandbox.cleanup());

/** The argv of every rsync the real pull logged (`-v`: pino JSON lines with an argv). */
function loggedRsyncs(stderr: string): string[][] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { argv?: string[] })
    .filter((o) => o.argv?.[0] === 'rsync' && !o.argv.some((a) => a.startsWith('--files-from=')))
    .map((o) => o.argv!);
}

describe('tierback pull --dry-run', () => {
  it('changes nothing in the tree (paths, sizes, mtimes, modes) and prints every rsync as argv', async () => {
    const beforeState = await treeState(sandbox.root);
    const r = await tierback(['pull', '-i', sandbox.inv, '--dry-run', '--now', '2026-03-02T01:00:00Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await treeState(sandbox.root), beforeState, 'no lock, history line, .partial or link left or changed');
    assert.match(r.stdout, /writes: +\S+2026-03-02T010000Z\.partial \(resuming 2026-03-01T120000Z\.partial, renamed\)/);
    assert.match(r.stdout, /rsync -a .*--link-dest=\S+2026-03-01T010000Z.* -- \S+\/local\/ \S+2026-03-02T010000Z\.partial\//);
    assert.match(r.stdout, /current: +\S+remote\/sandbox\.test -> 2026-03-02T010000Z \(now: 2026-03-01T010000Z\)/);
    // Resuming, next to a snapshot it links to: temp files, never --inplace (the links are shared with that snapshot).
    assert.doesNotMatch(r.stdout, /--inplace/);
  });

  it('a first pull writes its files in place (a new empty folder shares no inode), as planned; the next one links and does not', async () => {
    const fresh = await localPullSite('tierback-pull-first-');
    try {
      await writeFile(path.join(fresh.part, 'local/top.txt'), 'top');
      const now = '2026-03-01T01:00:00Z';
      const dry = await tierback(['pull', '-i', fresh.inv, '--dry-run', '--json', '--streams', '1', '--now', now]);
      assert.equal(dry.code, 0, dry.stderr);
      const planned = (JSON.parse(dry.stdout) as { plans: PullPlan[] }).plans[0]!.commands[0]!.argv;
      assert.ok(planned.includes('--inplace') && !planned.some((a) => a.startsWith('--link-dest')), planned.join(' '));
      const real = await tierback(['pull', '-i', fresh.inv, '--streams', '1', '--no-progress', '-v', '--now', now]);
      assert.equal(real.code, 0, real.stderr);
      assert.deepEqual(loggedRsyncs(real.stderr), [planned]);
      const next = await tierback(['pull', '-i', fresh.inv, '--streams', '1', '--no-progress', '-v', '--now', '2026-03-02T01:00:00Z']);
      assert.equal(next.code, 0, next.stderr);
      const argv = loggedRsyncs(next.stderr)[0]!;
      assert.ok(!argv.includes('--inplace') && argv.some((a) => a.startsWith('--link-dest=')), argv.join(' '));
    } finally {
      await fresh.cleanup();
    }
  });

  it('--json prints the plan the real pull then runs: the same rsync argv, exactly', async () => {
    const now = '2026-03-03T01:00:00Z';
    const dry = await tierback(['pull', '-i', sandbox.inv, '--dry-run', '--json', '--streams', '1', '--now', now]);
    assert.equal(dry.code, 0, dry.stderr);
    const { plans } = JSON.parse(dry.stdout) as { plans: PullPlan[] };
    assert.equal(plans.length, 1);
    assert.equal(plans[0]!.commands.length, 1);
    const planned = plans[0]!.commands[0]!.argv;
    const real = await tierback(['pull', '-i', sandbox.inv, '--streams', '1', '--no-progress', '-v', '--now', now]);
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual(loggedRsyncs(real.stderr), [planned]);
  });

  it('over ssh: plans without contacting the server (nothing listens on its port)', async () => {
    const port = await freePort();
    const i2 = path.join(sandbox.root, 'inv-ssh.yaml');
    await writeFile(i2, `version: 1\nservers:\n  - { fqdn: app.test, partition: ${path.join(sandbox.root, 'src')}, role: app, ssh: { host: 127.0.0.1, port: ${port}, user: nobody } }\n  - { fqdn: ${S}, partition: ${sandbox.part}, role: backup }\nbackup_servers:\n  - server: ${S}\n    pulls: [{ server: app.test }]\n`);
    const beforeState = await treeState(sandbox.root);
    const r = await tierback(['pull', '-i', i2, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await treeState(sandbox.root), beforeState);
    const { plans } = JSON.parse(r.stdout) as { plans: PullPlan[] };
    const argv = plans[0]!.commands[0]!.argv;
    const e = argv[argv.indexOf('-e') + 1]!;
    assert.match(e, new RegExp(`^ssh -p ${port} `));
    assert.ok(argv.includes(`127.0.0.1:${path.join(sandbox.root, 'src')}/local/`), argv.join(' '));
    assert.match(e, / -l nobody /);
  });
});
