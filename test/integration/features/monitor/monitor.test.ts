import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HistoryRecord } from '../../../../lib/model/history.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { notifyRunFinished, notifyRunStarted } from '../../../../lib/features/monitor/index.js';
import { ROOT, tierback } from '../../../helpers/cli.js';
import { startRecorder, type Recorder } from '../../../helpers/http-recorder.js';
import { startInflux, type Influx } from '../../../helpers/influxdb.js';
import { freePort } from '../../../helpers/net.js';
import { tempDir } from '../../../helpers/tree.js';
import { ago, HOUR, localHistory, siteYaml, writeRun } from '../../../helpers/history-site.js';

const NOW = new Date();

function rec(over: Partial<HistoryRecord> = {}): HistoryRecord {
  const start = ago(NOW, 10 * 60_000);
  return { run: 'r1', name: 'alpha', kind: 'job', tier: 'local', status: 'ok', start, end: NOW, durationS: 600, files: 1234, mb: 56.5, bytes: 56_500_000, host: 'app1', ...over };
}

function siteWith(dir: string, monitoring: string) {
  return parseInventory(siteYaml({ extra: `monitoring:\n${monitoring}` }), path.join(dir, 'inventory.yaml'));
}

describe('monitoring exports with real receivers', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let influx: Influx;
  let hc: Recorder;
  before(async () => {
    ({ dir, cleanup } = await tempDir('tierback-monitor-'));
    [influx, hc] = await Promise.all([startInflux(), startRecorder()]);
    await influx.query('CREATE DATABASE tierback');
  });
  after(async () => {
    await influx?.stop();
    await hc?.close();
    await cleanup();
  });

  it('sends an InfluxDB event per finished job and pull, failures and sizes included, queried back', async () => {
    const site = siteWith(dir, `  influxdb: { url: "${influx.url}", db: tierback }\n  spool: /spool/a.jsonl\n`);
    const a = await notifyRunFinished(site, rec(), { root: dir });
    const b = await notifyRunFinished(site, rec({ run: 'r2', name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', status: 'failed', error: 'rsync: "connection" refused, code=255', files: undefined, mb: undefined, bytes: undefined }), { root: dir });
    assert.deepEqual([a.sent, a.queued, b.sent, b.queued], [1, 0, 1, 0]);
    const res = (await influx.query('SELECT * FROM tierback_run ORDER BY time', 'tierback')) as { results: { series?: { columns: string[]; values: unknown[][] }[] }[] };
    const series = res.results[0]?.series?.[0];
    assert.ok(series, JSON.stringify(res));
    const rows = series.values.map((v) => Object.fromEntries(series.columns.map((c, i) => [c, v[i]])));
    const job = rows.find((r) => r['name'] === 'alpha');
    assert.equal(job?.['files'], 1234);
    assert.equal(job?.['mb'], 56.5);
    assert.equal(job?.['ok'], true);
    assert.equal(job?.['status'], 'ok');
    assert.equal(job?.['time'], NOW.toISOString().replace(/\.?0*Z$/, 'Z').replace(/\.Z$/, 'Z'));
    const pull = rows.find((r) => r['kind'] === 'pull');
    assert.equal(pull?.['status'], 'failed');
    assert.equal(pull?.['ok'], false);
    assert.equal(pull?.['error'], 'rsync: "connection" refused, code=255');
  });

  it('every InfluxQL query of docs/monitoring.md is accepted by InfluxDB, and the last-success query finds the job', async () => {
    const doc = await readFile(path.join(ROOT, 'docs/monitoring.md'), 'utf8');
    const block = /Grafana queries \(InfluxQL\):\n\n```sql\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(block, 'the InfluxQL block of docs/monitoring.md');
    const queries = block.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--')).map((q) => q.replaceAll('$timeFilter', 'time > now() - 30d'));
    assert.ok(queries.length >= 3);
    for (const q of queries) {
      const res = (await influx.query(q, 'tierback')) as { results: { error?: string; series?: { tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[] };
      assert.equal(res.results[0]?.error, undefined, `${q}: ${res.results[0]?.error}`);
      if (q.includes('last("duration_s")')) {
        const alpha = res.results[0]?.series?.find((x) => x.tags?.['name'] === 'alpha');
        assert.ok(alpha, JSON.stringify(res));
        assert.equal(alpha.values[0]?.[0], NOW.toISOString().replace(/\.?0*Z$/, 'Z').replace(/\.Z$/, 'Z'));
      }
    }
    // the query the docs used to give is what InfluxDB rejects
    const old = (await influx.query('SELECT (now() - last("ok")) FROM "tierback_run" WHERE "ok" = true GROUP BY "name"', 'tierback')) as { results: { error?: string }[] };
    assert.ok(old.results[0]?.error, 'InfluxDB rejects now() - last()');
  });

  it('pings healthchecks: /start, success, /fail with the error in the body', async () => {
    const site = siteWith(dir, `  healthchecks:\n    apps: { alpha: "${hc.url}/ping/abc" }\n    pulls: { app1.test.example: "${hc.url}/ping/pull1" }\n  spool: /spool/b.jsonl\n`);
    hc.requests.length = 0;
    await notifyRunStarted(site, rec({ status: 'running', end: undefined }), { root: dir });
    await notifyRunFinished(site, rec(), { root: dir });
    await notifyRunFinished(site, rec({ run: 'r3', status: 'failed', error: 'mysqldump: Access denied' }), { root: dir });
    await notifyRunFinished(site, rec({ run: 'r4', name: 'pull-app1.test.example', kind: 'pull', tier: 'remote' }), { root: dir });
    await notifyRunFinished(site, rec({ run: 'r5', name: 'beta' }), { root: dir }); // no URL configured: no ping
    assert.deepEqual(hc.requests.map((r) => `${r.method} ${r.url}`), ['POST /ping/abc/start', 'POST /ping/abc', 'POST /ping/abc/fail', 'POST /ping/pull1']);
    assert.match(hc.requests[2]!.body, /error: mysqldump: Access denied/);
    assert.match(hc.requests[1]!.body, /files=1234/);
  });

  it('a delivery failure never throws: it is queued (0600, no secrets) and retried on the next run', async () => {
    const deadPort = await freePort();
    const site = siteWith(dir, `  influxdb: { url: "${hc.url}/influx", db: tierback, token_env: TB_TEST_TOKEN }\n  healthchecks:\n    apps: { alpha: "http://127.0.0.1:${deadPort}/ping/x" }\n  spool: /spool/c.jsonl\n`);
    const env = { ...process.env, TB_TEST_TOKEN: 's3cret-token-value' };
    hc.requests.length = 0;
    hc.status = 500;
    const first = await notifyRunFinished(site, rec({ run: 'q1' }), { root: dir, env });
    assert.deepEqual([first.sent, first.queued], [0, 2]);
    const spool = path.join(dir, 'spool/c.jsonl');
    assert.equal((await stat(spool)).mode & 0o777, 0o600);
    const text = await readFile(spool, 'utf8');
    assert.equal(text.trim().split('\n').length, 2);
    assert.doesNotMatch(text, /s3cret/);
    // The token went in the header of the attempt, not in the URL.
    assert.equal(hc.requests[0]?.headers['authorization'], 'Token s3cret-token-value');
    assert.doesNotMatch(hc.requests[0]!.url, /s3cret/);
    // Next run: InfluxDB answers again, the ping target is still down.
    hc.status = 204;
    const second = await notifyRunFinished(site, rec({ run: 'q2' }), { root: dir, env });
    assert.deepEqual([second.sent, second.retried, second.queued], [2, 1, 2]);
    const bodies = hc.requests.filter((r) => r.headers['authorization']).map((r) => r.body);
    assert.ok(bodies.some((b) => b.includes('run="q1"')) && bodies.some((b) => b.includes('run="q2"')));
    const left = (await readFile(spool, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { service: string; attempts: number });
    assert.deepEqual(left.map((d) => [d.service, d.attempts]).sort(), [['healthchecks', 1], ['healthchecks', 2]]);
    assert.deepEqual((await readdir(path.join(dir, 'spool'))).sort(), ['c.jsonl']);
  });

  it('writes the Prometheus textfile atomically from the status of this machine', async () => {
    const root = path.join(dir, 'prom-root');
    await writeRun(localHistory(root), { name: 'alpha', start: ago(NOW, 2 * HOUR), files: 10, mb: 2.5 });
    await writeRun(localHistory(root), { name: 'beta', start: ago(NOW, HOUR), status: 'failed', error: 'x' });
    const site = siteWith(dir, `  prometheus: { textfile: /metrics/tierback.prom }\n  spool: /spool/d.jsonl\n`);
    const r = await notifyRunFinished(site, rec(), { root });
    assert.equal(r.prometheus, 'written');
    const file = path.join(root, 'metrics/tierback.prom');
    const text = await readFile(file, 'utf8');
    assert.equal((await stat(file)).mode & 0o777, 0o644);
    assert.match(text, /^# TYPE tierback_last_success_timestamp_seconds gauge$/m);
    assert.match(text, /^tierback_files\{app="alpha",tier="local",server="app1\.test\.example",backup_server=""\} 10$/m);
    assert.match(text, /^tierback_bytes\{app="alpha",[^}]*\} 2500000$/m);
    assert.match(text, /^tierback_ok\{app="beta",[^}]*\} 0$/m);
    assert.match(text, /^tierback_status\{app="beta",[^}]*,state="FAILED"\} 1$/m);
    assert.match(text, /^tierback_status\{app="gamma",[^}]*,state="MISSING"\} 1$/m);
    const age = Number(/^tierback_age_seconds\{app="alpha"[^}]*\} (\d+)$/m.exec(text)?.[1]);
    assert.ok(Math.abs(age - (2 * 3600 - 300)) < 60, `age ${age}`);
    assert.deepEqual(await readdir(path.join(root, 'metrics')), ['tierback.prom']);
    // The same through the CLI, for cron.
    const inv = path.join(dir, 'inv-prom.yaml');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(inv, siteYaml({ extra: `monitoring:\n  prometheus: { textfile: /metrics/cli.prom }\n` }));
    const c = await tierback(['monitor', 'export', '-i', inv, '--root', root]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(await readFile(path.join(root, 'metrics/cli.prom'), 'utf8'), /tierback_ok\{app="alpha"[^}]*\} 1/);
  });
});
