/**
 * An overdue USB drive is a state `status` shows (OVERDUE, WARNING in --check), the same drive
 * `offsite drives` calls overdue; read through the CLI with the clock option (--now).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { driveRegistryPath } from '../../../../lib/model/convention.js';
import { appendRecord, newRunId } from '../../../../lib/model/history.js';
import { rooted } from '../../../../lib/model/machine.js';
import { listDrives } from '../../../../lib/tiers/offsite/usb.js';
import { resolveBackupServer } from '../../../../lib/tiers/pull/pull.js';
import type { StatusReport } from '../../../../lib/features/status/index.js';
import { tierback } from '../../../helpers/cli.js';
import { APP_SERVER, BACKUP_PARTITION, BACKUP_SERVER, DAY, HOUR, ago, makeSnapshot, pullHistory, siteYaml, writeRun, writeSite } from '../../../helpers/history-site.js';
import { useTempDir } from '../../../helpers/tree.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const now = new Date('2026-11-20T12:00:00Z');

describe('status: an overdue USB drive', () => {
  const tmp = useTempDir('tierback-overdue-');
  let inv: string;
  let site: Site;
  before(async () => {
    ({ file: inv, site } = await writeSite(tmp.dir, siteYaml({ extra: 'offsite:\n  swap_after: 7d\n' })));
    const jobs = await makeSnapshot(tmp.dir, ago(now, 8 * HOUR));
    for (const app of ['alpha', 'beta', 'gamma', 'delta']) await writeRun(jobs, { name: app, start: ago(now, 10 * HOUR) });
    await writeRun(pullHistory(tmp.dir), { name: `pull-${APP_SERVER}`, kind: 'pull', tier: 'remote', start: ago(now, 8 * HOUR) });
    // Drive "blue" has been the one written for 8 days (its newest copy: yesterday), as `offsite usb` records it.
    const start = ago(now, DAY);
    const base = { run: newRunId(start), name: 'offsite-usb-blue', kind: 'offsite', tier: 'offsite' as const, start, host: BACKUP_SERVER, type: 'usb', extra: { server: APP_SERVER, drive: 'd1', label: 'blue' } };
    await appendRecord(pullHistory(tmp.dir), { ...base, status: 'running' }, 'UTC');
    await appendRecord(pullHistory(tmp.dir), { ...base, status: 'ok', end: new Date(start.getTime() + 60_000) }, 'UTC');
    const rec = rooted(tmp.dir, driveRegistryPath(BACKUP_PARTITION, 'd1'));
    await mkdir(path.dirname(rec), { recursive: true });
    await writeFile(rec, JSON.stringify({ id: 'd1', label: 'blue', created: ago(now, 30 * DAY).toISOString(), lastWritten: start.toISOString(), inServiceSince: ago(now, 8 * DAY).toISOString(), servers: { [APP_SERVER]: { snapshot: '20261119T040000Z', written: start.toISOString() } } }));
  });

  const status = (args: string[]) => tierback(['status', '--tier', 'offsite', '-i', inv, '--root', tmp.dir, '--host', BACKUP_SERVER, ...args]);

  it('turns the usb rows OVERDUE (exit 1) and --check WARNING, where offsite drives says overdue', async () => {
    const drives = await listDrives(site, { ...resolveBackupServer(site, BACKUP_SERVER), partition: rooted(tmp.dir, BACKUP_PARTITION) }, { now });
    assert.equal(drives[0]!.overdue, true);
    const r = await status(['--json', '--now', now.toISOString()]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as StatusReport;
    const usb = report.rows.filter((x) => x.target === 'usb');
    assert.ok(usb.length > 0);
    for (const row of usb) {
      assert.equal(row.state, 'OVERDUE');
      assert.match(row.reason, /drive blue has been in service for 8d.*offsite\.swap_after \(7d\)/);
    }
    assert.equal(report.counts.OVERDUE, usb.length);
    const c = await status(['--check', '--now', now.toISOString()]);
    assert.equal(c.code, 1, c.stdout);
    assert.match(c.stdout, /^TIERBACK WARNING - 0\/\d+ ok, \d+ overdue; alpha\/offsite@bk\.test\.example=OVERDUE.* overdue=\d+ /);
  });

  it('is OK again on a day the drive is within swap_after ($TIERBACK_NOW works like --now)', async () => {
    const earlier = ago(now, 2 * DAY - HOUR).toISOString();
    // Two days earlier the newest copy did not exist yet: use the clock only for the drive's age.
    const c = await tierback(['status', '--tier', 'offsite', '-i', inv, '--root', tmp.dir, '--host', BACKUP_SERVER, '--check'], { env: { TIERBACK_NOW: earlier } });
    assert.doesNotMatch(c.stdout, /overdue=[1-9]/, c.stdout);
  });
});
