/** Acceptance: `tierback prune --dry-run --explain` on two years of daily snapshots, the example site's remote policy. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../../../lib/model/convention.js';
import { tierback } from '../../../helpers/cli.js';
import { APP_SERVER, BACKUP_SERVER, dailyAt, freshSite, listStamps, makeSnapshots } from '../../../helpers/snapshots.js';

const TZ = 'Europe/Zurich';
const KEPT_DAYS = [
  '2025-12-23', '2025-12-24', '2025-12-25', '2025-12-26', '2025-12-27', '2025-12-28', '2025-12-29', '2025-12-30', '2025-12-31',
  '2025-11-30', '2025-12-07', '2025-12-14', '2025-12-21',
  '2025-01-31', '2025-02-28', '2025-03-31', '2025-04-30', '2025-05-31', '2025-06-30', '2025-07-31', '2025-08-31', '2025-09-30', '2025-10-31',
  '2024-03-31', '2024-06-30', '2024-09-30', '2024-12-31',
];
const stampOfDay = (day: string) => C.snapshotStamp(dailyAt(day, day, TZ)[0]!);

/** Parses `  keep    <stamp>  <local time>  <reasons>` lines. */
function rows(stdout: string, verb: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^  ${verb}\\s+(\\S+)\\s+(\\S+)\\s*(.*)$`).exec(line);
    if (m) out.set(m[1]!, m[3]!);
  }
  return out;
}

describe('tierback prune on two years of daily snapshots (the remote policy of the example site)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  let partition: string;
  let stamps: string[];
  const now = '2026-01-01T00:00:00+01:00';

  before(async () => {
    ({ dir, cleanup, partition, file } = await freshSite('tierback-prune-cli-'));
    stamps = await makeSnapshots(partition, APP_SERVER, dailyAt('2024-01-01', '2025-12-31', TZ));
    // A pull in progress.
    await mkdir(path.join(C.partialSnapshotDir(partition, APP_SERVER, '2026-01-01T030000Z'), 'web'), { recursive: true });
  });
  after(() => cleanup());

  it('--dry-run --explain prints exactly the expected keep-set, each with its reasons, and removes nothing', async () => {
    const r = await tierback(['prune', '--dry-run', '--explain', '-i', file, '--host', BACKUP_SERVER, '--now', now]);
    assert.equal(r.code, 0, r.stderr);
    const keep = rows(r.stdout, 'keep');
    assert.deepEqual([...keep.keys()].sort(), KEPT_DAYS.map(stampOfDay).sort());
    assert.equal(keep.get(stampOfDay('2025-12-31')), 'current (remote/app1.test points to it), newest, daily #1 (2025-12-31), weekly #1 (2026-W01), monthly #1 (2025-12), quarterly #1 (2025-Q4), yearly #1 (2025)');
    assert.equal(keep.get(stampOfDay('2025-12-21')), 'weekly #3 (2025-W51)');
    assert.equal(keep.get(stampOfDay('2025-12-23')), 'daily #9 (2025-12-23)');
    assert.equal(keep.get(stampOfDay('2024-12-31')), 'quarterly #5 (2024-Q4), yearly #2 (2024)');
    for (const [, reasons] of keep) assert.ok(reasons.length > 0);
    const removed = rows(r.stdout, 'remove');
    assert.equal(removed.size, 731 - 27);
    assert.ok(removed.has(stampOfDay('2025-12-22')));
    assert.match(r.stdout, /policy: daily 9, weekly 6, monthly 12, quarterly 24, yearly 120 \(from defaults\.retention\.remote\)/);
    assert.match(r.stdout, /skip\s+2026-01-01T030000Z\.partial\s+a pull is writing it/);
    assert.match(r.stdout, /kept 27, would remove 704, skipped 1/);
    assert.equal((await listStamps(partition, APP_SERVER)).length, 731);
    await assert.rejects(stat(C.serverHistoryDir(partition)), /ENOENT/, 'a dry run writes no history');
  });

  it('takes the time from $TIERBACK_NOW and prints JSON', async () => {
    const r = await tierback(['prune', '-n', '--json', '-i', file, '--host', BACKUP_SERVER], { env: { TIERBACK_NOW: now } });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { now: string; results: { kept: { id: string }[]; removed: unknown[] }[] };
    assert.equal(j.now, '2025-12-31T23:00:00.000Z');
    assert.equal(j.results[0]!.kept.length, 27);
    assert.equal(j.results[0]!.removed.length, 704);
  });

  it('then really prunes: keeps the 27, leaves the pull in progress alone, records the prune in history', async () => {
    const r = await tierback(['prune', '-i', file, '--host', BACKUP_SERVER, '--now', now]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await listStamps(partition, APP_SERVER), KEPT_DAYS.map(stampOfDay).sort());
    const names = await readdir(C.snapshotsDir(partition, APP_SERVER));
    assert.ok(names.includes('2026-01-01T030000Z.partial'));
    assert.ok(!names.some((n) => n.endsWith('.deleting')));
    const hist = C.serverHistoryDir(partition);
    const [h] = await readdir(hist);
    assert.equal(h, 'backup-prune-app1.test-20260101');
    const text = await readFile(path.join(hist, h!), 'utf8');
    assert.match(text, /kind=prune tier=remote status=running/);
    assert.match(text, /kind=prune tier=remote status=ok .*kept=27 removed=704/);
    assert.equal((await stat(path.join(hist, h!))).mode & 0o777, 0o600);
    assert.equal((await stat(hist)).mode & 0o777, 0o700);
    assert.ok(stamps.length === 731);
  });

  it('says clearly what is wrong with --now, --host and --app', async () => {
    const bad = await tierback(['prune', '-n', '-i', file, '--host', BACKUP_SERVER, '--now', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--now "yesterday" is not a date/);
    const host = await tierback(['prune', '-n', '-i', file, '--host', 'bk.tset']);
    assert.equal(host.code, 3);
    assert.match(host.stderr, /did you mean "bk\.test"/);
    const app = await tierback(['prune', '-n', '-i', file, '--host', BACKUP_SERVER, '--app', 'hydro']);
    assert.equal(app.code, 3);
    assert.match(app.stderr, /app "hydro" runs on app1\.test, not on bk\.test/);
  });
});

describe('tierback prune on an app server (dumps, local tier)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  let db: string;
  before(async () => {
    let partition: string;
    ({ dir, cleanup, partition, file } = await freshSite('tierback-prune-cli-dumps-', { appRetention: '{ daily: 2 }' }));
    db = C.localDumpDir(partition, 'web', 'v2.example.ch/hydro');
    await mkdir(db, { recursive: true });
    for (let d = 1; d <= 5; d++) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path.join(db, C.dumpFileName('hydro', C.snapshotStamp(new Date(Date.UTC(2025, 5, d, 0, 30))), 'sql.gz')), 'x');
    }
  });
  after(() => cleanup());

  it('--app prunes that app\'s dumps and explains each', async () => {
    const r = await tierback(['prune', '--explain', '-i', file, '--host', APP_SERVER, '--app', 'hydro', '--now', '2025-06-10T00:00:00Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dumps of hydro\/hydro in .*\/db/);
    assert.match(r.stdout, /policy: daily 2 \(from defaults\.retention\.local\)/);
    assert.match(r.stdout, /keep\s+hydro-2025-06-05T003000Z\s+2025-06-05T02:30:00\+02:00\s+newest, daily #1 \(2025-06-05\)/);
    assert.match(r.stdout, /keep\s+hydro-2025-06-04T003000Z\s+\S+\s+daily #2 \(2025-06-04\)/);
    assert.match(r.stdout, /kept 2, removed 3, skipped 0/);
    assert.equal((await readdir(db)).filter((n) => !n.startsWith('.')).length, 2);
  });

  it('--server on an app server that pulls nothing is a clear error', async () => {
    const r = await tierback(['prune', '-n', '-i', file, '--host', APP_SERVER, '--server', APP_SERVER]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /app1\.test does not pull app1\.test/);
  });
});
