/** Status covers the offsite tier: one row per app per offsite target (USB drives together, each rclone target). */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendRecord, newRunId } from '../../../../lib/model/history.js';
import { siteStatus } from '../../../../lib/features/status/index.js';
import { buildReport } from '../../../../lib/features/report/index.js';
import { APP_SERVER, BACKUP_SERVER, DAY, HOUR, ago, makeSnapshot, pullHistory, siteYaml, writeRun, writeSite } from '../../../helpers/history-site.js';
import { tempDir } from '../../../helpers/tree.js';

const now = new Date('2026-11-20T12:00:00Z');

async function offsiteRun(root: string, name: string, start: Date, status: 'ok' | 'failed', server = APP_SERVER): Promise<void> {
  const run = newRunId(start);
  const base = { run, name, kind: 'offsite', tier: 'offsite' as const, start, host: BACKUP_SERVER, extra: { server } };
  await appendRecord(pullHistory(root), { ...base, status: 'running' }, 'UTC');
  await appendRecord(pullHistory(root), { ...base, status, end: new Date(start.getTime() + 60_000), ...(status === 'failed' ? { error: 'rclone: connection refused' } : {}) }, 'UTC');
}

describe('status: the offsite tier', async () => {
  const { dir: root, cleanup } = await tempDir();
  after(cleanup);
  const extra = `offsite:
  recipients: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
  swap_after: 7d
  targets:
    - { name: s3-main, remote: "s3:bucket/tierback" }
    - { name: box, remote: "box:tierback" }`;
  const { site } = await writeSite(root, siteYaml({ extra }));
  // A complete remote tier, so remote rows exist too.
  const jobs = await makeSnapshot(root, ago(now, 8 * HOUR));
  for (const app of ['alpha', 'beta', 'gamma', 'delta']) await writeRun(jobs, { name: app, start: ago(now, 10 * HOUR) });
  await writeRun(pullHistory(root), { name: `pull-${APP_SERVER}`, kind: 'pull', tier: 'remote', start: ago(now, 8 * HOUR) });
  // USB: a drive written 3 days ago (swapped weekly: still fresh). s3-main: 2 days ago (stale after 26 h).
  // box: a success 5 h ago, then a failure 1 h ago.
  await offsiteRun(root, 'offsite-usb-blue', ago(now, 3 * DAY), 'ok');
  await offsiteRun(root, 'offsite-s3-main', ago(now, 2 * DAY), 'ok');
  await offsiteRun(root, 'offsite-box', ago(now, 5 * HOUR), 'ok');
  await offsiteRun(root, 'offsite-box', ago(now, 1 * HOUR), 'failed');
  await offsiteRun(root, 'offsite-s3-main', ago(now, 1 * HOUR), 'ok', 'other.test.example');

  const report = await siteStatus(site, { root, host: BACKUP_SERVER, now });
  const row = (app: string, target: string) => report.rows.find((r) => r.app === app && r.tier === 'offsite' && r.target === target);

  it('has a row per app for each rclone target and for the USB drives', () => {
    for (const app of ['alpha', 'beta', 'delta']) for (const t of ['s3-main', 'box', 'usb']) assert.ok(row(app, t), `${app} ${t}`);
    assert.ok(report.rows.some((r) => r.tier === 'remote'));
  });
  it('counts a drive copy fresh for a swap period beyond stale_after', () => {
    assert.equal(row('alpha', 'usb')!.state, 'OK');
    assert.equal(row('alpha', 'usb')!.staleAfterS, (26 * HOUR + 7 * DAY) / 1000);
  });
  it('marks an rclone copy older than stale_after STALE, ignoring copies of other servers', () => {
    assert.equal(row('alpha', 's3-main')!.state, 'STALE');
    assert.match(row('alpha', 's3-main')!.reason, /last success 47h 59m ago/);
  });
  it('marks a target whose newest copy failed FAILED, with the error', () => {
    assert.equal(row('beta', 'box')!.state, 'FAILED');
    assert.match(row('beta', 'box')!.reason, /connection refused/);
  });
  it('can show the offsite tier alone', async () => {
    const only = await siteStatus(site, { root, host: BACKUP_SERVER, now, tier: 'offsite' });
    assert.ok(only.rows.length > 0 && only.rows.every((r) => r.tier === 'offsite'));
  });
  it('reports MISSING for a target never written, and no offsite rows without an offsite block', async () => {
    const { dir: root2, cleanup: c2 } = await tempDir();
    try {
      const { site: s2 } = await writeSite(root2, siteYaml({ extra }));
      const r2 = await siteStatus(s2, { root: root2, host: BACKUP_SERVER, now, tier: 'offsite' });
      assert.ok(r2.rows.length > 0 && r2.rows.every((r) => r.state === 'MISSING' && r.target !== 'usb'));
      const { site: s3 } = await writeSite(root2, siteYaml());
      assert.equal((await siteStatus(s3, { root: root2, host: BACKUP_SERVER, now, tier: 'offsite' })).rows.length, 0);
    } finally {
      await c2();
    }
  });
  it('shows offsite copies as days in the HTML report', async () => {
    const data = await buildReport(site, { root, host: BACKUP_SERVER, now });
    const r = data.rows.find((x) => x.status.app === 'beta' && x.status.tier === 'offsite' && x.status.target === 'box')!;
    assert.ok(r.days.some((d) => d.state !== 'none'));
  });
});
