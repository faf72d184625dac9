/** pruneSnapshots on real, hardlinked snapshot trees: safety rules, a real rsync pulling meanwhile, space freed. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../../../lib/model/convention.js';
import { appendRecord } from '../../../../lib/model/history.js';
import { pruneAfterJob, pruneAfterPull, pruneSnapshots, removeTree } from '../../../../lib/tiers/retention/index.js';
import { createExec } from '../../../../lib/base/exec.js';
import { silentLogger } from '../../../../lib/base/log.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { tempDir, useCleanups } from '../../../helpers/tree.js';
import { APP_SERVER, freshSite, listStamps, makeSnapshots, setCurrent } from '../../../helpers/snapshots.js';

const day = (n: number) => new Date(Date.UTC(2025, 0, n, 3, 0, 0));

async function fresh(extra?: Parameters<typeof freshSite>[1]) {
  const f = await freshSite('tierback-prune-snap-', extra);
  return { ...f, b: f.site.backupServers[0]! };
}

async function pullRecord(partition: string, site: Site, status: 'ok' | 'failed', at: Date, run: string) {
  await appendRecord(C.serverHistoryDir(partition), { run, name: C.pullHistoryName(APP_SERVER), kind: 'pull', tier: 'remote', status, start: at, end: at, ...(status === 'failed' ? { error: 'rsync exited with code 23' } : {}) }, site.timezone);
}

describe('pruneSnapshots: safety rules', () => {
  const keep = useCleanups();

  it('never removes the snapshot remote/<server> points to, even when no rule keeps it', async () => {
    const f = keep(await fresh({ remoteRetention: '{ last: 2 }' }));
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2, 3, 4, 5].map(day));
    await setCurrent(f.partition, APP_SERVER, stamps[0]!); // e.g. a restore pinned an old one
    const [r] = await pruneSnapshots(f.site, f.b, { now: day(10) });
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), [stamps[0], stamps[3], stamps[4]]);
    assert.deepEqual(r!.kept.find((k) => k.id === stamps[0])!.reasons, ['current (remote/app1.test points to it)']);
    assert.deepEqual(r!.removed.map((x) => x.id), [stamps[2], stamps[1]]);
    // The current snapshot is whole: both files readable through the symlink.
    const viaLink = path.join(C.remoteAppDir(f.partition, APP_SERVER, 'web', 'v2.example.ch/hydro'), 'own.txt');
    assert.equal(await readFile(viaLink, 'utf8'), `snapshot ${stamps[0]}\n`);
  });

  it('ignores .partial snapshots, stray names and symlinks named like stamps (whose targets stay intact)', async () => {
    const f = keep(await fresh({ remoteRetention: '{ last: 1 }' }));
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2, 3].map(day));
    const dir = C.snapshotsDir(f.partition, APP_SERVER);
    const outside = path.join(f.dir, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'precious'), 'x');
    await symlink(outside, path.join(dir, C.snapshotStamp(day(0))));
    await mkdir(path.join(dir, `${C.snapshotStamp(day(4))}.partial`));
    await mkdir(path.join(dir, 'lost+found'));
    const [r] = await pruneSnapshots(f.site, f.b, { now: day(10) });
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), [stamps[2]]);
    assert.deepEqual(r!.skipped.map((s) => s.id).sort(), [C.snapshotStamp(day(0)), `${C.snapshotStamp(day(4))}.partial`, 'lost+found'].sort());
    assert.equal(await readFile(path.join(outside, 'precious'), 'utf8'), 'x');
    assert.ok((await lstat(path.join(dir, C.snapshotStamp(day(0))))).isSymbolicLink());
  });

  it('refuses a snapshots folder that is a symlink out of the partition', async () => {
    const f = keep(await fresh());
    const elsewhere = path.join(f.dir, 'elsewhere');
    await mkdir(elsewhere);
    await mkdir(C.snapshotsRoot(f.partition), { recursive: true });
    await symlink(elsewhere, C.snapshotsDir(f.partition, APP_SERVER));
    await assert.rejects(pruneSnapshots(f.site, f.b, { now: day(10) }), /outside/);
  });

  it('removes nothing while the newest pull has failed beyond the grace, and prunes again after a success', async () => {
    const f = keep(await fresh({ remoteRetention: '{ last: 1 }' }));
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2, 3].map(day));
    await pullRecord(f.partition, f.site, 'ok', day(3), 'r3');
    await pullRecord(f.partition, f.site, 'failed', day(4), 'r4');
    const [held] = await pruneSnapshots(f.site, f.b, { now: day(5) });
    assert.match(held!.held!, /newest pull \(run r4.*\) failed: rsync exited with code 23; failing for 24h .*beyond the grace of 0s/);
    assert.equal(held!.removed.length, 0);
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), stamps);
    assert.ok(held!.kept.every((k) => k.reasons.some((r) => r === 'newest' || r.startsWith('held:'))));
    await pullRecord(f.partition, f.site, 'ok', day(6), 'r6');
    const [ok] = await pruneSnapshots(f.site, f.b, { now: day(6) });
    assert.equal(ok!.held, undefined);
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), [stamps[2]]);
  });

  it('prunes within the grace, and takes a pull still running (start line only) as no failure', async () => {
    const f = keep(await fresh({ remoteRetention: '{ last: 1 }', defaults: '  prune: { grace: 2d }' }));
    await makeSnapshots(f.partition, APP_SERVER, [1, 2, 3].map(day));
    await pullRecord(f.partition, f.site, 'ok', day(3), 'r3');
    await pullRecord(f.partition, f.site, 'failed', day(4), 'r4');
    await appendRecord(C.serverHistoryDir(f.partition), { run: 'r5', name: C.pullHistoryName(APP_SERVER), kind: 'pull', tier: 'remote', status: 'running', start: day(5) }, f.site.timezone);
    const [r] = await pruneSnapshots(f.site, f.b, { now: new Date(day(5).getTime() + 3_600_000) });
    assert.equal(r!.held, undefined);
    assert.equal((await listStamps(f.partition, APP_SERVER)).length, 1);
  });

  it('finishes a deletion an earlier prune could not complete (.<stamp>.deleting)', async () => {
    const f = keep(await fresh({ remoteRetention: '{ daily: 7 }' }));
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2, 3].map(day));
    const crashed = C.deletingSnapshotDir(f.partition, APP_SERVER, C.snapshotStamp(day(0)));
    await mkdir(path.join(crashed, 'web', 'half'), { recursive: true });
    await writeFile(path.join(crashed, 'web', 'half', 'left'), 'x');
    const [dry] = await pruneSnapshots(f.site, f.b, { now: day(4), dryRun: true });
    assert.deepEqual(dry!.finished, [crashed]);
    assert.ok((await stat(crashed)).isDirectory(), 'a dry run deletes nothing');
    const [r] = await pruneSnapshots(f.site, f.b, { now: day(4) });
    assert.deepEqual(r!.finished, [crashed]);
    await assert.rejects(stat(crashed), /ENOENT/);
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), stamps);
  });
});

describe('pruneSnapshots while a real rsync pull writes the next snapshot', () => {
  let f: Awaited<ReturnType<typeof fresh>>;
  before(async () => {
    f = await fresh({ remoteRetention: '{ last: 1 }' });
  });
  after(() => f.cleanup());

  async function countFiles(dir: string): Promise<number> {
    let n = 0;
    for (const e of await readdir(dir, { withFileTypes: true })) n += e.isDirectory() ? await countFiles(path.join(dir, e.name)) : 1;
    return n;
  }
  async function digest(dir: string): Promise<string> {
    const { stdout } = await execa('bash', ['-c', 'cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum', '_', dir]);
    return createHash('sha256').update(stdout).digest('hex');
  }

  it('keeps the pull and the current snapshot whole; no snapshot is ever seen half-deleted', async () => {
    const src = path.join(f.dir, 'source');
    const files = 300;
    for (let i = 0; i < files; i++) {
      const d = path.join(src, 'web', 'v2.example.ch', 'hydro', `d${i % 10}`);
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, `f${i}`), `file ${i}\n`.repeat(40));
    }
    // Six complete snapshots made by rsync --link-dest from the source, as a pull makes them.
    const stamps: string[] = [];
    for (let n = 1; n <= 6; n++) {
      const stamp = C.snapshotStamp(day(n));
      const dest = C.snapshotDir(f.partition, APP_SERVER, stamp);
      await mkdir(path.dirname(dest), { recursive: true });
      const prev = stamps[stamps.length - 1];
      await execa('rsync', ['-a', ...(prev ? [`--link-dest=${C.snapshotDir(f.partition, APP_SERVER, prev)}`] : []), `${src}/`, `${dest}/`]);
      stamps.push(stamp);
    }
    await setCurrent(f.partition, APP_SERVER, stamps[5]!);
    const current = C.snapshotDir(f.partition, APP_SERVER, stamps[5]!);
    const before = await digest(current);
    // Next snapshot: a slow real rsync into <stamp>.partial, linking against the current one.
    await writeFile(path.join(src, 'web', 'v2.example.ch', 'hydro', 'big.bin'), Buffer.alloc(3 * 1024 * 1024, 7));
    const partial = C.partialSnapshotDir(f.partition, APP_SERVER, C.snapshotStamp(day(7)));
    const pull = execa('rsync', ['-a', '--bwlimit=1500', `--link-dest=${current}`, `${src}/`, `${partial}/`]);
    // A reader: every snapshot folder it can fully walk must have every file.
    let watching = true;
    let walks = 0;
    const halfSeen: string[] = [];
    const watcher = (async () => {
      while (watching) {
        for (const s of stamps) {
          try {
            const n = await countFiles(C.snapshotDir(f.partition, APP_SERVER, s));
            walks++;
            if (n !== files) halfSeen.push(`${s}: ${n} files`);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
      }
    })();
    let r: Awaited<ReturnType<typeof pruneSnapshots>>[number] | undefined;
    let stillPulling = false;
    let done: Awaited<typeof pull>;
    try {
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(pull.exitCode, null, 'the pull is still running while prune starts');
      [r] = await pruneSnapshots(f.site, f.b, { now: day(8) });
      stillPulling = pull.exitCode === null;
      done = await pull;
    } finally {
      watching = false;
      pull.kill();
      await watcher;
    }
    assert.ok(stillPulling, 'prune finished while the pull was still writing');
    assert.equal(done.exitCode, 0);
    assert.deepEqual(halfSeen, []);
    assert.ok(walks > 0);
    assert.ok(r);
    assert.deepEqual(r.removed.map((x) => x.id).sort(), stamps.slice(0, 5));
    assert.deepEqual(r.skipped.map((x) => x.id), [path.basename(partial)]);
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), [stamps[5]]);
    assert.equal(await digest(current), before, 'the current snapshot is untouched');
    assert.equal(await digest(partial), await digest(src), 'the pull wrote a complete copy');
    const a = await stat(path.join(current, 'web', 'v2.example.ch', 'hydro', 'd0', 'f0'));
    const b = await stat(path.join(partial, 'web', 'v2.example.ch', 'hydro', 'd0', 'f0'));
    assert.equal(a.ino, b.ino, 'the new snapshot still hardlinks unchanged files to the current one');
  });
});

describe('pruneSnapshots frees disk space', () => {
  let f: Awaited<ReturnType<typeof fresh>>;
  before(async () => {
    f = await fresh({ remoteRetention: '{ last: 1 }' });
  });
  after(() => f.cleanup());

  const du = async (p: string) => Number((await execa('du', ['-sk', p])).stdout.split('\t')[0]);

  it('frees what only the removed snapshots held (du before/after), keeps hardlinked data', async () => {
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2, 3].map(day), { ownBytes: 2 * 1024 * 1024 });
    const dir = C.snapshotsDir(f.partition, APP_SERVER);
    const kb0 = await du(dir);
    const shared = path.join(C.snapshotDir(f.partition, APP_SERVER, stamps[2]!), 'web', 'v2.example.ch', 'hydro', 'shared.txt');
    assert.equal((await stat(shared)).nlink, 3);
    await pruneSnapshots(f.site, f.b, { now: day(4) });
    const kb1 = await du(dir);
    assert.ok(kb0 - kb1 >= 2 * 2048, `freed ${kb0 - kb1} KiB, want at least 4096 (two unique 2 MiB files)`);
    assert.ok(kb1 >= 2048, 'the kept snapshot still holds its data');
    assert.equal((await stat(shared)).nlink, 1);
    assert.equal(await readFile(shared, 'utf8'), 'unchanged content\n');
  });
});

describe('prune after a pull / a job, when configured', () => {
  const keep = useCleanups();
  it('does nothing when defaults.prune.after_pull is off (the default)', async () => {
    const f = keep(await fresh({ remoteRetention: '{ last: 1 }' }));
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2].map(day));
    assert.equal(await pruneAfterPull(f.site, f.b, APP_SERVER, { now: day(3) }), undefined);
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), stamps);
    assert.equal(await pruneAfterJob(f.site, f.site.apps[0]!, { now: day(3) }), undefined);
  });
  it('prunes the pulled server\'s snapshots when after_pull is on', async () => {
    const f = keep(await fresh({ remoteRetention: '{ last: 1 }', defaults: '  prune: { after_pull: true }' }));
    const stamps = await makeSnapshots(f.partition, APP_SERVER, [1, 2].map(day));
    const r = await pruneAfterPull(f.site, f.b, APP_SERVER, { now: day(3) });
    assert.deepEqual(r?.removed.map((x) => x.id), [stamps[0]]);
    assert.deepEqual(await listStamps(f.partition, APP_SERVER), [stamps[1]]);
  });
});

describe('removeTree', () => {
  it('removes a deep tree with parallel rm processes, never following symlinks out of it', async () => {
    const t = await tempDir('tierback-removetree-');
    try {
      const outside = path.join(t.dir, 'outside');
      await mkdir(path.join(outside, 'sub'), { recursive: true });
      await writeFile(path.join(outside, 'sub', 'precious'), 'x');
      const tree = path.join(t.dir, 'tree');
      for (let i = 0; i < 40; i++) {
        await mkdir(path.join(tree, `a${i % 3}`, `b${i}`), { recursive: true });
        await writeFile(path.join(tree, `a${i % 3}`, `b${i}`, 'f'), String(i));
      }
      await symlink(outside, path.join(tree, 'a0', 'escape'));
      await symlink(outside, path.join(tree, 'escape-top'));
      await removeTree(tree, createExec(silentLogger()), 2);
      await assert.rejects(stat(tree), /ENOENT/);
      assert.equal(await readFile(path.join(outside, 'sub', 'precious'), 'utf8'), 'x');
    } finally {
      await t.cleanup();
    }
  });
});
