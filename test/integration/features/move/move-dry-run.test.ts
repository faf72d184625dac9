/**
 * `tierback move/apply --dry-run`: the plan (renames, copies, removals, every command as argv) and
 * nothing changed, on one server and to another through a real sshd on loopback; the real move
 * then runs the commands the plan printed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as C from '../../../../lib/model/convention.js';
import { appendRecord, newRunId } from '../../../../lib/model/history.js';
import type { ApplyPlan } from '../../../../lib/features/move/plan.js';
import { tierback } from '../../../helpers/cli.js';
import { sshEntry, startSshdWithClient } from '../../../helpers/sshd.js';
import { useMoveSuite, writeMoveInventories } from '../../../helpers/move-site.js';
import { makeTree } from '../../../helpers/tree.js';
import { treeState } from '../../../helpers/treestate.js';

const suite = useMoveSuite('tierback-move-dry-');

/** Server a (dir/sub/a) with hydro in VM web and two days of history; inventories before and after moving hydro to `to`. */
async function moveCase(sub: string, to: string, ssh = ''): Promise<{ root: string; pa: string; pb: string; oldInv: string; newInv: string }> {
  const root = path.join(suite.dir, sub);
  const pa = path.join(root, 'a');
  const pb = path.join(root, 'b');
  await makeTree(C.localAppDir(pa, 'web', 'v2.example.org/hydro'), { db: { 'hydro-2026-03-01T013000Z.sql.gz': 'dump' }, releases: { r1: { 'app.rb': 'puts 1' } } });
  await makeTree(C.localRoot(pb), {});
  for (const day of ['2026-03-01', '2026-03-02']) {
    const start = new Date(`${day}T01:30:00Z`);
    await appendRecord(C.jobHistoryDir(pa, 'web'), { run: newRunId(start), name: 'hydro', kind: 'job', tier: 'local', status: 'ok', start, end: start, files: 2, mb: 0.001 }, 'UTC');
  }
  const { oldInv, newInv } = await writeMoveInventories(root, pa, pb, to, ssh);
  return { root, pa, pb, oldInv, newInv };
}

/** The argv with what differs from run to run (temp known_hosts file, staging run id) made constant. */
function stable(argv: string[]): string[] {
  return argv.map((a) => a.replace(/UserKnownHostsFile=\S+/g, 'UserKnownHostsFile=<kh>').replace(/\.partial-[A-Za-z0-9-]+/g, '.partial-<run>'));
}

describe('move and apply --dry-run', () => {
  it('same server: prints the renames, changes nothing; the real move then does what it said', async () => {
    const { root, pa, oldInv, newInv } = await moveCase('same', 'server: a.example.org, vm: intern, relpath: v2.example.org/hydro');
    const before = await treeState(root);
    const r = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await treeState(root), before, 'nothing renamed, no lock, journal or record written');
    const plan = JSON.parse(r.stdout) as ApplyPlan;
    const m = plan.moves[0]!;
    assert.equal(m.outcome, 'moved');
    const from = C.localAppDir(pa, 'web', 'v2.example.org/hydro');
    const to = C.localAppDir(pa, 'intern', 'v2.example.org/hydro');
    assert.ok(m.actions.some((a) => a.action === 'rename' && a.from === from && a.to === to));
    assert.deepEqual(m.actions.filter((a) => a.title === 'move the history file').map((a) => path.basename(a.to!)), ['backup-hydro-20260301', 'backup-hydro-20260302']);
    const text = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '-n']);
    assert.match(text.stdout, /hydro: would be moved \(rename\)/);
    assert.deepEqual(await treeState(root), before);
    const real = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--json']);
    assert.equal(real.code, 0, real.stderr);
    assert.equal((JSON.parse(real.stdout) as { results: { outcome: string; to: string }[] }).results[0]!.to, to);
  });

  it('apply --dry-run: lists the applied-inventory files it would record, writes none', async () => {
    const { root, pa, pb, oldInv, newInv } = await moveCase('apply', 'server: a.example.org, vm: intern, relpath: v2.example.org/hydro');
    const before = await treeState(root);
    const r = await tierback(['apply', '--from', oldInv, '-i', newInv, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await treeState(root), before);
    const plan = JSON.parse(r.stdout) as ApplyPlan;
    assert.deepEqual(plan.records, [C.appliedInventoryPath(pa), C.appliedInventoryPath(pb)]);
    assert.equal(plan.moves.length, 1);
  });

  it('to another server over SSH: nothing changes on either side; the real move runs the argv the plan printed', async () => {
    suite.sshd = await startSshdWithClient(path.join(suite.dir, 'sshd'));
    const ssh = `, ssh: ${JSON.stringify(sshEntry(suite.sshd, suite.sshd.identity))}`;
    const { root, oldInv, newInv } = await moveCase('x', 'server: b.example.org, vm: web2, relpath: v2.example.org/hydro', ssh);
    const before = await treeState(root);
    const r = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--dry-run', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await treeState(root), before, 'no staging folder on b, nothing removed on a');
    const planned = (JSON.parse(r.stdout) as ApplyPlan).moves[0]!.actions.filter((a) => a.argv).map((a) => stable(a.argv!));
    assert.ok(planned.some((a) => a[0] === 'rsync' && a.includes('--delete')));
    const real = await tierback(['move', 'hydro', '--from', oldInv, '-i', newInv, '--json']);
    assert.equal(real.code, 0, real.stderr);
    const ran = (JSON.parse(real.stdout) as { results: { commands: string[][] }[] }).results[0]!.commands.map(stable);
    assert.deepEqual(ran, planned);
  });
});
