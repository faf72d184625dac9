import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { appendRecord, dayOf, formatRecord, newRunId, parseRecord, readHistory, type HistoryRecord } from '../../../lib/model/history.js';
import { tempDir } from '../../helpers/tree.js';

const t0 = new Date('2026-11-21T23:30:00Z');
function rec(over: Partial<HistoryRecord> = {}): HistoryRecord {
  return { run: 'r1', name: 'hydro', kind: 'job', tier: 'local', status: 'ok', start: t0, ...over };
}

describe('history: records', () => {
  it('round-trips every field through one logfmt line', () => {
    const r = rec({
      end: new Date('2026-11-21T23:31:00.5Z'),
      durationS: 60.5,
      files: 1834,
      mb: 212.113,
      bytes: 212113408,
      transferredMb: 1.5,
      host: 'web',
      type: 'rails',
      error: 'mysqldump: Got error: 1045 "Access denied" \\ for user\nsecond line',
      extra: { dumps: '3' },
    });
    const line = formatRecord(r);
    assert.ok(!line.includes('\n'), 'one line');
    const back = parseRecord(line);
    assert.equal(back.error, r.error);
    assert.equal(back.files, 1834);
    assert.equal(back.mb, 212.113);
    assert.equal(back.end?.toISOString(), '2026-11-21T23:31:00.500Z');
    assert.deepEqual(back.extra, { dumps: '3' });
  });
  it('rejects malformed lines with a reason', () => {
    assert.throws(() => parseRecord('run=x name=y'), /missing "kind"|missing/);
    assert.throws(() => parseRecord('v=1 run=x name=y kind=job tier=local status=bogus start=2026-01-01T00:00:00Z'), /unknown status/);
    assert.throws(() => parseRecord('v=1 run=x name=y kind=job tier=local status=ok start=yesterday'), /bad date/);
    assert.throws(() => parseRecord('v=1 run=x error="unterminated'), /unterminated/);
    assert.throws(() => parseRecord('garbage'), /key=value/);
  });
  it('files a run under its start day in the site timezone', () => {
    assert.equal(dayOf(t0, 'UTC'), '20261121');
    assert.equal(dayOf(t0, 'Europe/Zurich'), '20261122');
  });
  it('makes distinct, sortable run ids', () => {
    const a = newRunId(t0);
    const b = newRunId(t0);
    assert.notEqual(a, b);
    assert.match(a, /^20261121T233000-[0-9a-f]{6}$/);
  });
});

describe('history: files', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const hist = path.join(dir, 'local', 'web', '_history');

  it('creates backup-<name>-<yyyymmdd> with a header, 0600 in a 0700 folder', async () => {
    const file = await appendRecord(hist, rec({ status: 'running' }), 'Europe/Zurich');
    assert.equal(path.basename(file), 'backup-hydro-20261122');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(hist)).mode & 0o777, 0o700);
    assert.match(await readFile(file, 'utf8'), /^# tierback history v1/);
  });
  it('folds a start and a final line into one run', async () => {
    await appendRecord(hist, rec({ status: 'ok', end: new Date(t0.getTime() + 5000), files: 3, mb: 1 }), 'Europe/Zurich');
    const { runs, problems } = await readHistory(hist);
    assert.equal(problems.length, 0);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'ok');
    assert.equal(runs[0]!.files, 3);
  });
  it('reads a run without a final line as failed (interrupted)', async () => {
    await appendRecord(hist, rec({ run: 'r2', status: 'running', start: new Date(t0.getTime() + 86_400_000) }), 'Europe/Zurich');
    const { runs } = await readHistory(hist);
    const r2 = runs.find((r) => r.run === 'r2')!;
    assert.equal(r2.status, 'failed');
    assert.equal(r2.interrupted, true);
    assert.match(r2.error ?? '', /interrupted/);
    const live = await readHistory(hist, { isRunning: (r) => r.run === 'r2' });
    assert.equal(live.runs.find((r) => r.run === 'r2')!.status, 'running');
  });
  it('reports corrupt lines without failing, and keeps the good ones', async () => {
    const file = path.join(hist, 'backup-hydro-20261125');
    await writeFile(file, '# tierback history v1\n');
    await appendFile(file, 'this is not logfmt\n');
    await appendFile(file, `${formatRecord(rec({ run: 'r3', start: new Date('2026-11-25T01:00:00Z') }))}\n`);
    const { runs, problems } = await readHistory(hist);
    assert.ok(runs.some((r) => r.run === 'r3'));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.line, 2);
    assert.equal(problems[0]!.file, file);
  });
  it('filters by name and day, and ignores files that are not history', async () => {
    await appendRecord(hist, rec({ run: 'o1', name: 'other' }), 'UTC');
    await writeFile(path.join(hist, 'README'), 'not history');
    assert.ok((await readHistory(hist, { name: 'other' })).runs.every((r) => r.name === 'other'));
    assert.ok((await readHistory(hist, { sinceDay: '20261124' })).runs.every((r) => r.start >= new Date('2026-11-24T00:00:00Z')));
  });
  it('treats a missing history folder as no history', async () => {
    assert.deepEqual(await readHistory(path.join(dir, 'nope')), { runs: [], problems: [] });
  });
});

describe('time formatting', () => {
  it('shows wall-clock time in the site timezone, across midnight and DST', async () => {
    const { formatLocalTime } = await import('../../../lib/base/duration.js');
    assert.equal(formatLocalTime('2026-11-21T23:30:00Z', 'UTC'), '2026-11-21 23:30');
    assert.equal(formatLocalTime('2026-11-21T23:30:00Z', 'Europe/Zurich'), '2026-11-22 00:30');
    assert.equal(formatLocalTime('2026-07-01T23:30:00Z', 'Europe/Zurich'), '2026-07-02 01:30');
    assert.equal(formatLocalTime(undefined, 'UTC'), '-');
  });
});
