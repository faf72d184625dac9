import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calendarOf, classifyCycle, enabledCycles, expirationDays, s3Lifecycle, unsupportedForLifecycle } from '../../../../lib/tiers/offsite/cycle.js';
import type { OffsiteCycle } from '../../../../lib/model/convention.js';

const TZ = 'Europe/Zurich';
const noon = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d, 11, 0, 0));

/** Pushes every day from `from` for `days` days; returns the cycle of each. */
function daily(from: Date, days: number, enabled?: OffsiteCycle[], skip: (d: Date) => boolean = () => false): { date: string; cycle: OffsiteCycle }[] {
  const done: Date[] = [];
  const out: { date: string; cycle: OffsiteCycle }[] = [];
  for (let i = 0; i < days; i++) {
    const at = new Date(from.getTime() + i * 86_400_000);
    if (skip(at)) continue;
    out.push({ date: at.toISOString().slice(0, 10), cycle: classifyCycle(at, done, { timeZone: TZ, ...(enabled ? { enabled } : {}) }) });
    done.push(at);
  }
  return out;
}

describe('offsite cycles: classifyCycle', () => {
  it('pushed every day, reproduces the usual GFS calendar: 1 Jan yearly, 1 Apr/Jul/Oct quarterly, other 1sts monthly, Mondays weekly', () => {
    // Start on 31 Dec 2025 so 2026 has an earlier copy in 2025 only.
    const got = daily(noon(2025, 12, 31), 366);
    const of = (d: string) => got.find((g) => g.date === d)!.cycle;
    assert.equal(of('2026-01-01'), 'yearly');
    assert.equal(of('2026-04-01'), 'quarterly');
    assert.equal(of('2026-07-01'), 'quarterly');
    assert.equal(of('2026-10-01'), 'quarterly');
    assert.equal(of('2026-02-01'), 'monthly');
    assert.equal(of('2026-03-01'), 'monthly');
    assert.equal(of('2026-12-01'), 'monthly');
    assert.equal(of('2026-03-02'), 'weekly', 'Monday 2 March 2026');
    assert.equal(of('2026-03-03'), 'daily');
    assert.equal(of('2026-03-08'), 'daily', 'Sunday');
    // Every non-first day that is not a Monday is daily.
    assert.equal(got[0]!.cycle, 'yearly', 'the first copy ever');
    for (const g of got.slice(1)) {
      const d = new Date(`${g.date}T12:00:00Z`);
      if (d.getUTCDate() !== 1 && d.getUTCDay() !== 1) assert.equal(g.cycle, 'daily', g.date);
    }
    // A Monday that is also the 1st: the coarser cycle wins (1 June 2026 is a Monday).
    assert.equal(of('2026-06-01'), 'monthly');
  });

  it('a missed Monday makes Tuesday the weekly copy, a missed 1st makes the 2nd the monthly one', () => {
    const got = daily(noon(2026, 2, 20), 20, undefined, (d) => d.toISOString().startsWith('2026-03-02') || d.toISOString().startsWith('2026-03-01'));
    const of = (d: string) => got.find((g) => g.date === d)!.cycle;
    assert.equal(of('2026-03-03'), 'monthly', 'first copy of March');
    assert.equal(of('2026-03-09'), 'weekly');
    const got2 = daily(noon(2026, 3, 4), 10, undefined, (d) => d.toISOString().startsWith('2026-03-09'));
    assert.equal(got2.find((g) => g.date === '2026-03-10')!.cycle, 'weekly', 'Tuesday after a missed Monday');
  });

  it('only cycles the policy keeps are used; the first copy ever takes the coarsest', () => {
    assert.deepEqual(enabledCycles({ daily: 7, monthly: 3 }), ['daily', 'monthly']);
    assert.equal(classifyCycle(noon(2026, 3, 3), [], { timeZone: TZ, enabled: ['daily', 'monthly'] }), 'monthly');
    assert.equal(classifyCycle(noon(2026, 3, 9), [noon(2026, 3, 3)], { timeZone: TZ, enabled: ['daily', 'monthly'] }), 'daily', 'a Monday is not weekly when weekly is not kept');
    assert.equal(classifyCycle(noon(2026, 3, 3), [], { timeZone: TZ, enabled: ['daily'] }), 'daily');
  });

  it('uses the site\'s timezone: 23:30 UTC on 31 March is already 1 April in Zurich', () => {
    const at = new Date('2026-03-31T23:30:00Z');
    assert.deepEqual(calendarOf(at, TZ).month, 4);
    assert.equal(classifyCycle(at, [new Date('2026-03-31T10:00:00Z')], { timeZone: TZ }), 'quarterly');
    assert.equal(classifyCycle(at, [new Date('2026-03-31T10:00:00Z')], { timeZone: 'UTC' }), 'daily');
  });

  it('ISO weeks: 1 January 2027 (a Friday) is in week 53 of 2026', () => {
    const c = calendarOf(noon(2027, 1, 1), 'UTC');
    assert.deepEqual([c.isoYear, c.isoWeek], [2026, 53]);
  });
});

describe('offsite cycles: S3 lifecycle', () => {
  it('expires each kept cycle after count x period + 1 day', () => {
    assert.deepEqual(expirationDays({ daily: 9, weekly: 6, monthly: 12, quarterly: 24, yearly: 120 }), { daily: 10, weekly: 43, monthly: 373, quarterly: 2209, yearly: 43921 });
    assert.deepEqual(expirationDays({ weekly: 2 }), { daily: 2, weekly: 15 });
  });

  it('has one rule per cycle prefix under the bucket prefix', () => {
    const lc = s3Lifecycle({ daily: 7, yearly: 2 }, { prefix: '/tierback/site/', transitionDays: 9 });
    assert.deepEqual(lc.Rules.map((r) => r.Filter.Prefix), ['tierback/site/daily/', 'tierback/site/yearly/']);
    const y = lc.Rules[1]!;
    assert.equal(y.Expiration.Days, 733);
    assert.equal(y.NoncurrentVersionExpiration.NoncurrentDays, 733);
    assert.deepEqual(y.Transitions, [{ Days: 9, StorageClass: 'GLACIER' }]);
    assert.equal(lc.Rules[0]!.Transitions, undefined, 'daily copies are not moved to cold storage');
    assert.equal(y.AbortIncompleteMultipartUpload.DaysAfterInitiation, 7);
    assert.deepEqual(s3Lifecycle({ daily: 1 }).Rules[0]!.Filter, { Prefix: 'daily/' });
  });

  it('names the policy keys a lifecycle rule cannot express', () => {
    assert.deepEqual(unsupportedForLifecycle({ last: 3, daily: 7, within: '2d' }), ['last', 'within']);
  });
});
