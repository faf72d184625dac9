/**
 * Change lists over SSH (real sshd, the backup key restricted by Debian's rrsync -ro, real btrfs):
 * a pull by lists opens one SSH connection and runs every rsync through it, leaves no ssh behind,
 * and the snapshot matches the source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { remoteServerDir } from '../../../../lib/model/convention.js';
import { walkSorted } from '../../../../lib/model/changelist.js';
import { parseInventory } from '../../../../lib/site/load.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { resolveBackupServer, runPulls, type PullOptions } from '../../../../lib/tiers/pull/pull.js';
import { authorizedKeysLine } from '../../../../lib/tiers/pull/ssh.js';
import { btrfsUnavailable, mountBtrfs, type BtrfsMount } from '../../../helpers/btrfs.js';
import { tierback } from '../../../helpers/cli.js';
import { treeDiff } from '../../../helpers/jobsite.js';
import { processesWith } from '../../../helpers/procs.js';
import { generateKey, sshEntry, startSshd, type Sshd } from '../../../helpers/sshd.js';

const skip = btrfsUnavailable();
const SRC = 'src.test';
const BK = 'bk.test';
const REL = 'web/d.example.org/docs';
let fs: BtrfsMount | undefined;
let sshd: Sshd | undefined;
let sshdLog: string;
let srcPart: string;
let part: string;
let appSrc: string;
let inv: string;
let site: Site;
let day = 1;

const local = () => path.join(srcPart, 'local', REL);
const current = () => remoteServerDir(part, SRC);
async function pull(extra: Partial<PullOptions> = {}) {
  const at = new Date(Date.UTC(2026, 2, day++, 4, 0, 0));
  const [o] = await runPulls(site, resolveBackupServer(site, BK), { log: silentLogger(), now: () => at, retries: 0, ...extra });
  assert.ok(o && (o.status === 'ok' || o.status === 'warning'), `pull failed: ${o?.error}`);
  return o!;
}
async function job() {
  const r = await tierback(['job', 'docs', '-i', inv]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
}
/** SSH connections sshd has accepted so far (one log line per authenticated connection). */
async function connections(): Promise<number> {
  return (await readFile(sshdLog, 'utf8').catch(() => '')).split('\n').filter((l) => l.includes('Accepted publickey')).length;
}
before(async () => {
  if (skip) return;
  fs = await mountBtrfs('tierback-lists-ssh-');
  const root = fs.dir;
  srcPart = path.join(root, 'src');
  part = path.join(root, 'bk');
  appSrc = path.join(root, 'app');
  for (let d = 0; d < 4; d++) {
    await mkdir(path.join(appSrc, `d${d}`), { recursive: true });
    for (let i = 0; i < 10; i++) await writeFile(path.join(appSrc, `d${d}`, `f${i}.txt`), `file ${d}/${i}\n`.repeat(40));
  }
  await mkdir(path.join(srcPart, 'local/web/handmade'), { recursive: true, mode: 0o700 });
  await writeFile(path.join(srcPart, 'local/web/handmade/notes.txt'), 'by hand\n');
  const key = await generateKey(path.join(root, 'keys'), 'backup_key');
  sshdLog = path.join(root, 'sshd.log');
  sshd = await startSshd({ authorizedKeys: [authorizedKeysLine({ publicKey: key.public, sourcePartition: srcPart })], logFile: sshdLog });
  inv = path.join(root, 'inv.yaml');
  const text = `version: 1
defaults: { timezone: UTC }
servers:
  - { fqdn: ${SRC}, partition: ${srcPart}, ssh: ${JSON.stringify(sshEntry(sshd, key.private, { rrsync: true }))} }
  - { fqdn: ${BK}, partition: ${part}, role: backup }
vms:
  - { name: web, server: ${SRC}, mount: ${srcPart}/local/web }
apps:
  - { name: docs, server: ${SRC}, vm: web, path: ${appSrc}, relpath: d.example.org/docs, type: files }
backup_servers:
  - server: ${BK}
    pulls: [{ server: ${SRC} }]
    snapshots: btrfs
`;
  await writeFile(inv, text);
  site = parseInventory(text, inv);
});
after(async () => {
  await sshd?.cleanup();
  await fs?.cleanup();
});

