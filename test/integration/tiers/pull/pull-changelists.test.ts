/**
 * Change lists on a real btrfs loop file: a real `files` job writes its app's list, a pull copies
 * only what the lists say changed (and every folder without a list in full), a list that cannot be
 * trusted means a full copy of its folder, and a full pull catches a file written behind the job's
 * back and records it in history.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CHANGE_LIST_FILE, remoteServerDir, serverHistoryDir, snapshotDir } from '../../../../lib/model/convention.js';
import { readList, type ListEntry } from '../../../../lib/model/changelist.js';
import { readHistory } from '../../../../lib/model/history.js';
import { parseInventory } from '../../../../lib/site/load.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { resolveBackupServer, runPulls, type PullOptions } from '../../../../lib/tiers/pull/pull.js';
import { btrfsUnavailable, mountBtrfs, type BtrfsMount } from '../../../helpers/btrfs.js';
import { tierback } from '../../../helpers/cli.js';
import { treeDiff } from '../../../helpers/jobsite.js';

const skip = btrfsUnavailable();
const S = 'bk.test';
const REL = 'web/d.example.org/docs';
let fs: BtrfsMount | undefined;
let root: string;
let part: string;
let src: string;
let inv: string;
let site: Site;
let day = 1;

const local = () => path.join(part, 'local', REL);
const current = () => remoteServerDir(part, S);
async function pull(extra: Partial<PullOptions> = {}) {
  const at = new Date(Date.UTC(2026, 2, day++, 4, 0, 0));
  const [o] = await runPulls(site, resolveBackupServer(site, S), { log: silentLogger(), now: () => at, retries: 0, ...extra });
  assert.ok(o && (o.status === 'ok' || o.status === 'warning'), `pull failed: ${o?.error}`);
  return o!;
}
async function job() {
  const r = await tierback(['job', 'docs', '-i', inv]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
}

before(async () => {
  if (skip) return;
  fs = await mountBtrfs('tierback-changelists-');
  root = fs.dir;
  part = path.join(root, 'part');
  src = path.join(root, 'src');
  for (let d = 0; d < 5; d++) {
    await mkdir(path.join(src, `d${d}`), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(path.join(src, `d${d}`, `f${i}.txt`), `file ${d}/${i}\n`.repeat(50));
  }
  await mkdir(path.join(part, 'local/web/handmade'), { recursive: true, mode: 0o700 });
  await writeFile(path.join(part, 'local/web/handmade/notes.txt'), 'by hand\n');
  inv = path.join(root, 'inv.yaml');
  const text = `version: 1
defaults: { partition: ${part}, mount: ${part}/local/web, timezone: UTC }
servers:
  - { fqdn: ${S}, role: both }
vms:
  - { name: web, server: ${S}, mount: ${part}/local/web }
apps:
  - { name: docs, server: ${S}, vm: web, path: ${src}, relpath: d.example.org/docs, type: files }
backup_servers:
  - server: ${S}
    pulls: [{ server: ${S}, transport: local }]
    snapshots: btrfs
`;
  await writeFile(inv, text);
  site = parseInventory(text, inv);
});
after(async () => {
  await fs?.cleanup();
});

describe('change lists (real files job, real btrfs)', { skip }, () => {
  it('the job writes a sorted, compressed list of every entry it wrote, with size, mtime and mode', async () => {
    await job();
    const entries: ListEntry[] = [];
    for await (const e of readList(path.join(local(), CHANGE_LIST_FILE))) entries.push(e);
    const files = entries.filter((e) => e.type === 'f');
    assert.equal(files.length, 100);
    assert.ok(entries.some((e) => e.rel === 'files/d3' && e.type === 'd'));
    const f = entries.find((e) => e.rel === 'files/d2/f7.txt')!;
    assert.equal(f.size, 'file 2/7\n'.length * 50);
    assert.equal(f.mode, 0o644 & ~process.umask());
    const rels = entries.map((e) => e.rel);
    assert.ok(rels.indexOf('files/d1') < rels.indexOf('files/d1/f0.txt') && rels.indexOf('files/d1/f9.txt') < rels.indexOf('files/d2'));
  });

  it('the first pull is a full one (a first snapshot: copied in full, the lists not checked); the next copies only what the lists say changed', async () => {
    const first = await pull();
    assert.match(first.lists!, /^full: first snapshot/);
    assert.equal(first.listMissed, undefined, 'no list was used yet: nothing to check');
    const s1 = first.snapshot!;
    await writeFile(path.join(src, 'd1/f1.txt'), 'changed\n');
    await rm(path.join(src, 'd2/f2.txt'));
    await writeFile(path.join(src, 'd3/new.txt'), 'new\n');
    await chmod(path.join(src, 'd4/f4.txt'), 0o600);
    await rm(path.join(src, 'd0'), { recursive: true });
    await writeFile(path.join(part, 'local/web/handmade/notes.txt'), 'by hand, again\n');
    await job();
    const o = await pull();
    assert.equal(o.lists, 'used');
    // Changed, new and chmodded files, plus the app's manifest and list: not the 95 others.
    assert.ok(o.stats!.transferredFiles <= 7, `transferred ${o.stats!.transferredFiles}`);
    assert.equal(await treeDiff(local(), path.join(current(), REL)), '', 'the snapshot holds exactly what the job wrote');
    assert.equal(await readFile(path.join(current(), 'web/handmade/notes.txt'), 'utf8'), 'by hand, again\n', 'a folder without a list is copied by an ordinary rsync');
    assert.equal(o.stats!.files, first.stats!.files - 20 - 1 + 1, 'history figures count the whole snapshot');
    assert.equal(await readFile(path.join(snapshotDir(part, S, s1), REL, 'files/d1/f1.txt'), 'utf8'), 'file 1/1\n'.repeat(50), 'the older snapshot is untouched');
  });

  it('many changes in one app: several batched rsyncs copy while the comparison goes on, the list is still used and the copy is exact', async () => {
    // 1,200 new files in 60 folders and every older file changed: more names than three batches
    // (BATCH_FIRST 32, doubling), so rsyncs are closed and copy while the app's lists are still compared.
    for (let d = 0; d < 60; d++) {
      await mkdir(path.join(src, `many/m${String(d).padStart(2, '0')}`), { recursive: true });
      for (let i = 0; i < 20; i++) await writeFile(path.join(src, `many/m${String(d).padStart(2, '0')}`, `g${i}.txt`), `many ${d}/${i}\n`);
    }
    for (let d = 1; d < 5; d++) for (let i = 0; i < 20; i++) await writeFile(path.join(src, `d${d}`, `f${i}.txt`), `again ${d}/${i}\n`).catch(() => undefined);
    await job();
    const o = await pull({ streams: 3 });
    assert.equal(o.lists, 'used');
    assert.equal(o.status, 'ok', o.warning);
    assert.ok(o.stats!.transferredFiles >= 1200, `transferred ${o.stats!.transferredFiles}`);
    assert.equal(await treeDiff(local(), path.join(current(), REL)), '', 'the snapshot holds exactly what the job wrote');
    await rm(path.join(src, 'many'), { recursive: true });
    await job();
    const back = await pull({ streams: 3 });
    assert.equal(back.lists, 'used');
    assert.equal(await treeDiff(local(), path.join(current(), REL)), '', 'and the deletions');
  });

  it('a list that cannot be trusted means a full copy of that folder', async () => {
    await writeFile(path.join(local(), 'files/d1/behind.txt'), 'written behind the job\n');
    await writeFile(path.join(local(), CHANGE_LIST_FILE), 'not gzip');
    const o = await pull();
    assert.equal(o.lists, 'used');
    assert.equal(await readFile(path.join(current(), REL, 'files/d1/behind.txt'), 'utf8'), 'written behind the job\n');
    await job(); // a good list again
    await pull();
  });

  it('a file written behind the job\'s back is missed by the lists, caught by pull --full and recorded in history', async () => {
    await writeFile(path.join(local(), 'files/d3/sneaky.txt'), 'not from the job\n');
    const quick = await pull();
    assert.equal(quick.lists, 'used');
    await assert.rejects(readFile(path.join(current(), REL, 'files/d3/sneaky.txt')), 'the lists do not know it');
    const full = await pull({ full: true });
    assert.equal(full.status, 'warning');
    // The file (its folder's mtime moved too, which is not counted: docs/remote.md, "Change lists").
    assert.equal(full.listMissed, 1, `the file: ${full.warning}`);
    assert.match(full.warning!, /change lists missed 1 entries.*docs: files\/d3\/sneaky\.txt/);
    assert.equal(await readFile(path.join(current(), REL, 'files/d3/sneaky.txt'), 'utf8'), 'not from the job\n');
    const runs = (await readHistory(serverHistoryDir(part), {})).runs.filter((r) => r.kind === 'pull');
    const last = runs.sort((a, b) => a.start.getTime() - b.start.getTime()).at(-1)!;
    assert.equal(last.status, 'warning');
    assert.equal(last.extra?.list_missed, String(full.listMissed), JSON.stringify(last));
    assert.match(last.warning ?? '', /sneaky\.txt/);
  });

  it('the periodic full pull comes when the last one is older than full_pull_every (7 days)', async () => {
    day += 8;
    const o = await pull();
    assert.match(o.lists!, /^full: last full pull/);
  });
});
