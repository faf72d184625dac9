/**
 * An app stays one thing across moves, tried as an operator would: wiki
 * lives on VM va of server a.test, moves to VM vb on the same server, then to VM vc of server
 * b.test, with a job and a real pull (rsync over a real sshd on loopback) every simulated day.
 * The backup server restores every day of its life (`restore --at` picks that day's copy, from the
 * old place's snapshots where needed), `list` shows every point and where it lives, and `status`
 * is never MISSING: after `apply`, before the next pull, the remote row counts the last good copy
 * at the old place, and says so.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../../../lib/model/convention.js';
import { appendRecord, newRunId } from '../../../../lib/model/history.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { readMoveRecords } from '../../../../lib/model/places.js';
import { resolveBackupServer, runPulls } from '../../../../lib/tiers/pull/pull.js';
import { siteStatus } from '../../../../lib/features/status/index.js';
import { tierback } from '../../../helpers/cli.js';
import { sshEntry, type Sshd } from '../../../helpers/sshd.js';
import { startTwoServers, stopTwoServers, type TwoServers } from '../../../helpers/two-servers.js';

const A = 'a.test';
const B = 'b.test';
const BACKUP = 'backup.test';
const REL = 'wiki.example.org';

const two = {} as TwoServers;
const inv: Record<1 | 2 | 3, string> = { 1: '', 2: '', 3: '' };

function inventory(wiki: string): string {
  const ssh = (d: Sshd) => JSON.stringify(sshEntry(d, two.key.private));
  return `version: 1
defaults: { timezone: UTC }
servers:
  - { fqdn: ${A}, partition: ${two.srcA}, ssh: ${ssh(two.sshdA)} }
  - { fqdn: ${B}, partition: ${two.srcB}, ssh: ${ssh(two.sshdB)} }
  - { fqdn: ${BACKUP}, partition: ${two.backup}, role: backup }
vms:
  - { name: va, server: ${A} }
  - { name: vb, server: ${A} }
  - { name: vc, server: ${B} }
apps:
  - { name: wiki, ${wiki}, path: /srv/wiki, relpath: ${REL}, type: files }
  - { name: www, server: ${A}, vm: va, path: /srv/www, relpath: www.example.org, type: files }
  - { name: shop, server: ${B}, vm: vc, path: /srv/shop, relpath: shop.example.org, type: files }
backup_servers:
  - server: ${BACKUP}
    pulls: [${A}, ${B}]
`;
}

const places = { va: { partition: () => two.srcA, vm: 'va' }, vb: { partition: () => two.srcA, vm: 'vb' }, vc: { partition: () => two.srcB, vm: 'vc' } };
type Vm = keyof typeof places;

/** A day's job of an app: its folder now holds that day's file, and its history says ok. */
async function job(app: string, rel: string, vm: Vm, day: number): Promise<void> {
  const p = places[vm];
  const dir = C.localAppDir(p.partition(), p.vm, rel);
  await mkdir(path.join(dir, 'files'), { recursive: true });
  await writeFile(path.join(dir, 'files', 'day.txt'), `${app} day ${day}\n`);
  const start = new Date(`2026-09-0${day}T01:30:00Z`);
  // The file's time is its day's: two days' files of one size written in the same second would look
  // unchanged to rsync's quick check (size and mtime), and the pull would keep yesterday's.
  await utimes(path.join(dir, 'files', 'day.txt'), start, start);
  const run = newRunId(start);
  const hist = C.jobHistoryDir(p.partition(), p.vm);
  await appendRecord(hist, { run, name: app, kind: 'job', tier: 'local', status: 'running', start }, 'UTC');
  await appendRecord(hist, { run, name: app, kind: 'job', tier: 'local', status: 'ok', start, end: new Date(start.getTime() + 60_000), files: 1, mb: 0.001 }, 'UTC');
}

async function jobs(day: number, wikiVm: Vm): Promise<void> {
  await job('wiki', REL, wikiVm, day);
  await job('www', 'www.example.org', 'va', day);
  await job('shop', 'shop.example.org', 'vc', day);
}

