/** A server pulling its own local tier (transport: local), as the README demo does; real rsync. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { partialSnapshotDir, remoteServerDir, snapshotsDir } from '../../../../lib/model/convention.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { runPulls } from '../../../../lib/tiers/pull/pull.js';
import { tierback } from '../../../helpers/cli.js';
import { LOCAL_PULL_SERVER, localPullInventory, localPullSite, type LocalPullSite } from '../../../helpers/local-pull-site.js';
import { tempDir } from '../../../helpers/tree.js';

const S = LOCAL_PULL_SERVER;
const sandbox = {} as LocalPullSite;

before(async () => {
  Object.assign(sandbox, await localPullSite('tierback-pull-local-'));
  await symlink('/etc', path.join(sandbox.part, 'local/web/a.example.org/escape'));
});
after(() => sandbox.cleanup());

describe('tierback pull, local transport', () => {
  it('pulls twice into two dated snapshots; symlinks are copied as links, never followed', async () => {
    const r1 = await tierback(['pull', '-i', sandbox.inv, '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = await tierback(['pull', '-i', sandbox.inv, '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    const snaps = (await readdir(snapshotsDir(sandbox.part, S))).filter((n) => !n.startsWith('.'));
    assert.equal(snaps.length, 2);
    const cur = path.basename(await readlink(remoteServerDir(sandbox.part, S)));
    assert.equal(cur, snaps.sort()[1]);
    const link = path.join(remoteServerDir(sandbox.part, S), 'web/a.example.org/escape');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.ok(!existsSync(path.join(remoteServerDir(sandbox.part, S), 'web/a.example.org/escape/passwd/x')));
    const out = JSON.parse(r2.stdout) as { outcomes: { stats: { files: number } }[] };
    assert.equal(out.outcomes[0]!.stats.files, 1);
  });

  it('resumes the newest stale .partial and removes older ones', async () => {
    const old1 = partialSnapshotDir(sandbox.part, S, '2020-01-01T000000Z');
    const old2 = partialSnapshotDir(sandbox.part, S, '2020-01-02T000000Z');
    await mkdir(path.join(old1, 'junk'), { recursive: true });
    await mkdir(path.join(old2, 'web'), { recursive: true });
    await writeFile(path.join(old2, 'web/stray-from-a-killed-run'), 'x');
    const site = parseInventory(await import('node:fs/promises').then((f) => f.readFile(sandbox.inv, 'utf8')), sandbox.inv);
    const [o] = await runPulls(site, site.backupServers[0]!, { log: silentLogger() });
    assert.equal(o!.status, 'ok');
    assert.equal(o!.resumed, '2020-01-02T000000Z');
    assert.ok(!existsSync(old1) && !existsSync(old2));
    assert.ok(!existsSync(path.join(remoteServerDir(sandbox.part, S), 'web/stray-from-a-killed-run')), 'rsync --delete cleaned what the source no longer has');
  });

  it('refuses a real folder where the current link belongs, and records the failure', async () => {
    const { dir, cleanup: c } = await tempDir('tierback-pull-legacy-');
    try {
      const p = path.join(dir, 'p');
      await mkdir(path.join(p, 'local/web'), { recursive: true });
      await mkdir(path.join(p, 'remote', S, 'web'), { recursive: true });
      const i2 = path.join(dir, 'inv.yaml');
      await writeFile(i2, localPullInventory(p));
      const r = await tierback(['pull', '-i', i2]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /real folder/);
      assert.ok((await lstat(path.join(p, 'remote', S))).isDirectory(), 'the legacy mirror is untouched');
    } finally {
      await c();
    }
  });
});
