/**
 * A run in progress is seen as running everywhere, and an interrupted one as interrupted
 * everywhere: real `tierback job` and `tierback pull` processes held mid-run (a command job that
 * sleeps; a pull slowed by rsync --bwlimit), then killed with SIGKILL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import yaml from 'js-yaml';
import { jobHistoryDir, serverHistoryDir } from '../../../lib/model/convention.js';
import { parseInventory } from '../../../lib/site/load.js';
import type { Site } from '../../../lib/model/inventory/model.js';
import { renderPrometheus } from '../../../lib/features/monitor/prometheus.js';
import { siteStatus, type StatusReport } from '../../../lib/features/status/index.js';
import type { AppHistory } from '../../../lib/model/runs.js';
import { CLI, tierback } from '../../helpers/cli.js';
import { jobSite } from '../../helpers/jobsite.js';
import { waitFor } from '../../helpers/net.js';
import { descendants, killAll } from '../../helpers/procs.js';
import { tempDir } from '../../helpers/tree.js';

const HOST = 'app1.test.example';

/** SIGKILL a process and, after it, what it started (they would otherwise run on as orphans). */
async function killHard(child: ResultPromise): Promise<void> {
  const kids = await descendants(child.pid!);
  child.kill('SIGKILL');
  await child;
  killAll(kids);
}

async function historyJson(inv: string, app: string): Promise<AppHistory> {
  const r = await tierback(['history', app, '-i', inv, '--host', HOST, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as AppHistory;
}

async function statusJson(inv: string, args: string[]): Promise<StatusReport> {
  const r = await tierback(['status', ...args, '-i', inv, '--host', HOST, '--json']);
  return JSON.parse(r.stdout) as StatusReport;
}

describe('running runs', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let site: Site;
  let inv: string;
  const children: ResultPromise[] = [];
  before(async () => {
    ({ dir: root, cleanup } = await tempDir('tierback-running-'));
    site = await jobSite(root, [{ name: 'slow', type: 'command', path: root, relpath: 'slow.example.com', options: { argv: ['sleep', '120'] } }, { name: 'data', type: 'command', path: root, relpath: 'data.example.com', options: { argv: ['head', '-c', '300000', '/dev/urandom'] } }], { pulls: true });
    // A pull slowed down to ~30 KB/s, so it is still running while we look.
    const doc = yaml.load(await readFile(site.file, 'utf8')) as { backup_servers: { pulls: Record<string, unknown>[] }[] };
    doc.backup_servers[0]!.pulls[0]!['bwlimit'] = '30';
    await writeFile(site.file, yaml.dump(doc));
    site = parseInventory(yaml.dump(doc), site.file);
    inv = site.file;
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null) await killHard(c).catch(() => undefined);
    await cleanup();
  });

  it('history and status agree on a running job, and on one killed with SIGKILL', async () => {
    const child = execa(process.execPath, [CLI, 'job', 'slow', '-i', inv], { reject: false });
    children.push(child);
    const hist = jobHistoryDir(path.join(root, 'partition'), 'web');
    await waitFor(async () => (await readdir(hist).catch(() => [] as string[])).some((n) => n.startsWith('backup-slow-')), 'the start line');
    await waitFor(async () => (await descendants(child.pid!)).length > 0, 'the dump command');

    const h = await historyJson(inv, 'slow');
    const run = h.entries.at(-1)!;
    assert.equal(run.status, 'running', JSON.stringify(run));
    assert.equal(run.interrupted, false);
    const s = await statusJson(inv, ['slow', '--tier', 'local']);
    const row = s.rows[0]!;
    assert.equal(row.running, true);
    assert.equal(row.runningSince, run.start);
    assert.equal(row.lastRun?.status, 'running');
    assert.deepEqual(s.running.map((x) => [x.kind, x.app, x.server, x.start]), [['job', 'slow', HOST, run.start]]);
    // The Prometheus export says so too, with the start time, and never FAILED for it.
    const prom = renderPrometheus(await siteStatus(site, { host: HOST, apps: ['slow'], tier: 'local' }));
    assert.match(prom, /^tierback_running\{app="slow",tier="local",server="app1\.test\.example",backup_server=""\} 1$/m);
    assert.match(prom, new RegExp(`^tierback_run_start_timestamp_seconds\\{kind="job",app="slow",tier="local",server="app1\\.test\\.example",backup_server="",target=""\\} ${Date.parse(run.start) / 1000}$`, 'm'));
    assert.match(prom, /^tierback_running_runs\{kind="job",server="app1\.test\.example"\} 1$/m);
    assert.doesNotMatch(prom, /tierback_status\{app="slow"[^}]*state="FAILED"\} 1/);

    await killHard(child);
    const h2 = await historyJson(inv, 'slow');
    const gone = h2.entries.at(-1)!;
    assert.equal(gone.run, run.run);
    assert.equal(gone.status, 'failed');
    assert.equal(gone.interrupted, true);
    const s2 = await statusJson(inv, ['slow', '--tier', 'local']);
    assert.equal(s2.rows[0]!.running, false);
    assert.equal(s2.rows[0]!.state, 'FAILED');
    assert.equal(s2.rows[0]!.lastRun?.run, run.run);
    assert.match(s2.rows[0]!.reason, /interrupted/);
    assert.deepEqual(s2.running, []);
  });

  it('a pull in progress is running on the backup server (status, Prometheus), and interrupted once killed', async () => {
    const job = await tierback(['job', 'data', '-i', inv]);
    assert.equal(job.code, 0, job.stderr);
    const child = execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', HOST, '--streams', '1'], { reject: false });
    children.push(child);
    const hist = serverHistoryDir(path.join(root, 'partition'));
    await waitFor(async () => (await readdir(hist).catch(() => [] as string[])).some((n) => n.startsWith(`backup-pull-${HOST}-`)), 'the pull start line');
    await waitFor(async () => (await descendants(child.pid!)).length > 0, 'rsync');

    const s = await statusJson(inv, ['data', '--tier', 'remote']);
    const row = s.rows[0]!;
    assert.equal(row.running, true, JSON.stringify(row));
    assert.ok(row.runningSince);
    assert.deepEqual(s.running.map((x) => [x.kind, x.server, x.backupServer]), [['pull', HOST, HOST]]);
    const prom = renderPrometheus(await siteStatus(site, { host: HOST, tier: 'remote' }));
    assert.match(prom, /^tierback_running_runs\{kind="pull",server="app1\.test\.example"\} 1$/m);
    assert.match(prom, /^tierback_run_start_timestamp_seconds\{kind="pull",app="",tier="remote",server="app1\.test\.example",backup_server="app1\.test\.example",target=""\} \d+/m);

    await killHard(child);
    const s2 = await statusJson(inv, ['data', '--tier', 'remote']);
    assert.equal(s2.rows[0]!.running, false);
    assert.equal(s2.rows[0]!.lastRun?.status, 'failed');
    assert.match(s2.rows[0]!.lastRun?.error ?? '', /interrupted/);
    assert.deepEqual(s2.running, []);
  });
});
