import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, UsageError } from '../../../lib/base/errors.js';
import { parseAt, wallTimeToDate } from '../../../lib/base/timespec.js';

const at = (v: string, tz?: string) => {
  const s = parseAt(v, tz);
  assert.equal(s.kind, 'time', v);
  return (s as { at: Date }).at.toISOString();
};

describe('--at: the forms read', () => {
  it('reads days, times of day, the times list prints and snapshot stamps', () => {
    assert.deepEqual(parseAt('2026-11-30'), { kind: 'day', day: '20261130' });
    assert.deepEqual(parseAt('20240229'), { kind: 'day', day: '20240229' });
    assert.equal(at('2026-11-30 14:05'), '2026-11-30T14:05:00.000Z');
    assert.equal(at('2026-11-30  14:05:30'), '2026-11-30T14:05:30.000Z');
    assert.equal(at('2026-11-30T14:05:30'), '2026-11-30T14:05:30.000Z');
    assert.equal(at('2026-11-30T14:05:30.123Z'), '2026-11-30T14:05:30.123Z');
    assert.equal(at('2026-11-30T140500Z'), '2026-11-30T14:05:00.000Z');
    assert.equal(at('2026-11-30T14:05+01:00'), '2026-11-30T13:05:00.000Z');
    assert.equal(at('2026-11-30 14:05 -0230'), '2026-11-30T16:35:00.000Z');
  });
  it('reads a time without Z or offset in the site\'s timezone; stamps and Z stay UTC', () => {
    assert.equal(at('2026-11-30 14:05', 'Europe/Zurich'), '2026-11-30T13:05:00.000Z');
    assert.equal(at('2026-07-01 14:05', 'Europe/Zurich'), '2026-07-01T12:05:00.000Z');
    assert.equal(at('2026-11-30 14:05', 'America/New_York'), '2026-11-30T19:05:00.000Z');
    assert.equal(at('2026-11-30T140500Z', 'Europe/Zurich'), '2026-11-30T14:05:00.000Z');
    assert.equal(at('2026-11-30T14:05Z', 'Europe/Zurich'), '2026-11-30T14:05:00.000Z');
  });
  it('reads the hour skipped and the hour repeated by daylight saving time', () => {
    // 2026-03-29 02:30 does not exist in Zurich (02:00 -> 03:00): read with the winter offset.
    assert.equal(wallTimeToDate(Date.UTC(2026, 2, 29, 2, 30), 'Europe/Zurich').toISOString(), '2026-03-29T01:30:00.000Z');
    // 2026-10-25 02:30 happens twice: the first (summer time).
    assert.equal(wallTimeToDate(Date.UTC(2026, 9, 25, 2, 30), 'Europe/Zurich').toISOString(), '2026-10-25T00:30:00.000Z');
    assert.equal(wallTimeToDate(Date.UTC(2026, 9, 26, 2, 30), 'Europe/Zurich').toISOString(), '2026-10-26T01:30:00.000Z');
  });
});

describe('--at: dates and times that are not real are exit 2 with the accepted forms', () => {
  const cases: [string, RegExp][] = [
    ['2026-13-45', /month 13 is not 1-12/],
    ['2026-02-30', /February 2026 has days 1-28, not 30/],
    ['20250229', /February 2025 has days 1-28, not 29/],
    ['2026-04-31', /April 2026 has days 1-30, not 31/],
    ['2026-00-10', /month 0 is not 1-12/],
    ['2026-11-00', /November 2026 has days 1-30, not 0/],
    ['2026-11-30 25:00', /hour 25 is not 0-23/],
    ['2026-11-30T14:60', /minute 60 is not 0-59/],
    ['2026-11-30T14:05:61', /second 61 is not 0-59/],
    ['2026-11-30T250000Z', /hour 25 is not 0-23/],
    ['2026-02-30T030000Z', /February 2026 has days 1-28, not 30/],
    ['2026-11-30T14:05+25:00', /offset \+25:00/],
    ['yesterday', /is not a date or time tierback reads/],
    ['2026-11-30 14', /is not a date or time tierback reads/],
    ['2026-11-30T14:05:00Zjunk', /is not a date or time tierback reads/],
  ];
  for (const [v, re] of cases) {
    it(`refuses "${v}"`, () => {
      assert.throws(
        () => parseAt(v),
        (e: unknown) => e instanceof UsageError && e.exitCode === ExitCode.INVALID && re.test(e.message) && /2026-02-01 14:05/.test(e.hint ?? '') && /2026-02-01T140530Z/.test(e.hint ?? ''),
      );
    });
  }
});
