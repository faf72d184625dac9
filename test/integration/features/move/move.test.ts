/**
 * Moving apps by editing the inventory: same server (VM change, relpath change) with renames, and
 * another server through a real sshd on loopback with rsync. History and snapshots checked before
 * and after; a "job" afterwards appends at the new place and the app's history reads as one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import * as C from '../../../../lib/model/convention.js';
import { appendRecord, newRunId, readHistory } from '../../../../lib/model/history.js';
import { tierback } from '../../../helpers/cli.js';
import { sshEntry, startSshdWithClient } from '../../../helpers/sshd.js';
import { HYDRO_ON_WEB, moveInventory, useMoveSuite, writeMoveInventories } from '../../../helpers/move-site.js';
import { makeTree } from '../../../helpers/tree.js';

const suite = useMoveSuite('tierback-move-');

const WWW = '  - { name: www, server: a.example.org, vm: web, path: /srv/www, relpath: www.example.org, type: files }\n';

async function seed(pa: string): Promise<void> {
  const app = C.localAppDir(pa, 'web', 'v2.example.org/hydro');
  await makeTree(app, { db: { 'hydro-2026-03-01T013000Z.sql.gz': 'dump' }, releases: { r1: { 'app.rb': 'puts 1' } } });
  await makeTree(C.localAppDir(pa, 'web', 'www.example.org'), { 'index.html': 'www' });
  const hist = C.jobHistoryDir(pa, 'web');
  for (const [name, day] of [['hydro', '2026-03-01'], ['hydro', '2026-03-02'], ['www', '2026-03-02']] as const) {
    const start = new Date(`${day}T01:30:00Z`);
    const run = newRunId(start);
    await appendRecord(hist, { run, name, kind: 'job', tier: 'local', status: 'running', start }, 'UTC');
    await appendRecord(hist, { run, name, kind: 'job', tier: 'local', status: 'ok', start, end: new Date(start.getTime() + 60_000), files: 2, mb: 0.001 }, 'UTC');
  }
}

/** Case `sub`: server a seeded under dir/sub/a, and two inventories: hydro on a's VM web (old.yaml), then at `to` (new.yaml). */
async function moveCase(sub: string, to: string, ssh = ''): Promise<{ pa: string; pb: string; oldInv: string; newInv: string }> {
  const pa = path.join(suite.dir, sub, 'a');
  const pb = path.join(suite.dir, sub, 'b');
  await seed(pa);
  const { oldInv, newInv } = await writeMoveInventories(path.join(suite.dir, sub), pa, pb, to, ssh, WWW);
  return { pa, pb, oldInv, newInv };
}

async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, rel: string) {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
      else out.push(r);
    }
  }
  await walk(root, '');
  return out.sort();
}

describe('move: same server, by editing one line', () => {
  it('moves hydro from VM web to VM intern: folder and history follow, www and old snapshots stay', async () => {
    const { pa, pb, oldInv, newInv } = await moveCase('s1', 'server: a.example.org, vm: intern, relpath: v2.example.org/hydro');
    // A pull before the move (the layout a backup server copies).
    const snap1 = path.join(suite.dir, 's1/snap1');
    await execa('rsync', ['-a', `${C.localRoot(pa)}/`, `${snap1}/`]);

    const first = await tierback(['apply', '-i', oldInv]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /no app moved/);
    assert.match(first.stdout, /recorded applied inventory: .*\/s1\/a\/\.tierback\/applied\.yaml/);
    assert.equal(((await stat(C.appliedInventoryPath(pa))).mode & 0o777).toString(8), '600');

    const d = await tierback(['inventory', 'diff', '-i', newInv, '--json']);
    assert.equal(d.code, 0, d.stderr);
    const diff = JSON.parse(d.stdout) as { moves: { app: string; how: string; changes: string[] }[] };
    assert.deepEqual(diff.moves.map((m) => [m.app, m.how, m.changes]), [['hydro', 'rename', ['vm: web -> intern']]]);

    const before = await files(C.localAppDir(pa, 'web', 'v2.example.org/hydro'));
    const r = await tierback(['apply', '-i', newInv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hydro: moved \(rename\) .*web\/v2\.example\.org\/hydro -> .*intern\/v2\.example\.org\/hydro; 2 history file\(s\)/);

    assert.equal(await stat(C.localAppDir(pa, 'web', 'v2.example.org/hydro')).catch(() => undefined), undefined);
    assert.deepEqual(await files(C.localAppDir(pa, 'intern', 'v2.example.org/hydro')), before);
    assert.deepEqual(await readdir(C.jobHistoryDir(pa, 'intern')), ['backup-hydro-20260301', 'backup-hydro-20260302']);
    assert.deepEqual(await readdir(C.jobHistoryDir(pa, 'web')), ['backup-www-20260302']);
    assert.deepEqual(await files(C.localAppDir(pa, 'web', 'www.example.org')), ['index.html']);
    assert.match(await readFile(C.moveJournalPath(pa), 'utf8'), /app=hydro how=rename /);

    // The next job writes at the new place; the app's history reads as one.
    const start = new Date('2026-03-03T01:30:00Z');
    await appendRecord(C.jobHistoryDir(pa, 'intern'), { run: newRunId(start), name: 'hydro', kind: 'job', tier: 'local', status: 'ok', start }, 'UTC');
    const h = await readHistory(C.jobHistoryDir(pa, 'intern'), { name: 'hydro' });
    assert.deepEqual(h.runs.map((x) => [x.start.toISOString().slice(0, 10), x.status]), [['2026-03-01', 'ok'], ['2026-03-02', 'ok'], ['2026-03-03', 'ok']]);
    assert.deepEqual(h.problems, []);

    // The next pull carries the moved tree and history; the old snapshot is untouched.
    const snap2 = path.join(suite.dir, 's1/snap2');
    await execa('rsync', ['-a', `${C.localRoot(pa)}/`, `${snap2}/`]);
    assert.deepEqual(await readdir(path.join(snap2, 'intern/_history')), ['backup-hydro-20260301', 'backup-hydro-20260302', 'backup-hydro-20260303']);
    assert.deepEqual(await files(path.join(snap1, 'web/v2.example.org/hydro')), before);

    // Applied again: nothing to do; moving it again by name says so.
    const again = await tierback(['apply', '-i', newInv]);
    assert.match(again.stdout, /no app moved/);
    const m = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--json']);
    assert.equal(m.code, 0, m.stderr);
    assert.equal((JSON.parse(m.stdout) as { results: { outcome: string }[] }).results[0]!.outcome, 'already-moved');
  });

  it('renames the folder when only the relpath changes; history stays where it is', async () => {
    const { pa, oldInv, newInv } = await moveCase('s2', 'server: a.example.org, vm: web, relpath: demo.example.org/hydro');
    const r = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await files(C.localAppDir(pa, 'web', 'demo.example.org/hydro')), ['db/hydro-2026-03-01T013000Z.sql.gz', 'releases/r1/app.rb']);
    assert.equal((await readdir(C.jobHistoryDir(pa, 'web'))).length, 3);
  });

  it('refuses to overwrite data already at the new place and loses nothing (exit 6)', async () => {
    const { pa, oldInv, newInv } = await moveCase('s3', 'server: a.example.org, vm: intern, relpath: v2.example.org/hydro');
    await makeTree(C.localAppDir(pa, 'intern', 'v2.example.org/hydro'), { 'fresh.txt': 'a job ran here already' });
    const r = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /already exists and is not empty/);
    assert.match(r.stderr, /hint: /);
    assert.equal((await files(C.localAppDir(pa, 'web', 'v2.example.org/hydro'))).length, 2);
    assert.equal((await readdir(C.jobHistoryDir(pa, 'web'))).length, 3);
  });

  it('says so when an app did not move', async () => {
    const pa = path.join(suite.dir, 's4/a');
    const inv = path.join(suite.dir, 's4/inv.yaml');
    await mkdir(path.dirname(inv), { recursive: true });
    await writeFile(inv, moveInventory(pa, path.join(suite.dir, 's4/b'), HYDRO_ON_WEB, '', WWW));
    const r = await tierback(['move', 'www', '--from', inv, '-i', inv]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /nothing to move/);
  });
});

