/**
 * A pull split into streams (one top-level pass, then one rsync per top-level folder): the
 * snapshot is the same as one rsync makes, older snapshots keep what they had (deletions,
 * metadata-only changes), a resumed partial is cleaned, and one failing folder fails the pull
 * without switching. Real rsync, local transport.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { partialSnapshotDir, remoteServerDir, snapshotDir } from '../../../../lib/model/convention.js';
import { createExec, type Exec } from '../../../../lib/base/exec.js';
import { readHistory } from '../../../../lib/model/history.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { runPulls, type PullOptions } from '../../../../lib/tiers/pull/pull.js';
import { tempDir } from '../../../helpers/tree.js';

const S = 'split.test';
let root: string;
let cleanup: () => Promise<void>;
let part: string;
let local: string;
let clock = Date.parse('2024-05-01T04:00:00Z');

const site = () =>
  parseInventory(`version: 1\nservers:\n  - { fqdn: ${S}, partition: ${part}, role: both }\nbackup_servers:\n  - server: ${S}\n    pulls: [{ server: ${S}, transport: local }]\n`, path.join(root, 'inv.yaml'));

async function pull(opts: Partial<PullOptions> = {}) {
  const s = site();
  clock += 3_600_000;
  const now = new Date(clock);
  const [o] = await runPulls(s, s.backupServers[0]!, { log: silentLogger(), now: () => now, retries: 0, ...opts });
  return o!;
}

const snap = (stamp: string, rel: string) => path.join(snapshotDir(part, S, stamp), rel);

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-pull-split-'));
  part = path.join(root, 'part');
  local = path.join(part, 'local');
  for (const vm of ['web', 'db', 'mail']) {
    await mkdir(path.join(local, vm, 'app/sub'), { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(path.join(local, vm, 'app/sub', `f${i}.txt`), `${vm} ${i}\n`);
    await writeFile(path.join(local, vm, 'top.txt'), vm);
  }
  await mkdir(path.join(local, 'empty'), { recursive: true });
  await writeFile(path.join(local, 'backup-web-20240501'), 'history at the top level\n');
  await symlink('/etc', path.join(local, 'web/escape'));
  await writeFile(path.join(local, 'web/.x.partial-1'), 'a job\'s working file: excluded');
});
after(() => cleanup());

describe('tierback pull split into streams', () => {
  let first: string;
  let second: string;

  it('makes the same snapshot as one rsync: top-level files, folders, empty folders, links; stats add up', async () => {
    const one = await pull({ streams: 1 });
    const four = await pull({ streams: 4 });
    assert.equal(one.status, 'ok', one.error);
    assert.equal(four.status, 'ok', four.error);
    first = four.snapshot!;
    assert.equal(await readFile(snap(first, 'backup-web-20240501'), 'utf8'), 'history at the top level\n');
    assert.ok((await stat(snap(first, 'empty'))).isDirectory());
    assert.ok((await lstat(snap(first, 'web/escape'))).isSymbolicLink());
    assert.equal(await readFile(snap(first, 'mail/app/sub/f3.txt'), 'utf8'), 'mail 3\n');
    assert.ok(!existsSync(snap(first, 'web/.x.partial-1')), 'excludes apply in every folder pass');
    // 3 vms x 5 files + the top-level history file; folders: root, empty, and per vm: vm, app, sub.
    assert.equal(four.stats!.files, 16);
    assert.equal(four.stats!.files, one.stats!.files);
    assert.equal(four.stats!.dirs, one.stats!.dirs);
    assert.equal(four.stats!.dirs, 11);
    assert.equal(four.stats!.totalBytes, one.stats!.totalBytes);
    assert.equal(four.stats!.transferredFiles, 0, 'every file was linked to the previous snapshot, none copied');
    for (const f of ['web/app/sub/f0.txt', 'backup-web-20240501']) {
      assert.equal((await stat(snap(first, f))).ino, (await stat(snap(one.snapshot!, f))).ino, `${f} is a hardlink to the previous snapshot`);
    }
  });

  it('keeps deleted folders, old contents and old modes in the older snapshot (no metadata leak)', async () => {
    await rm(path.join(local, 'mail'), { recursive: true });
    await rm(path.join(local, 'backup-web-20240501'));
    await chmod(path.join(local, 'db/app/sub/f1.txt'), 0o600);
    await writeFile(path.join(local, 'web/app/sub/f2.txt'), 'changed\n');
    await mkdir(path.join(local, 'new/x'), { recursive: true });
    await writeFile(path.join(local, 'new/x/n.txt'), 'new\n');
    const o = await pull({ streams: 4 });
    assert.equal(o.status, 'ok', o.error);
    second = o.snapshot!;
    assert.equal(await readlink(remoteServerDir(part, S)), `../snapshots/${S}/${second}`);
    assert.ok(!existsSync(snap(second, 'mail')) && !existsSync(snap(second, 'backup-web-20240501')));
    assert.equal(await readFile(snap(first, 'mail/app/sub/f0.txt'), 'utf8'), 'mail 0\n');
    assert.equal(await readFile(snap(second, 'new/x/n.txt'), 'utf8'), 'new\n');
    assert.equal((await stat(snap(second, 'db/app/sub/f1.txt'))).mode & 0o777, 0o600);
    assert.notEqual((await stat(snap(first, 'db/app/sub/f1.txt'))).mode & 0o777, 0o600, 'the chmod did not leak into the older snapshot');
    assert.notEqual((await stat(snap(first, 'db/app/sub/f1.txt'))).ino, (await stat(snap(second, 'db/app/sub/f1.txt'))).ino);
    assert.equal(await readFile(snap(first, 'web/app/sub/f2.txt'), 'utf8'), 'web 2\n');
    assert.equal(o.stats!.transferredFiles, 2, 'the changed file and the new one (the chmod\'ed one is a local copy, not a link)');
  });

  it('a resumed partial loses what the source no longer has, at the top level and inside folders', async () => {
    const stale = partialSnapshotDir(part, S, '2024-01-01T000000Z');
    await mkdir(path.join(stale, 'gone/deep'), { recursive: true });
    await mkdir(path.join(stale, 'web/app'), { recursive: true });
    await writeFile(path.join(stale, 'web/app/stray'), 'x');
    await writeFile(path.join(stale, 'stray-top'), 'x');
    const o = await pull({ streams: 4 });
    assert.equal(o.status, 'ok', o.error);
    assert.equal(o.resumed, '2024-01-01T000000Z');
    for (const rel of ['gone', 'web/app/stray', 'stray-top']) assert.ok(!existsSync(snap(o.snapshot!, rel)), `${rel} removed`);
    assert.equal(await readFile(snap(o.snapshot!, 'new/x/n.txt'), 'utf8'), 'new\n');
  });

  it('refuses a streams value that is not a whole number from 1 to 64', async () => {
    for (const streams of [0, 1.5, Number.NaN, 65]) {
      await assert.rejects(pull({ streams }), /streams must be a whole number from 1 to 64/);
    }
  });

  it('one failing folder fails the whole pull: nothing switches, the failure is in history', async () => {
    const before = await readlink(remoteServerDir(part, S));
    const real = createExec(silentLogger());
    // Fault injection through the one exec module: the rsync of folder "db" asks for a source that does not exist.
    const exec: Exec = {
      ...real,
      dryRun: false,
      history: real.history,
      run: real.run.bind(real),
      runToFile: real.runToFile.bind(real),
      spawn: (spec, signal) => real.spawn({ ...spec, argv: spec.argv.map((a) => (a === `${local}/db/` ? `${local}/db-missing/` : a)) }, signal),
    };
    const o = await pull({ streams: 2, exec });
    assert.equal(o.status, 'failed');
    assert.match(o.error!, /code 23/);
    assert.equal(await readlink(remoteServerDir(part, S)), before, 'the current snapshot did not change');
    const h = await readHistory(path.dirname(o.historyFile!));
    const last = h.runs.filter((r) => r.name === `pull-${S}`).at(-1);
    assert.equal(last?.status, 'failed', JSON.stringify(h.runs.map((r) => [r.name, r.status])));
    const next = await pull({ streams: 4 });
    assert.equal(next.status, 'ok', next.error);
    assert.ok(next.resumed, 'the next pull resumes the partial');
    assert.equal(await readFile(snap(next.snapshot!, 'db/app/sub/f2.txt'), 'utf8'), 'db 2\n');
  });
});