let tick = 0;
async function pull(day: number, file: string, servers?: string[]): Promise<void> {
  const site = parseInventory(await readFile(file, 'utf8'), file);
  const now = () => new Date(Date.parse(`2026-09-0${day}T02:00:00Z`) + (tick += 1000));
  const out = await runPulls(site, resolveBackupServer(site, BACKUP), { log: silentLogger(), now, retries: 0, ...(servers ? { servers } : {}) });
  assert.deepEqual(out.map((o) => [o.server, o.status, o.error]), (servers ?? [A, B]).map((s) => [s, 'ok', undefined]));
}

/** The backup server's remote row of wiki, at `time` of `day`. */
async function wikiRow(file: string, day: number, time = '12:00') {
  const site = parseInventory(await readFile(file, 'utf8'), file);
  const report = await siteStatus(site, { host: BACKUP, tier: 'remote', apps: ['wiki'], now: new Date(`2026-09-0${day}T${time}:00Z`) });
  assert.equal(report.rows.length, 1);
  return report.rows[0]! as (typeof report.rows)[number] & { oldPlace?: string };
}

before(async () => {
  Object.assign(two, await startTwoServers('tierback-move-history-', 'key', (key) => key.public));
  await mkdir(C.localRoot(two.srcA), { recursive: true });
  await mkdir(C.localRoot(two.srcB), { recursive: true });
  for (const [n, wiki] of [[1, `server: ${A}, vm: va`], [2, `server: ${A}, vm: vb`], [3, `server: ${B}, vm: vc`]] as const) {
    inv[n] = path.join(two.root, `inventory-${n}.yaml`);
    await writeFile(inv[n], inventory(wiki));
  }
});

after(() => stopTwoServers(two));

