/**
 * Hardlinks inside an app's folder survive the job (rsync -H), a restore from the local tier, a pull
 * into a snapshot and a restore from that snapshot: the two names share one inode at every step.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { remoteServerDir } from '../../../../lib/model/convention.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { runPulls } from '../../../../lib/tiers/pull/pull.js';
import { restoreFiles } from '../../../../lib/tiers/restore/restore.js';
import { useTempDir } from '../../../helpers/tree.js';
import { appOf, jobSite } from '../../../helpers/jobsite.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();

async function sameInode(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a), stat(b)]);
  return x.ino === y.ino && x.dev === y.dev;
}

describe('hardlinks within an app folder', () => {
  const tmp = useTempDir('tierback-hardlinks-');
  let site: Site;
  let src: string;
  before(async () => {
    src = path.join(tmp.dir, 'src');
    await mkdir(path.join(src, 'a'), { recursive: true });
    await mkdir(path.join(src, 'b'), { recursive: true });
    await writeFile(path.join(src, 'a', 'big.bin'), 'the same content under two names\n');
    await link(path.join(src, 'a', 'big.bin'), path.join(src, 'b', 'alias.bin'));
    await writeFile(path.join(src, 'plain.txt'), 'alone\n');
    site = await jobSite(tmp.dir, [{ name: 'docs', type: 'files', path: src, relpath: 'docs.example.org' }], { pulls: true });
  });

  it('keeps them through the job, a restore, a pull and a restore from the snapshot', async () => {
    const app = appOf(site, 'docs');
    const o = await runJob(site, app, { log, now: () => new Date('2026-01-12T01:00:00Z') });
    assert.equal(o.status, 'ok', o.error?.message);
    const files = path.join(o.target, 'files');
    assert.ok(await sameInode(path.join(files, 'a', 'big.bin'), path.join(files, 'b', 'alias.bin')), 'the job keeps the hardlink');
    assert.equal((await stat(path.join(files, 'plain.txt'))).nlink, 1);

    const to = path.join(tmp.dir, 'restored-local');
    await restoreFiles(site, app, { log, to, tier: 'local' });
    assert.ok(await sameInode(path.join(to, 'files', 'a', 'big.bin'), path.join(to, 'files', 'b', 'alias.bin')), 'the restore keeps the hardlink');

    const [p] = await runPulls(site, site.backupServers[0]!, { log, now: () => new Date('2026-01-12T03:00:00Z') });
    assert.equal(p!.status, 'ok', p!.error ?? p!.warning);
    const snap = path.join(remoteServerDir(site.servers[0]!.partition, 'app1.test.example'), 'web', 'docs.example.org', 'files');
    assert.ok(await sameInode(path.join(snap, 'a', 'big.bin'), path.join(snap, 'b', 'alias.bin')), 'the pull keeps the hardlink');
    const firstSnap = await realpath(snap);

    // The nightly case: a second job and pull with --link-dest: still one inode per pair, shared with the day before.
    const o2 = await runJob(site, app, { log, now: () => new Date('2026-01-13T01:00:00Z') });
    assert.equal(o2.status, 'ok', o2.error?.message);
    assert.ok(await sameInode(path.join(files, 'a', 'big.bin'), path.join(files, 'b', 'alias.bin')), 'the second job keeps it');
    const snap1 = firstSnap;
    const [p2] = await runPulls(site, site.backupServers[0]!, { log, now: () => new Date('2026-01-13T03:00:00Z') });
    assert.equal(p2!.status, 'ok', p2!.error ?? p2!.warning);
    const snap2 = await realpath(snap);
    assert.notEqual(snap2, snap1);
    assert.ok(await sameInode(path.join(snap2, 'a', 'big.bin'), path.join(snap2, 'b', 'alias.bin')), 'the second pull keeps it');
    assert.ok(await sameInode(path.join(snap2, 'a', 'big.bin'), path.join(firstSnap, 'a', 'big.bin')), 'and links it to the previous snapshot');

    const to2 = path.join(tmp.dir, 'restored-remote');
    await restoreFiles(site, app, { log, to: to2, tier: 'remote' });
    assert.ok(await sameInode(path.join(to2, 'files', 'a', 'big.bin'), path.join(to2, 'files', 'b', 'alias.bin')), 'a restore from the snapshot keeps it');
  });
});
