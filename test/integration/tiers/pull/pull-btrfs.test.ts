/**
 * The btrfs snapshot engine on a real btrfs filesystem (a loop file made and removed by the test,
 * test/helpers/btrfs.ts): snapshots are read-only subvolumes made from the one before (O(1)), changes
 * never leak into older snapshots, a pull killed with kill -9 is resumed, prune deletes subvolumes,
 * and restore and offsite copies read btrfs snapshots. Real rsync, real `files` job, real rclone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { remoteServerDir, snapshotDir, snapshotsDir } from '../../../../lib/model/convention.js';
import { createExec } from '../../../../lib/base/exec.js';
import { parseInventory } from '../../../../lib/site/load.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { btrfsEngine, isSubvolume } from '../../../../lib/tiers/snapshots/engines/btrfs.js';
import { resolveBackupServer, runPulls } from '../../../../lib/tiers/pull/pull.js';
import { pruneSnapshots } from '../../../../lib/tiers/retention/index.js';
import { pushToRemote } from '../../../../lib/tiers/offsite/push.js';
import { fetchOffsite } from '../../../../lib/tiers/offsite/fetch.js';
import { resolveTarget } from '../../../../lib/tiers/offsite/rclone.js';
import { btrfsUnavailable, mountBtrfs, type BtrfsMount } from '../../../helpers/btrfs.js';
import { CLI, tierback } from '../../../helpers/cli.js';
import { waitFor } from '../../../helpers/net.js';

const skip = btrfsUnavailable();
const S = 'bk.test';
const REL = 'web/d.example.org/docs';
let fs: BtrfsMount | undefined;
let part: string;
let src: string;
let inv: string;
let site: Site;

function yaml(root: string, extra = ''): string {
  return `version: 1
defaults:
  partition: ${root}/part
  mount: ${root}/part/local/web
  timezone: UTC
  retention:
    remote: { daily: 1 }
servers:
  - { fqdn: ${S}, role: both }
vms:
  - { name: web, server: ${S}, mount: ${root}/part/local/web }
apps:
  - { name: docs, server: ${S}, vm: web, path: ${root}/src, relpath: d.example.org/docs, type: files }
backup_servers:
  - server: ${S}
    pulls: [{ server: ${S}, transport: local }]
    snapshots: btrfs
${extra}`;
}

const day = (d: number) => new Date(Date.UTC(2026, 2, d, 4, 0, 0));
async function pullAt(d: number, s = site) {
  const [o] = await runPulls(s, resolveBackupServer(s, S), { log: silentLogger(), now: () => day(d), retries: 0 });
  assert.ok(o && (o.status === 'ok' || o.status === 'warning'), `pull failed: ${o?.error}`);
  return o!;
}
const job = async () => {
  const r = await tierback(['job', 'docs', '-i', inv]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
};

before(async () => {
  if (skip) return;
  fs = await mountBtrfs('tierback-pull-btrfs-');
  part = path.join(fs.dir, 'part');
  src = path.join(fs.dir, 'src');
  await mkdir(path.join(src, 'sub'), { recursive: true });
  for (let i = 0; i < 30; i++) await writeFile(path.join(src, 'sub', `f${i}.txt`), `file ${i}\n`.repeat(100));
  await writeFile(path.join(src, 'big.bin'), Buffer.alloc(256 * 1024, 7));
  await mkdir(path.join(part, 'local/web'), { recursive: true, mode: 0o700 });
  await mkdir(path.join(fs.dir, 'bucket'));
  await writeFile(path.join(fs.dir, 'rclone.conf'), '[localfs]\ntype = local\n');
  inv = path.join(fs.dir, 'inv.yaml');
  const text = yaml(fs.dir, `offsite:\n  rclone_config: ${fs.dir}/rclone.conf\n  targets:\n    - { name: local, remote: "localfs:${fs.dir}/bucket/site" }\n`);
  await writeFile(inv, text);
  site = parseInventory(text, inv);
});
after(async () => {
  await fs?.cleanup();
});

describe('btrfs snapshot engine (real btrfs loop file)', { skip }, () => {
  let s1: string;
  let s2: string;

  it('a first pull makes a subvolume; the next one is a btrfs snapshot of it (O(1)), both sealed read-only', async () => {
    await job();
    s1 = (await pullAt(1)).snapshot!;
    await job();
    s2 = (await pullAt(2)).snapshot!;
    const exec = createExec(silentLogger());
    const d1 = await btrfsEngine.describe(snapshotDir(part, S, s1), exec);
    const d2 = await btrfsEngine.describe(snapshotDir(part, S, s2), exec);
    assert.equal(d1.engine, 'btrfs');
    assert.ok(d1.readOnly && d2.readOnly, 'complete snapshots are read-only subvolumes');
    assert.equal(d2.facts.parent_uuid, d1.facts.uuid, 'the second snapshot is a btrfs snapshot of the first, not a copy');
    assert.equal(await readFile(path.join(remoteServerDir(part, S), REL, 'files/sub/f3.txt'), 'utf8'), 'file 3\n'.repeat(100));
  });

  it('changes in a new snapshot never leak into the older one (in-place update, chmod, mtime)', async () => {
    const old = path.join(snapshotDir(part, S, s2), REL, 'files');
    const before = { big: await readFile(path.join(old, 'big.bin')), bigSt: await stat(path.join(old, 'big.bin')), f1: await stat(path.join(old, 'sub/f1.txt')) };
    // Same size, new bytes in the middle (rsync --inplace rewrites only those blocks); a chmod; an mtime.
    const buf = Buffer.alloc(256 * 1024, 7);
    buf.fill(9, 100_000, 110_000);
    await writeFile(path.join(src, 'big.bin'), buf);
    await chmod(path.join(src, 'sub/f1.txt'), 0o600);
    await utimes(path.join(src, 'sub/f2.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
    await job();
    const o = await pullAt(3);
    const cur = path.join(snapshotDir(part, S, o.snapshot!), REL, 'files');
    assert.deepEqual(await readFile(path.join(cur, 'big.bin')), buf);
    assert.equal((await stat(path.join(cur, 'sub/f1.txt'))).mode & 0o777, 0o600);
    assert.deepEqual(await readFile(path.join(old, 'big.bin')), before.big, 'old bytes unchanged');
    assert.equal((await stat(path.join(old, 'big.bin'))).mtimeMs, before.bigSt.mtimeMs, 'old mtime unchanged');
    assert.equal((await stat(path.join(old, 'sub/f1.txt'))).mode, before.f1.mode, 'old mode unchanged');
    assert.notEqual((await stat(path.join(old, 'sub/f2.txt'))).mtime.getUTCFullYear(), 2020);
  });

  it('a pull killed with kill -9 leaves a writable .partial subvolume, never current; the next pull resumes it', async () => {
    const before = await readdir(snapshotsDir(part, S));
    await writeFile(path.join(src, 'slow.bin'), Buffer.alloc(3 * 1024 * 1024, 1));
    await job();
    // A slow pull (bwlimit) so the kill lands mid-copy.
    const slowInv = path.join(fs!.dir, 'slow.yaml');
    await writeFile(slowInv, yaml(fs!.dir).replace(`transport: local }`, `transport: local, bwlimit: 200K }`));
    const child = spawn(process.execPath, [CLI, 'pull', '-i', slowInv, '--streams', '1'], { stdio: 'ignore', detached: true });
    const partial = async () => (await readdir(snapshotsDir(part, S))).find((n) => n.endsWith('.partial'));
    await waitFor(async () => (await partial()) !== undefined, 'the pull to start', 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const p = (await partial())!;
    const pDir = path.join(snapshotsDir(part, S), p);
    assert.ok(await isSubvolume(pDir), 'the .partial is a subvolume');
    assert.equal((await btrfsEngine.describe(pDir, createExec(silentLogger()))).readOnly, false);
    const cur = path.basename((await execa('readlink', [remoteServerDir(part, S)])).stdout);
    assert.ok(before.includes(cur), 'the link still points to a complete snapshot');
    const o = await pullAt(4);
    assert.equal(o.resumed, p.replace(/\.partial$/, ''));
    const snap = snapshotDir(part, S, o.snapshot!);
    assert.equal((await stat(path.join(snap, REL, 'files/slow.bin'))).size, 3 * 1024 * 1024);
    assert.ok((await btrfsEngine.describe(snap, createExec(silentLogger()))).readOnly);
    assert.ok(!(await readdir(snapshotsDir(part, S))).some((n) => n.endsWith('.partial')));
  });

  it('prune deletes old snapshots with btrfs subvolume delete (read-only subvolumes, which rm -rf cannot remove)', async () => {
    const stamps = (await readdir(snapshotsDir(part, S))).filter((n) => /^\d{4}-/.test(n));
    assert.ok(stamps.length >= 3);
    const [r] = await pruneSnapshots(site, resolveBackupServer(site, S), { now: day(5), log: silentLogger() });
    assert.deepEqual(r!.errors, []);
    assert.ok(r!.removed.length >= 2, JSON.stringify(r));
    const left = (await readdir(snapshotsDir(part, S))).filter((n) => !n.startsWith('.'));
    assert.equal(left.length, stamps.length - r!.removed.length);
    const subvols = (await execa('btrfs', ['subvolume', 'list', '-o', snapshotsDir(part, S)])).stdout;
    for (const e of r!.removed) assert.ok(!subvols.includes(e.id), `${e.id} is no longer a subvolume`);
  });

  it('restore --tier remote and an offsite copy read a btrfs snapshot', async () => {
    const to = path.join(fs!.dir, 'restored');
    const r = await tierback(['restore', 'docs', '--tier', 'remote', '--to', to, '-i', inv]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await readFile(path.join(to, 'files/sub/f5.txt'), 'utf8'), 'file 5\n'.repeat(100));
    const [o] = await pushToRemote(site, resolveBackupServer(site, S), resolveTarget(site, 'local'), { log: silentLogger(), now: () => day(5), unencrypted: true });
    assert.equal(o!.status, 'ok', o!.error);
    const out = path.join(fs!.dir, 'fetched');
    await fetchOffsite(site, 'local', `${S}/${REL}/files/sub/f6.txt`, out, { log: silentLogger() });
    const found = (await execa('find', [out, '-name', 'f6.txt'])).stdout.trim();
    assert.equal(await readFile(found, 'utf8'), 'file 6\n'.repeat(100));
  });
});