describe('an app moved twice stays one app: restore, list and status from the backup server', () => {
  it('days 1-3 on VM va; apply moves it to VM vb; status counts the copy at va until the next pull', async () => {
    const first = await tierback(['apply', '-i', inv[1]]);
    assert.equal(first.code, 0, first.stderr);
    for (const day of [1, 2, 3]) {
      await jobs(day, 'va');
      await pull(day, inv[1]);
    }
    assert.equal((await wikiRow(inv[1], 3)).state, 'OK');

    const r = await tierback(['apply', '-i', inv[2]]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wiki: moved \(rename\)/);
    const records = await readMoveRecords(C.moveRecordPath(C.localVmDir(two.srcA, 'vb'), 'wiki'));
    assert.deepEqual(records.map((x) => [x.from.server, x.from.vm, x.to.server, x.to.vm]), [[A, 'va', A, 'vb']]);

    // After apply, before the next pull: the backup server has wiki only at va.
    const row = await wikiRow(inv[2], 3);
    assert.equal(row.state, 'OK', row.reason);
    assert.equal(row.vm, 'vb');
    assert.match(row.reason, /moved: .* last good copy at the old place a\.test:va\/wiki\.example\.org/);
    assert.equal(row.oldPlace, `${A}:va/${REL}`);
  });

  it('days 4-5 on VM vb; apply moves it to server b.test over SSH; status is still not MISSING', async () => {
    for (const day of [4, 5]) {
      await jobs(day, 'vb');
      await pull(day, inv[2]);
    }
    const settled = await wikiRow(inv[2], 5);
    assert.equal(settled.state, 'OK', settled.reason);
    assert.equal(settled.oldPlace, undefined, 'pulled at its new place: the row is the new place\'s own');

    const r = await tierback(['apply', '-i', inv[3]]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wiki: moved \(transfer\)/);
    const records = await readMoveRecords(C.moveRecordPath(C.localVmDir(two.srcB, 'vc'), 'wiki'));
    assert.deepEqual(records.map((x) => `${x.from.vm}->${x.to.server}:${x.to.vm}`), ['va->a.test:vb', 'vb->b.test:vc'], 'the record travelled with the app');
    assert.equal(((await stat(C.moveRecordPath(C.localVmDir(two.srcB, 'vc'), 'wiki'))).mode & 0o777).toString(8), '600');
    assert.equal(((await stat(path.dirname(C.moveRecordPath(C.localVmDir(two.srcB, 'vc'), 'wiki')))).mode & 0o777).toString(8), '700');
    assert.equal(await stat(C.moveRecordPath(C.localVmDir(two.srcA, 'vb'), 'wiki')).catch(() => undefined), undefined, 'and left the old server');

    // The emptied `_moves/` at the old VM and the record at the new one are no orphans.
    const o = await tierback(['orphans', '-i', inv[3], '--json']);
    const orphanPaths = [...o.stdout.matchAll(/"path": "([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(orphanPaths.filter((p) => p.endsWith('/_moves') || p.startsWith(two.srcB)), [], o.stdout);

    const row = await wikiRow(inv[3], 5);
    assert.equal(row.state, 'OK', row.reason);
    assert.equal(row.server, B);
    assert.equal(row.oldPlace, `${A}:vb/${REL}`);

    // The next pull of the old server alone (wiki is gone from it): the copy in its previous snapshot still counts.
    await jobs(6, 'vc');
    await pull(6, inv[3], [A]);
    const between = await wikiRow(inv[3], 6, '02:30');
    assert.equal(between.state, 'OK', between.reason);
    assert.equal(between.oldPlace, `${A}:vb/${REL}`);
    await pull(6, inv[3], [B]);
    const pulled = await wikiRow(inv[3], 6);
    assert.equal(pulled.state, 'OK', pulled.reason);
    assert.equal(pulled.oldPlace, undefined);
  });

  it('day 7; then, seen from the backup server alone, every day restores and list shows every point with its place', async () => {
    await jobs(7, 'vc');
    await pull(7, inv[3]);
    // The backup server is another machine: hide the app servers' trees.
    await rename(two.srcA, `${two.srcA}.away`);
    await rename(two.srcB, `${two.srcB}.away`);
    try {
      const l = await tierback(['list', 'wiki', '-i', inv[3], '--json']);
      assert.equal(l.code, 0, l.stderr);
      const points = JSON.parse(l.stdout) as { tier: string; id: string; at: string; moved?: boolean; place?: { server: string; vm: string } }[];
      assert.deepEqual(
        points.map((p) => [p.tier, p.at.slice(0, 10), `${p.place?.server}:${p.place?.vm}`, p.moved ?? false]),
        [
          ['remote', '2026-09-01', `${A}:va`, true],
          ['remote', '2026-09-02', `${A}:va`, true],
          ['remote', '2026-09-03', `${A}:va`, true],
          ['remote', '2026-09-04', `${A}:vb`, true],
          ['remote', '2026-09-05', `${A}:vb`, true],
          ['remote', '2026-09-06', `${B}:vc`, false],
          ['remote', '2026-09-07', `${B}:vc`, false],
        ],
      );
      assert.ok(points.slice(0, 5).every((p) => p.id.startsWith(`${BACKUP}/${A}/`)), 'points of an old server name it');
      const t = await tierback(['list', 'wiki', '-i', inv[3]]);
      assert.match(t.stdout, /WHERE/);
      assert.match(t.stdout, /a\.test:va\/wiki\.example\.org \(old place\)/);
      assert.match(t.stdout, /b\.test:vc\/wiki\.example\.org\s/);

      for (const day of [1, 2, 3, 4, 5, 6, 7]) {
        const to = path.join(two.root, 'restored', String(day));
        const r = await tierback(['restore', 'wiki', '--at', `2026-09-0${day}`, '--to', to, '--backup-server', BACKUP, '-i', inv[3]]);
        assert.equal(r.code, 0, `day ${day}: ${r.stderr}`);
        assert.equal(await readFile(path.join(to, 'files', 'day.txt'), 'utf8'), `wiki day ${day}\n`, `day ${day} restores that day's copy`);
      }
    } finally {
      await rename(`${two.srcA}.away`, two.srcA);
      await rename(`${two.srcB}.away`, two.srcB);
      await rm(path.join(two.root, 'restored'), { recursive: true, force: true });
    }
  });
});
