/**
 * The offsite clock and layouts against real rclone (a local-filesystem remote): the "dated" layout
 * `<server>/<yyyymmdd>/` with retention by age (`keep_days`), and a year of nightly pushes with a
 * fake clock, giving the documented GFS cycle prefixes and the exact set of dated copies kept.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { serverHistoryDir } from '../../../../lib/model/convention.js';
import { dayOf, readHistory } from '../../../../lib/model/history.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { calendarOf } from '../../../../lib/tiers/offsite/cycle.js';
import { expiredDays } from '../../../../lib/tiers/offsite/dated.js';
import { fetchOffsite } from '../../../../lib/tiers/offsite/fetch.js';
import { pushToRemote } from '../../../../lib/tiers/offsite/push.js';
import { resolveTarget } from '../../../../lib/tiers/offsite/rclone.js';
import { resolveBackupServer } from '../../../../lib/tiers/pull/pull.js';
import { APP_REL, APP_SERVER, BACKUP_SERVER, makeBackupSite, type BackupSite } from '../../../helpers/backup-site.js';
import { tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';

let root: string;
let cleanup: () => Promise<void>;
let bs: BackupSite;
let bucket: string;
const TZ = 'Europe/Zurich';
const night = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d, 2, 0, 0)); // 03:00 in Zurich

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-dated-'));
  bucket = path.join(root, 'bucket');
  const conf = path.join(root, 'rclone.conf');
  await writeFile(conf, '[localfs]\ntype = local\n', { mode: 0o600 });
  bs = await makeBackupSite(
    root,
    `offsite:
  rclone_config: ${conf}
  targets:
    - { name: daily-dirs, remote: "localfs:${bucket}/daily-dirs", layout: dated, keep_days: 2 }
    - { name: gfs, remote: "localfs:${bucket}/gfs", retention: { daily: 7, weekly: 4, monthly: 12, quarterly: 4, yearly: 2 } }
    - { name: dated, remote: "localfs:${bucket}/dated", layout: dated, keep_days: 30 }
`,
  );
});
after(() => cleanup());

describe('offsite: the dated layout and the clock', () => {
  it('keeps keep_days of <server>/<yyyymmdd>/ copies, pushed by the CLI with --now; the copy restores', async () => {
    await bs.pullAt(night(2027, 3, 1));
    for (const d of [1, 2, 3, 4, 5]) {
      const r = await tierback(['offsite', 'push', 'daily-dirs', '--unencrypted', '--force', '-i', bs.invFile, '--backup-server', BACKUP_SERVER, '--now', night(2027, 3, d).toISOString()]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
    // keep_days 2 on 5 March: the 5th and the two days before.
    assert.deepEqual((await readdir(path.join(bucket, 'daily-dirs', APP_SERVER))).sort(), ['20270303', '20270304', '20270305']);
    assert.deepEqual((await readdir(path.join(bucket, 'daily-dirs', APP_SERVER, '20270305'))).sort(), ['tierback-manifest.json', 'web.tar.gz']);
    const { runs } = await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-daily-dirs' });
    // The clock starts at --now and advances: each run starts within seconds of its night.
    assert.deepEqual(runs.map((r) => [r.start.toISOString().slice(0, 16), r.extra?.['key'], r.extra?.['pruned'] ?? '']), [
      [night(2027, 3, 1).toISOString().slice(0, 16), `${APP_SERVER}/20270301`, ''],
      [night(2027, 3, 2).toISOString().slice(0, 16), `${APP_SERVER}/20270302`, ''],
      [night(2027, 3, 3).toISOString().slice(0, 16), `${APP_SERVER}/20270303`, ''],
      [night(2027, 3, 4).toISOString().slice(0, 16), `${APP_SERVER}/20270304`, '20270301'],
      [night(2027, 3, 5).toISOString().slice(0, 16), `${APP_SERVER}/20270305`, '20270302'],
    ]);
    const to = path.join(root, 'restored');
    const got = await fetchOffsite(bs.site, 'daily-dirs', `${APP_SERVER}/${APP_REL}/files/f3.txt`, to, { log: silentLogger() });
    assert.equal(got.snapshot, '20270305');
    assert.equal(await readFile(got.path, 'utf8'), await readFile(path.join(bs.source, 'local', APP_REL, 'files/f3.txt'), 'utf8'));
  });

  it('expires by calendar day in the site timezone, never the copy just written', () => {
    const at = new Date('2027-06-10T22:30:00Z'); // 11 June, 00:30 in Zurich
    assert.deepEqual(expiredDays(['20270608', '20270609', '20270610', '20270611'], at, 2, TZ), ['20270608']);
    assert.deepEqual(expiredDays(['20270101'], at, 2, TZ, '20270101'), []);
  });

  it('a year of nights (the clock of --now): GFS prefixes follow the documented calendar, the dated target keeps exactly 31 days', async () => {
    const b = resolveBackupServer(bs.site, BACKUP_SERVER);
    const gfs = resolveTarget(bs.site, 'gfs');
    const dated = resolveTarget(bs.site, 'dated');
    const expected: string[] = [];
    const got: string[] = [];
    for (let i = 0; i < 365; i++) {
      const at = new Date(night(2027, 1, 1).getTime() + i * 86_400_000);
      const opts = { log: silentLogger(), now: () => at, force: true, unencrypted: true };
      const [g] = await pushToRemote(bs.site, b, gfs, opts);
      assert.equal(g!.status, 'ok', g!.error);
      // The dated target over the last 45 nights only (its retention needs no more; the year is slow enough).
      if (i >= 320) {
        const [d] = await pushToRemote(bs.site, b, dated, opts);
        assert.equal(d!.status, 'ok', d!.error);
      }
      got.push(`${dayOf(at, TZ)} ${g!.cycle}`);
      // docs/offsite.md#cycles, pushed every day: 1 January yearly, 1 April/July/October quarterly,
      // other 1sts monthly, Mondays weekly, else daily.
      const c = calendarOf(at, TZ);
      const weekday = new Date(Date.UTC(c.year, c.month - 1, c.day)).getUTCDay();
      const cycle = c.day === 1 && c.month === 1 ? 'yearly' : c.day === 1 && [4, 7, 10].includes(c.month) ? 'quarterly' : c.day === 1 ? 'monthly' : weekday === 1 ? 'weekly' : 'daily';
      expected.push(`${dayOf(at, TZ)} ${cycle}`);
    }
    assert.deepEqual(got, expected);
    const counts = (cycle: string) => got.filter((x) => x.endsWith(` ${cycle}`)).length;
    assert.deepEqual([counts('yearly'), counts('quarterly'), counts('monthly'), counts('weekly')], [1, 3, 8, 49], '2027: 52 Mondays, 3 of them the 1st of a month (February, March, November)');
    // The GFS copies are filed under their cycle's prefix (expired there by the lifecycle rules).
    assert.deepEqual((await readdir(path.join(bucket, 'gfs'))).sort(), ['daily', 'monthly', 'quarterly', 'weekly', 'yearly']);
    // keep_days 30 on 31 December: 1..31 December, nothing older.
    const days = (await readdir(path.join(bucket, 'dated', APP_SERVER))).sort();
    assert.deepEqual(days, Array.from({ length: 31 }, (_, k) => `202712${String(k + 1).padStart(2, '0')}`));
  });
});
