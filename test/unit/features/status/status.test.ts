import assert from 'node:assert/strict';
import { appendFile, chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { checkResult, evaluate, siteStatus, type StatusRow } from '../../../../lib/features/status/index.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { tempDir } from '../../../helpers/tree.js';
import { ago, DAY, HOUR, localHistory, makeSnapshot, pullHistory, siteYaml, writeRun, writeSite } from '../../../helpers/history-site.js';

const NOW = new Date('2026-03-10T12:00:00Z');

function row(rows: StatusRow[], app: string, tier: 'local' | 'remote' = 'local'): StatusRow {
  const r = rows.find((x) => x.app === app && x.tier === tier);
  assert.ok(r, `no ${tier} row for ${app} in ${JSON.stringify(rows.map((x) => `${x.app}/${x.tier}`))}`);
  return r;
}

describe('status over crafted histories', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let site: Site;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('tierback-status-'));
    ({ site } = await writeSite(dir));
  });
  afterEach(() => cleanup());

  it('reports a fresh backup as OK with its size and the change since the previous run', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 26 * HOUR), files: 100, mb: 50 });
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 2 * HOUR), files: 110, mb: 55 });
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    const a = row(rows, 'alpha');
    assert.equal(a.state, 'OK');
    assert.equal(a.files, 110);
    assert.equal(a.mb, 55);
    assert.equal(a.deltaFiles, 10);
    assert.equal(a.deltaMb, 5);
    assert.equal(a.deltaPct, 10);
    assert.equal(a.ageS, 2 * 3600 - 5 * 60);
    assert.equal(a.lastSuccess, new Date(NOW.getTime() - 2 * HOUR + 5 * 60_000).toISOString());
  });

  it('reports STALE after stale_after, using the per-app threshold over the default', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 27 * HOUR), mb: 1 });
    await writeRun(localHistory(dir), { name: 'beta', start: ago(NOW, 3 * HOUR), mb: 1 });
    await writeRun(localHistory(dir), { name: 'gamma', start: ago(NOW, 3 * HOUR), mb: 1 }); // stale_after: 2h
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    assert.equal(row(rows, 'alpha').state, 'STALE');
    assert.match(row(rows, 'alpha').reason, /stale after 26h/);
    assert.equal(row(rows, 'beta').state, 'OK');
    assert.equal(row(rows, 'gamma').state, 'STALE');
  });

  it('reports FAILED with the error when the last run failed, and keeps the last success', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 25 * HOUR), files: 7, mb: 3 });
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 1 * HOUR), status: 'failed', error: 'mysqldump: Access denied' });
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    const a = row(rows, 'alpha');
    assert.equal(a.state, 'FAILED');
    assert.match(a.reason, /Access denied/);
    assert.equal(a.files, 7);
    assert.equal(a.lastRun?.status, 'failed');
  });

  it('reports an interrupted run (start line, no end line) as FAILED', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 25 * HOUR), mb: 3 });
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 1 * HOUR), noEnd: true });
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    assert.equal(row(rows, 'alpha').state, 'FAILED');
    assert.match(row(rows, 'alpha').reason, /interrupted/);
  });

  it('reports MISSING for an app that never ran, including apps running on the server itself', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, HOUR), mb: 1 });
    const { rows, counts } = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    assert.equal(row(rows, 'beta').state, 'MISSING');
    assert.equal(row(rows, 'delta').state, 'MISSING');
    assert.equal(row(rows, 'delta').vm, '_host');
    assert.equal(counts.MISSING, 3);
  });

  it('reports SHRUNK when the size fell by more than the threshold, not when it fell less', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 26 * HOUR), mb: 100, files: 10 });
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 2 * HOUR), mb: 70, files: 8 });
    await writeRun(localHistory(dir), { name: 'beta', start: ago(NOW, 26 * HOUR), mb: 100 });
    await writeRun(localHistory(dir), { name: 'beta', start: ago(NOW, 2 * HOUR), mb: 85 });
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    assert.equal(row(rows, 'alpha').state, 'SHRUNK');
    assert.equal(row(rows, 'alpha').deltaPct, -30);
    assert.equal(row(rows, 'beta').state, 'OK');
  });

  it('handles a run across midnight in the site timezone: one file per start day, age from timestamps', async () => {
    ({ site } = await writeSite(dir, siteYaml({ timezone: 'Europe/Zurich' })));
    // 23:50 Zurich (22:50Z) on March 9th, 30 minutes long: ends 00:20 on March 10th.
    const now = new Date('2026-03-09T23:30:00Z'); // 00:30 Zurich
    await writeRun(localHistory(dir), { name: 'alpha', start: new Date('2026-03-08T22:50:00Z'), minutes: 30, mb: 10 }, 'Europe/Zurich');
    await writeRun(localHistory(dir), { name: 'alpha', start: new Date('2026-03-09T22:50:00Z'), minutes: 30, mb: 11 }, 'Europe/Zurich');
    const { rows } = await siteStatus(site, { root: dir, now, tier: 'local' });
    const a = row(rows, 'alpha');
    assert.equal(a.state, 'OK');
    assert.equal(a.ageS, 10 * 60);
    assert.equal(a.deltaMb, 1);
    // Exactly at midnight, with the last success 24h10m old and stale_after 26h: still OK.
    const mid = await siteStatus(site, { root: dir, now: new Date('2026-03-10T23:00:00Z'), tier: 'local' });
    assert.equal(row(mid.rows, 'alpha').state, 'OK');
    const later = await siteStatus(site, { root: dir, now: new Date('2026-03-11T02:00:00Z'), tier: 'local' });
    assert.equal(row(later.rows, 'alpha').state, 'STALE');
  });

  it('reports a corrupt history file as a problem and still judges from the good lines', async () => {
    const file = await (async () => {
      await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 2 * HOUR), mb: 4 });
      return path.join(localHistory(dir), 'backup-alpha-20260310');
    })();
    await appendFile(file, 'this is not logfmt\nv=1 run="unterminated\n\u0000\u0001garbage=\n');
    await writeFile(path.join(localHistory(dir), 'backup-beta-20260310'), 'complete nonsense\n');
    const report = await siteStatus(site, { root: dir, now: NOW, tier: 'local' });
    assert.equal(row(report.rows, 'alpha').state, 'OK');
    assert.equal(row(report.rows, 'beta').state, 'MISSING');
    assert.ok(report.problems.length >= 3, JSON.stringify(report.problems));
    assert.ok(report.problems.some((p) => p.file.endsWith('backup-beta-20260310') && p.line === 1));
    const check = checkResult(report);
    assert.equal(check.code, 2); // beta, gamma, delta missing
    assert.match(check.line, /history_problems=[1-9]/);
  });

  it('reports an unreadable history file as a problem, not an error', async () => {
    if (process.getuid?.() === 0) {
      // root reads anything; use a directory where a file is expected instead.
      await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 2 * HOUR), mb: 4 });
      const { mkdir } = await import('node:fs/promises');
      await mkdir(path.join(localHistory(dir), 'backup-alpha-20260311'));
    } else {
      await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 2 * HOUR), mb: 4 });
      await chmod(path.join(localHistory(dir), 'backup-alpha-20260310'), 0);
    }
    const report = await siteStatus(site, { root: dir, now: NOW, tier: 'local', apps: ['alpha'] });
    assert.equal(report.rows.length, 1);
    assert.ok(report.problems.some((p) => /cannot read/.test(p.message)));
  });

  it('remote tier: OK as fresh as the last pull that carried the app; sizes from the pulled job history', async () => {
    const carried = await makeSnapshot(dir, ago(NOW, 3 * HOUR));
    await writeRun(carried, { name: 'alpha', start: ago(NOW, 30 * HOUR), mb: 20, files: 5 });
    await writeRun(carried, { name: 'alpha', start: ago(NOW, 6 * HOUR), mb: 21, files: 6 });
    await writeRun(pullHistory(dir), { name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', start: ago(NOW, 3 * HOUR), minutes: 10 });
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'remote' });
    const a = row(rows, 'alpha', 'remote');
    assert.equal(a.state, 'OK');
    assert.equal(a.backupServer, 'bk.test.example');
    assert.equal(a.ageS, 3 * 3600 - 600);
    assert.equal(a.files, 6);
    assert.equal(row(rows, 'beta', 'remote').state, 'MISSING');
    assert.match(row(rows, 'beta', 'remote').reason, /newest snapshot/);
    assert.ok(!rows.some((r) => r.tier === 'local'), 'the local tier is not on this machine');
  });

  it('remote tier: FAILED when the last pull failed, STALE when the pull carried an old backup, MISSING when never pulled', async () => {
    const carried = await makeSnapshot(dir, ago(NOW, 3 * HOUR));
    await writeRun(carried, { name: 'alpha', start: ago(NOW, 5 * HOUR), mb: 20 });
    await writeRun(carried, { name: 'beta', start: ago(NOW, 4 * DAY), mb: 20 });
    const pulls = pullHistory(dir);
    await writeRun(pulls, { name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', start: ago(NOW, 3 * HOUR) });
    let rows = (await siteStatus(site, { root: dir, now: NOW, tier: 'remote' })).rows;
    assert.equal(row(rows, 'alpha', 'remote').state, 'OK');
    assert.equal(row(rows, 'beta', 'remote').state, 'STALE');
    assert.match(row(rows, 'beta', 'remote').reason, /carried a backup already/);
    await writeRun(pulls, { name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', start: ago(NOW, HOUR), status: 'failed', error: 'ssh: connection refused' });
    rows = (await siteStatus(site, { root: dir, now: NOW, tier: 'remote' })).rows;
    assert.equal(row(rows, 'alpha', 'remote').state, 'FAILED');
    assert.match(row(rows, 'alpha', 'remote').reason, /connection refused/);
  });

  it('remote tier: a job still running when the pull copied its history is not a failure', async () => {
    const carried = await makeSnapshot(dir, ago(NOW, 3 * HOUR));
    await writeRun(carried, { name: 'alpha', start: ago(NOW, 20 * HOUR), mb: 20 });
    await writeRun(carried, { name: 'alpha', start: ago(NOW, 3 * HOUR + 60_000), noEnd: true });
    await writeRun(pullHistory(dir), { name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', start: ago(NOW, 3 * HOUR) });
    const { rows } = await siteStatus(site, { root: dir, now: NOW, tier: 'remote', apps: ['alpha'] });
    assert.equal(row(rows, 'alpha', 'remote').state, 'OK');
  });

  it('sees both tiers when both trees are on this machine, and filters by tier and app', async () => {
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, HOUR), mb: 1 });
    await makeSnapshot(dir, ago(NOW, HOUR));
    const all = await siteStatus(site, { root: dir, now: NOW });
    assert.equal(all.rows.length, 8);
    const one = await siteStatus(site, { root: dir, now: NOW, apps: ['alpha'], tier: 'local' });
    assert.deepEqual(one.rows.map((r) => `${r.app}/${r.tier}`), ['alpha/local']);
    await assert.rejects(siteStatus(site, { root: dir, now: NOW, apps: ['alpah'] }), /no app "alpah"[^]*/);
  });

  it('reads only the newest files of each app (an old corrupt file is never opened once two successes are found)', async () => {
    await writeFile(path.join(await (async () => { await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 3 * DAY), mb: 1 }); return localHistory(dir); })(), 'backup-alpha-20250101'), 'garbage\n');
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 2 * DAY), mb: 1 });
    await writeRun(localHistory(dir), { name: 'alpha', start: ago(NOW, 1 * HOUR), mb: 1 });
    const report = await siteStatus(site, { root: dir, now: NOW, apps: ['alpha'] });
    assert.equal(report.problems.length, 0);
  });
});

describe('evaluate', () => {
  const t = { staleAfterMs: 26 * HOUR, shrinkThreshold: 20 };
  it('prefers FAILED over STALE', () => {
    const ok = { run: 'a', name: 'x', kind: 'job', tier: 'local' as const, status: 'ok' as const, start: ago(NOW, 3 * DAY), end: ago(NOW, 3 * DAY), file: '' };
    const bad = { ...ok, run: 'b', status: 'failed' as const, start: ago(NOW, DAY), error: 'boom' };
    assert.equal(evaluate({ runs: 2, last: bad, lastFinished: bad, lastSuccess: ok }, ok.end, NOW, t).state, 'FAILED');
    assert.equal(evaluate({ runs: 1, last: ok, lastFinished: ok, lastSuccess: ok }, ok.end, NOW, t).state, 'STALE');
    assert.equal(evaluate({ runs: 0 }, undefined, NOW, t).state, 'MISSING');
  });
});