describe('change lists over SSH (real sshd, rrsync -ro, real btrfs)', { skip }, () => {
  it('a pull by lists opens one SSH connection for all its rsyncs and leaves no ssh behind', async () => {
    await job();
    assert.match((await pull()).lists!, /^full: /);
    await writeFile(path.join(appSrc, 'd1/f1.txt'), 'changed\n');
    await rm(path.join(appSrc, 'd2/f2.txt'));
    await writeFile(path.join(appSrc, 'd3/new.txt'), 'new\n');
    await job();
    await writeFile(path.join(srcPart, 'local/web/handmade/more.txt'), 'more by hand\n');
    await writeFile(path.join(srcPart, 'local/web/.docs.partial-20260301T040000-abc123'), 'a job at work');
    const n = await connections();
    const o = await pull();
    assert.equal(o.lists, 'used');
    assert.ok(o.stats!.transferredFiles <= 6, `transferred ${o.stats!.transferredFiles}`);
    assert.equal(await connections(), n + 1, 'markers, lists, the other folders, the changed files and the check after: one connection');
    assert.equal(await treeDiff(local(), path.join(current(), REL)), '', 'the listed app, hidden from the ordinary rsync, is kept and updated');
    assert.equal(await readFile(path.join(current(), 'web/handmade/more.txt'), 'utf8'), 'more by hand\n', 'folders without a list: the ordinary rsync');
    await assert.rejects(readFile(path.join(current(), 'web/.docs.partial-20260301T040000-abc123')), "a job's working files never reach a snapshot");
    assert.deepEqual((await processesWith('tierback-ssh-')).map((p) => p.cmd), [], 'the master connection ended with the pull');
  });

  it('a large changed file comes by rsync\'s delta (only what changed crosses the wire), small ones whole', async () => {
    const big = randomBytes(3 << 20);
    await writeFile(path.join(appSrc, 'd1/big.bin'), big);
    await job();
    await pull();
    big.fill(7, 1000, 2000);
    await writeFile(path.join(appSrc, 'd1/big.bin'), big);
    await writeFile(path.join(appSrc, 'd2/small.txt'), 'small\n');
    await job();
    const o = await pull();
    assert.equal(o.lists, 'used');
    assert.ok(o.stats!.receivedBytes < 1 << 20, `received ${o.stats!.receivedBytes} bytes for a 3 MiB file with 1000 bytes changed`);
    assert.ok(o.stats!.transferredFiles >= 2, `transferred ${o.stats!.transferredFiles}`);
    assert.equal(await treeDiff(local(), path.join(current(), REL)), '');
  });

  it('pull --dry-run prints the btrfs plan: by the lists when the pull would use them, else a walk in place', async () => {
    const lists = await tierback(['pull', '-i', inv, '--dry-run', '--now', '2026-03-05T04:00:00Z']);
    assert.equal(lists.code, 0, lists.stderr);
    assert.match(lists.stdout, /btrfs engine: the new snapshot starts as a writable btrfs snapshot of .*; change lists: used/);
    assert.match(lists.stdout, /rsync -a --numeric-ids --files-from=<temp>\/list --ignore-missing-args/);
    assert.match(lists.stdout, /--inplace -H --stats --modify-window=-1 --files-from=- -W /);
    assert.match(lists.stdout, /--filter=merge <temp>\/filter/);
    assert.doesNotMatch(lists.stdout, /--link-dest/);
    const full = await tierback(['pull', '-i', inv, '--dry-run', '--full', '--now', '2026-03-05T04:00:00Z']);
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stdout, /change lists: full pull asked for/);
    assert.match(full.stdout, /--inplace/);
    assert.doesNotMatch(full.stdout, /--link-dest|<temp>/);
  });

  it('after a pull by lists, every folder has the source\'s mtime (to the nanosecond, even within the same second)', async () => {
    await rm(path.join(appSrc, 'd0'), { recursive: true });
    await writeFile(path.join(appSrc, 'd1/another.txt'), 'another\n');
    await writeFile(path.join(appSrc, 'd3/more.txt'), 'more\n');
    await job();
    await writeFile(path.join(srcPart, 'local/web/handmade/third.txt'), 'third by hand\n');
    const o = await pull();
    assert.equal(o.lists, 'used');
    const snap = await realpath(current());
    assert.equal(await treeDiff(path.join(srcPart, 'local'), snap, ['.docs.partial-*']), '');
    assert.deepEqual(await folderTimes(snap), await folderTimes(path.join(srcPart, 'local')));
  });
});

/** Every folder below `dir` with its mtime (ns), in list order. */
async function folderTimes(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkSorted(dir, '', [])) if (e.type === 'd') out.push(`${e.rel} ${e.mtimeNs}`);
  return out;
}
