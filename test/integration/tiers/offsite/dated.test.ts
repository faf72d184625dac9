/**
 * The offsite clock and layouts against real rclone (a local-filesystem remote): the "dated" layout
 * `<server>/<yyyymmdd>/` with retention by age (`keep_days`), and pushes with a fake clock
 * on nights that cross every period boundary, giving the documented GFS cycle prefixes
 * and the exact set of dated copies kept.
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

  it('nights across every period boundary (the clock of --now): GFS prefixes follow the documented calendar from the history of earlier pushes; the dated target keeps exactly keep_days + 1 days', async () => {
    // The whole calendar, day by day, is the unit test of classifyCycle (test/unit/tiers/offsite/cycle.test.ts);
    // here real pushes show the earlier copies are read back from the history: the first copy of a year, a
    // quarter, a month or an ISO week takes that cycle, later ones are daily, and a missed Monday makes the
    // Tuesday weekly (every cycle a year of nightly pushes shows, in a tenth of its time).
    const b = resolveBackupServer(bs.site, BACKUP_SERVER);
    const gfs = resolveTarget(bs.site, 'gfs');
    const dated = resolveTarget(bs.site, 'dated');
    const opts = (at: Date) => ({ log: silentLogger(), now: () => at, force: true, unencrypted: true });
    // [year, month, day, expected cycle, the night after a gap (earlier nights of its period missed)]
    const nights: [number, number, number, string, boolean?][] = [
      [2027, 1, 1, 'yearly'], // a Friday, in ISO week 53 of 2026
      [2027, 1, 2, 'daily'],
      [2027, 1, 4, 'weekly'], // Monday
      [2027, 1, 5, 'daily'],
      [2027, 1, 12, 'weekly', true], // Tuesday: Monday the 11th was missed
      [2027, 1, 13, 'daily'],
      [2027, 2, 1, 'monthly'], // a Monday and the 1st: the coarser cycle
      [2027, 2, 2, 'daily'],
      [2027, 3, 31, 'monthly', true], // a Wednesday, but the first push of March
      [2027, 4, 1, 'quarterly'],
      [2027, 4, 2, 'daily'],
      [2027, 5, 2, 'monthly', true], // Sunday: the 1st was missed
    ];
    const got: string[] = [];
    for (const [y, m, d, cycle, afterGap] of nights) {
      const at = night(y, m, d);
      const [g] = await pushToRemote(bs.site, b, gfs, opts(at));
      assert.equal(g!.status, 'ok', g!.error);
      got.push(`${dayOf(at, TZ)} ${g!.cycle}`);
      // The documented calendar (docs/offsite.md#cycles) for a night pushed every day agrees where no day was missed.
      if (!afterGap) {
        const c = calendarOf(at, TZ);
        const weekday = new Date(Date.UTC(c.year, c.month - 1, c.day)).getUTCDay();
        assert.equal(cycle, c.day === 1 && c.month === 1 ? 'yearly' : c.day === 1 && [4, 7, 10].includes(c.month) ? 'quarterly' : c.day === 1 ? 'monthly' : weekday === 1 ? 'weekly' : 'daily');
      }
    }
    assert.deepEqual(got, nights.map(([y, m, d, cycle]) => `${dayOf(night(y, m, d), TZ)} ${cycle}`));
    // The GFS copies are filed under their cycle's prefix (expired there by the lifecycle rules).
    assert.deepEqual((await readdir(path.join(bucket, 'gfs'))).sort(), ['daily', 'monthly', 'quarterly', 'weekly', 'yearly']);
    // keep_days 30, pushed on these nights: on 31 December the copies from 1 December on stay (30 days
    // before), those of 30 November and earlier go, whatever the gaps between nights.
    for (const [m, d] of [[11, 20], [11, 29], [11, 30], [12, 1], [12, 2], [12, 15], [12, 31]] as const) {
      const [r] = await pushToRemote(bs.site, b, dated, opts(night(2027, m, d)));
      assert.equal(r!.status, 'ok', r!.error);
    }
    assert.deepEqual((await readdir(path.join(bucket, 'dated', APP_SERVER))).sort(), ['20271201', '20271202', '20271215', '20271231']);
  });
});
