/**
 * The report, status and the monitor export at fleet scale: the real CLI on a generated site of
 * 200 servers, 600 VMs and 4,000 apps (remote and offsite rows: 8,000), as its backup server.
 * Targets (issue 14): 2 MB of HTML, 3 s and 200 MB peak RSS per command; asserted at twice the
 * target for the CPU time (user + system) and the memory, and at 30 s of wall time (a shared 2-core
 * machine under load stretches wall time, not CPU time), the figures printed.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { CLI } from '../../../helpers/cli.js';
import { buildFleetSite, FLEET_BACKUP, type FleetSite } from '../../../helpers/fleet-site.js';
import { tempDir } from '../../../helpers/tree.js';

const MAX_CPU_S = 6;
const MAX_WALL_S = 30;
const MAX_MB = 400;

/** Runs the CLI under GNU time: exit code, stdout, wall seconds and peak RSS in MB. */
async function timed(args: string[]): Promise<{ code: number; stdout: string; stderr: string; s: number; cpu: number; mb: number }> {
  const r = await execa('/usr/bin/time', ['-f', '@@ %e %U %S %M', process.execPath, CLI, ...args], { reject: false, env: { TIERBACK_INVENTORY: '' } });
  const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(String(r.stderr));
  assert.ok(m, String(r.stderr));
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), s: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), mb: Number(m[4]) / 1024 };
}

function within(what: string, t: { s: number; cpu: number; mb: number }): void {
  console.log(`# ${what}: ${t.s.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU, ${t.mb.toFixed(0)} MB peak RSS (targets 3 s, 200 MB)`);
  assert.ok(t.cpu <= MAX_CPU_S, `${what} took ${t.cpu} s of CPU`);
  assert.ok(t.s <= MAX_WALL_S, `${what} took ${t.s} s`);
  assert.ok(t.mb <= MAX_MB, `${what} peaked at ${t.mb.toFixed(0)} MB`);
}

describe('report, status and monitor export on a 4,000-app fleet', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let fleet: FleetSite;
  let machine: string[];
  before(async () => {
    ({ dir, cleanup } = await tempDir('tierback-fleet-'));
    const t = Date.now();
    fleet = buildFleetSite(dir, { extra: 'monitoring:\n  prometheus:\n    textfile: /var/lib/prom/tierback.prom\n' });
    console.log(`# fleet of ${fleet.apps} apps generated in ${Date.now() - t} ms`);
    machine = ['-i', fleet.inventory, '--root', dir, '--host', FLEET_BACKUP];
  });
  after(() => cleanup?.());

  it('report --html: at most 2 MB, the problems first (worst first), every other row grouped by server', async () => {
    const file = path.join(dir, 'out', 'report.html');
    const r = await timed(['report', '--html', file, ...machine]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /8000 rows/);
    const size = (await stat(file)).size;
    console.log(`# report.html: ${(size / 1e6).toFixed(2)} MB for 8000 rows`);
    assert.ok(size <= 2e6, `report.html is ${size} bytes`);
    within('report --html', r);
    const text = await readFile(file, 'utf8');
    const states = [...text.matchAll(/<tr><td>(app\d+)<td>[^<]*<td>[^<]*<td class=(\w+)>/g)].map((m) => [m[1]!, m[2]!] as const);
    assert.equal(states.length, 8000);
    const firstOk = states.findIndex(([, s]) => s === 'OK');
    const problems = states.slice(0, firstOk);
    assert.ok(states.slice(firstOk).every(([, s]) => s === 'OK'), 'a problem row after the first OK row');
    const expect = [...fleet.problems.FAILED, ...fleet.problems.MISSING, ...fleet.problems.SHRUNK, ...fleet.problems.STALE];
    for (const app of expect) assert.ok(problems.some(([a]) => a === app), `${app} not among the problems`);
    const rank = { FAILED: 0, MISSING: 1, OVERDUE: 2, SHRUNK: 3, STALE: 4 } as Record<string, number>;
    const ranks = problems.map(([, s]) => rank[s]!);
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'problems not worst first');
    assert.equal((text.match(/<details>/g) ?? []).length, 200);
    assert.doesNotMatch(text, /<details open/);
  });

  it('status --json: within the bounds, with the sprinkled problems', async () => {
    const r = await timed(['status', '--json', ...machine]);
    assert.equal(r.code, 1, r.stderr);
    within('status --json', r);
    const report = JSON.parse(r.stdout) as { rows: { app: string; tier: string; state: string }[] };
    assert.equal(report.rows.length, 8000);
    const remote = (app: string) => report.rows.find((x) => x.app === app && x.tier === 'remote')!.state;
    for (const app of fleet.problems.FAILED) assert.equal(remote(app), 'FAILED', app);
    for (const app of fleet.problems.STALE) assert.equal(remote(app), 'STALE', app);
    assert.equal(remote(fleet.problems.MISSING[0]!), 'MISSING');
    assert.equal(remote(fleet.problems.SHRUNK[0]!), 'SHRUNK');
  });

  it('monitor export: the Prometheus textfile within the bounds', async () => {
    const r = await timed(['monitor', 'export', ...machine]);
    assert.equal(r.code, 0, r.stderr);
    within('monitor export', r);
    const prom = await readFile(path.join(dir, 'var/lib/prom/tierback.prom'), 'utf8');
    assert.equal((prom.match(/^tierback_ok\{/gm) ?? []).length, 8000);
  });
});