describe('move: to another server over SSH (real sshd on loopback)', () => {
  it('transfers hydro from a to VM web2 on b, removes it from a, moves its history', async () => {
    suite.sshd = await startSshdWithClient(path.join(suite.dir, 'sshd'));
    const ssh = `, ssh: ${JSON.stringify(sshEntry(suite.sshd, suite.sshd.identity))}`;
    const { pa, pb, oldInv, newInv } = await moveCase('x', 'server: b.example.org, vm: web2, relpath: v2.example.org/hydro', ssh);
    const before = await files(C.localAppDir(pa, 'web', 'v2.example.org/hydro'));

    const r = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { results: { outcome: string; how: string; commands: string[][] }[] };
    assert.equal(res.results[0]!.how, 'transfer');
    assert.equal(res.results[0]!.outcome, 'moved');
    const sshArgs = res.results[0]!.commands.flat();
    assert.ok(sshArgs.includes('StrictHostKeyChecking=yes'));
    assert.ok(!sshArgs.some((a) => /StrictHostKeyChecking=no/.test(a)));

    assert.deepEqual(await files(C.localAppDir(pb, 'web2', 'v2.example.org/hydro')), before);
    assert.equal(await stat(C.localAppDir(pa, 'web', 'v2.example.org/hydro')).catch(() => undefined), undefined);
    assert.deepEqual(await readdir(C.jobHistoryDir(pb, 'web2')), ['backup-hydro-20260301', 'backup-hydro-20260302']);
    assert.deepEqual(await readdir(C.jobHistoryDir(pa, 'web')), ['backup-www-20260302']);
    // no staging folder left behind on b
    assert.deepEqual((await readdir(C.localAppDir(pb, 'web2', 'v2.example.org'))).sort(), ['hydro']);
    const h = await readHistory(C.jobHistoryDir(pb, 'web2'), { name: 'hydro' });
    assert.equal(h.runs.length, 2);

    const again = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { results: { outcome: string }[] }).results[0]!.outcome, 'nothing-to-move');
  });

  it('refuses a server whose host key does not match (no data removed)', async () => {
    assert.ok(suite.sshd);
    const wrongKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const ssh = `, ssh: ${JSON.stringify(sshEntry(suite.sshd, suite.sshd.identity, { hostKey: wrongKey }))}`;
    const { pa, pb, oldInv, newInv } = await moveCase('y', 'server: b.example.org, vm: web2, relpath: v2.example.org/hydro', ssh);
    const r = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ssh exited with code 255/);
    assert.equal((await files(C.localAppDir(pa, 'web', 'v2.example.org/hydro'))).length, 2);
    assert.equal(await stat(C.localAppDir(pb, 'web2', 'v2.example.org/hydro')).catch(() => undefined), undefined);
  });
});
