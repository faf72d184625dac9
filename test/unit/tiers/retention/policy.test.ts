import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPolicy, describePolicy, type Policy, type PolicyItem } from '../../../../lib/tiers/retention/policy.js';
import { isoWeek, localTime } from '../../../../lib/tiers/retention/calendar.js';

const ZRH = 'Europe/Zurich';

/** One backup per local day at `hh:mm` (site time) from `from` to `to` inclusive (YYYY-MM-DD), except `skip`. */
function dailySeries(from: string, to: string, timeZone: string, hhmm = '04:00', skip: Set<string> = new Set()): PolicyItem[] {
  const out: PolicyItem[] = [];
  for (let d = new Date(`${from}T12:00:00Z`); d <= new Date(`${to}T12:00:00Z`); d = new Date(d.getTime() + 86_400_000)) {
    const day = d.toISOString().slice(0, 10);
    if (skip.has(day)) continue;
    out.push({ id: day, at: atLocal(`${day}T${hhmm}:00`, timeZone) });
  }
  return out;
}

/** The instant whose wall-clock time in `timeZone` is `wall` (YYYY-MM-DDTHH:MM:SS); searches offsets, earliest match. */
function atLocal(wall: string, timeZone: string): Date {
  const guess = Date.parse(`${wall}Z`);
  const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (let off = -14 * 60; off <= 14 * 60; off += 15) {
    const d = new Date(guess - off * 60_000);
    if (fmt.format(d).replace(' ', 'T') === wall) return d;
  }
  throw new Error(`no instant has wall time ${wall} in ${timeZone}`);
}

function kept(items: PolicyItem[], policy: Policy, now: string | Date, timeZone = ZRH): string[] {
  return applyPolicy(items, policy, { now: typeof now === 'string' ? new Date(now) : now, timeZone }).keep.map((k) => k.id).sort();
}

function reasonsOf(items: PolicyItem[], policy: Policy, now: Date, timeZone = ZRH): Map<string, string[]> {
  return new Map(applyPolicy(items, policy, { now, timeZone }).keep.map((k) => [k.id, k.reasons]));
}

describe('retention calendar', () => {
  const weeks: [string, string][] = [
    ['2020-12-31', '2020-W53'],
    ['2021-01-03', '2020-W53'],
    ['2021-01-04', '2021-W01'],
    ['2024-12-30', '2025-W01'],
    ['2025-12-28', '2025-W52'],
    ['2025-12-29', '2026-W01'],
    ['2026-01-01', '2026-W01'],
    ['2027-01-03', '2026-W53'],
    ['2024-02-29', '2024-W09'],
  ];
  for (const [day, want] of weeks) {
    it(`puts ${day} in ISO week ${want}`, () => {
      const [y, m, d] = day.split('-').map(Number) as [number, number, number];
      const w = isoWeek(y, m, d);
      assert.equal(`${w.year}-W${String(w.week).padStart(2, '0')}`, want);
    });
  }
  it('gives the wall time and offset of both 02:30 of the night DST ends in Zurich', () => {
    const a = localTime(new Date('2025-10-26T00:30:00Z'), ZRH);
    const b = localTime(new Date('2025-10-26T01:30:00Z'), ZRH);
    assert.deepEqual([a.hour, a.minute, a.offsetMinutes], [2, 30, 120]);
    assert.deepEqual([b.hour, b.minute, b.offsetMinutes], [2, 30, 60]);
  });
  it('knows Kathmandu is +05:45', () => assert.equal(localTime(new Date('2025-06-01T00:00:00Z'), 'Asia/Kathmandu').offsetMinutes, 345));
});

describe('retention policy: the remote policy of the example site over two years of daily backups', () => {
  // daily for 9 days, weekly for 40 days, monthly for a year, quarterly for 6 years, yearly for 120 years.
  const remotePolicy: Policy = { daily: 9, weekly: 6, monthly: 12, quarterly: 24, yearly: 120 };
  const items = dailySeries('2024-01-01', '2025-12-31', ZRH);
  const now = atLocal('2026-01-01T00:00:00', ZRH);

  it('keeps exactly the expected 27 backups', () => {
    const expected = [
      // daily 9
      '2025-12-23', '2025-12-24', '2025-12-25', '2025-12-26', '2025-12-27', '2025-12-28', '2025-12-29', '2025-12-30', '2025-12-31',
      // weekly 6: Sundays ending ISO weeks 2025-W48..W52 (2025-12-31 is the newest of 2026-W01)
      '2025-11-30', '2025-12-07', '2025-12-14', '2025-12-21',
      // monthly 12: month ends of 2025 (November and December already kept)
      '2025-01-31', '2025-02-28', '2025-03-31', '2025-04-30', '2025-05-31', '2025-06-30', '2025-07-31', '2025-08-31', '2025-09-30', '2025-10-31',
      // quarterly 24: only 8 quarters exist; those of 2024 are new
      '2024-03-31', '2024-06-30', '2024-09-30', '2024-12-31',
      // yearly 120: 2025-12-31 and 2024-12-31, both already kept
    ].sort();
    assert.deepEqual(kept(items, remotePolicy, now), expected);
    assert.equal(items.length, 731);
  });

  it('gives every rule that keeps a backup, numbered, with its bucket', () => {
    const r = reasonsOf(items, remotePolicy, now);
    assert.deepEqual(r.get('2025-12-31'), ['newest', 'daily #1 (2025-12-31)', 'weekly #1 (2026-W01)', 'monthly #1 (2025-12)', 'quarterly #1 (2025-Q4)', 'yearly #1 (2025)']);
    assert.deepEqual(r.get('2025-12-28'), ['daily #4 (2025-12-28)', 'weekly #2 (2025-W52)']);
    assert.deepEqual(r.get('2025-11-30'), ['weekly #6 (2025-W48)', 'monthly #2 (2025-11)']);
    assert.deepEqual(r.get('2024-12-31'), ['quarterly #5 (2024-Q4)', 'yearly #2 (2024)']);
    assert.deepEqual(r.get('2024-03-31'), ['quarterly #8 (2024-Q1)']);
  });

  it('does not move its keep-set when the nightly run fails for a week (missing days do not count)', () => {
    const missing = new Set(['2025-12-25', '2025-12-26', '2025-12-27', '2025-12-28', '2025-12-29', '2025-12-30', '2025-12-31']);
    const fewer = items.filter((i) => !missing.has(i.id));
    const k = kept(fewer, remotePolicy, atLocal('2026-01-08T00:00:00', ZRH));
    // The 9 newest days that have a backup reach back to 2025-12-16.
    for (const d of ['2025-12-16', '2025-12-17', '2025-12-24', '2025-12-14', '2025-12-07', '2025-11-30', '2025-11-23']) assert.ok(k.includes(d), d);
    assert.ok(!k.includes('2025-12-15'));
  });
});

describe('retention policy: table of small series', () => {
  interface Case {
    name: string;
    items: PolicyItem[];
    policy: Policy;
    now: Date;
    tz?: string;
    keep: string[];
  }
  const at = (id: string, iso: string): PolicyItem => ({ id, at: new Date(iso) });
  const cases: Case[] = [
    {
      name: 'daily counts only days that have a backup (irregular series with gaps)',
      items: ['01', '02', '05', '09', '10'].map((d) => at(d, `2025-01-${d}T03:00:00Z`)),
      policy: { daily: 3 },
      now: new Date('2025-02-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['05', '09', '10'],
    },
    {
      name: 'daily keeps the newest backup of each day when there are several',
      items: [at('a', '2025-01-01T01:00:00Z'), at('b', '2025-01-01T13:00:00Z'), at('c', '2025-01-02T01:00:00Z'), at('d', '2025-01-02T23:59:59Z')],
      policy: { daily: 2 },
      now: new Date('2025-01-03T00:00:00Z'),
      tz: 'UTC',
      keep: ['b', 'd'],
    },
    {
      name: 'the site timezone decides the day: 23:30 UTC is already tomorrow in Zurich',
      items: [at('late', '2025-01-31T23:30:00Z'), at('early', '2025-01-31T20:00:00Z'), at('feb', '2025-02-01T20:00:00Z')],
      policy: { monthly: 2 },
      now: new Date('2025-03-01T00:00:00Z'),
      tz: ZRH,
      keep: ['early', 'feb'],
    },
    {
      name: 'the same series in UTC puts 23:30 in January',
      items: [at('late', '2025-01-31T23:30:00Z'), at('early', '2025-01-31T20:00:00Z'), at('feb', '2025-02-01T20:00:00Z')],
      policy: { monthly: 2 },
      now: new Date('2025-03-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['feb', 'late'],
    },
    {
      name: 'a leap day is the newest backup of February',
      items: ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01'].map((d) => at(d, `${d}T10:00:00Z`)),
      policy: { monthly: 2 },
      now: new Date('2024-03-02T00:00:00Z'),
      tz: 'UTC',
      keep: ['2024-02-29', '2024-03-01'],
    },
    {
      name: 'month ends of different lengths (30, 31, 28 days) each end their month',
      items: ['2023-01-31', '2023-02-01', '2023-02-28', '2023-03-01', '2023-04-30', '2023-05-01'].map((d) => at(d, `${d}T10:00:00Z`)),
      policy: { monthly: 5 },
      now: new Date('2023-06-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['2023-01-31', '2023-02-28', '2023-03-01', '2023-04-30', '2023-05-01'],
    },
    {
      name: 'weekly uses ISO weeks across the new year (2020-W53 runs to Sunday 2021-01-03)',
      items: ['2020-12-28', '2020-12-31', '2021-01-03', '2021-01-04'].map((d) => at(d, `${d}T10:00:00Z`)),
      policy: { weekly: 2 },
      now: new Date('2021-01-05T00:00:00Z'),
      tz: 'UTC',
      keep: ['2021-01-03', '2021-01-04'],
    },
    {
      name: 'quarterly and yearly buckets',
      items: ['2023-03-31', '2023-04-01', '2023-12-31', '2024-01-01', '2024-06-30', '2024-07-01'].map((d) => at(d, `${d}T10:00:00Z`)),
      policy: { quarterly: 3, yearly: 2 },
      now: new Date('2024-08-01T00:00:00Z'),
      tz: 'UTC',
      // quarterly 3: 2024-Q3, 2024-Q2, 2024-Q1; yearly 2: 2024, 2023.
      keep: ['2023-12-31', '2024-01-01', '2024-06-30', '2024-07-01'],
    },
    {
      name: 'overlapping rules count independently: the newest backup is daily #1 and weekly #1',
      // Wed 2025-01-15 back to Sun 2025-01-05, daily; weekly 2 keeps Wed (W03) and Sun 01-12 (W02), not Sun 01-05.
      items: ['05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15'].map((d) => at(d, `2025-01-${d}T10:00:00Z`)),
      policy: { daily: 2, weekly: 2 },
      now: new Date('2025-01-16T00:00:00Z'),
      tz: 'UTC',
      keep: ['12', '14', '15'],
    },
    {
      name: 'last N keeps the N newest whatever their dates',
      items: [at('x', '2020-01-01T00:00:00Z'), at('y', '2020-01-01T00:00:01Z'), at('z', '2019-01-01T00:00:00Z')],
      policy: { last: 2 },
      now: new Date('2025-01-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['x', 'y'],
    },
    {
      name: 'within keeps everything not older than the duration (boundary included)',
      items: [at('edge', '2025-01-08T00:00:00Z'), at('old', '2025-01-07T23:59:59Z'), at('new', '2025-01-09T12:00:00Z')],
      policy: { within: '2d' },
      now: new Date('2025-01-10T00:00:00Z'),
      tz: 'UTC',
      keep: ['edge', 'new'],
    },
    {
      name: 'the newest backup is kept even when no rule reaches it',
      items: [at('only', '2020-01-01T00:00:00Z'), at('older', '2019-01-01T00:00:00Z')],
      policy: { within: '1d' },
      now: new Date('2025-01-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['only'],
    },
    {
      name: 'a policy with no rules keeps everything',
      items: [at('a', '2020-01-01T00:00:00Z'), at('b', '2019-01-01T00:00:00Z')],
      policy: {},
      now: new Date('2025-01-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['a', 'b'],
    },
    {
      name: 'zero counts are no rules',
      items: [at('a', '2020-01-01T00:00:00Z'), at('b', '2019-01-01T00:00:00Z')],
      policy: { daily: 0, last: 0 },
      now: new Date('2025-01-01T00:00:00Z'),
      tz: 'UTC',
      keep: ['a', 'b'],
    },
    {
      name: 'backups dated after now are kept and not counted',
      items: [at('future', '2025-01-05T00:00:00Z'), at('d3', '2025-01-03T10:00:00Z'), at('d2', '2025-01-02T10:00:00Z'), at('d1', '2025-01-01T10:00:00Z')],
      policy: { daily: 2 },
      now: new Date('2025-01-04T00:00:00Z'),
      tz: 'UTC',
      keep: ['d2', 'd3', 'future'],
    },
    {
      name: 'hourly: the hour repeated when DST ends (Zurich, 2025-10-26 02:xx) is two buckets',
      items: [at('cest-0230', '2025-10-26T00:30:00Z'), at('cet-0230', '2025-10-26T01:30:00Z'), at('cet-0330', '2025-10-26T02:30:00Z'), at('cest-0130', '2025-10-25T23:30:00Z')],
      policy: { hourly: 3 },
      now: new Date('2025-10-26T03:00:00Z'),
      tz: ZRH,
      keep: ['cest-0230', 'cet-0230', 'cet-0330'],
    },
    {
      name: 'daily: the 25-hour day DST ends is one day; its last backup is 23:30 local',
      items: Array.from({ length: 25 }, (_, h) => at(`h${h}`, new Date(Date.parse('2025-10-25T22:30:00Z') + h * 3_600_000).toISOString())).concat([
        at('next', '2025-10-26T23:30:00Z'),
      ]),
      policy: { daily: 2 },
      now: new Date('2025-10-28T00:00:00Z'),
      tz: ZRH,
      // 2025-10-25T22:30Z = 00:30 CEST on the 26th; h24 = 2025-10-26T22:30Z = 23:30 CET; 'next' = 00:30 on the 27th.
      keep: ['h24', 'next'],
    },
    {
      name: 'daily: the 23-hour day DST starts (Zurich, 2025-03-30) is one day',
      items: [at('mar29', '2025-03-29T22:30:00Z'), at('mar30-late', '2025-03-30T21:30:00Z'), at('mar31', '2025-03-30T22:30:00Z')],
      policy: { daily: 2 },
      now: new Date('2025-04-01T00:00:00Z'),
      tz: ZRH,
      // 03-29T22:30Z = 23:30 CET on the 29th; 03-30T21:30Z = 23:30 CEST on the 30th; 03-30T22:30Z = 00:30 CEST on the 31st.
      keep: ['mar30-late', 'mar31'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(kept(c.items, c.policy, c.now, c.tz ?? 'UTC'), [...c.keep].sort()));
  }
});

describe('retention policy: invariants over generated series', () => {
  // A small deterministic PRNG (mulberry32) so failures are reproducible.
  function rng(seed: number) {
    return () => {
      seed |= 0;
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const zones = ['UTC', ZRH, 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'];
  for (const tz of zones) {
    it(`daily/weekly/monthly/yearly keep the newest of the right number of local buckets (${tz}, 3 irregular years)`, () => {
      const rand = rng(tz.length * 7919);
      const items: PolicyItem[] = [];
      let t = Date.parse('2022-01-01T00:00:00Z');
      for (;;) {
        t += Math.floor(rand() * 40 * 3_600_000) + 60_000; // 1 minute to 40 hours apart: gaps, bursts, DST nights
        if (t > Date.parse('2025-01-01T00:00:00Z')) break;
        items.push({ id: `s${items.length}`, at: new Date(t) });
      }
      const now = new Date('2025-01-01T00:00:00Z');
      const policy: Policy = { daily: 30, weekly: 20, monthly: 18, yearly: 5 };
      const result = applyPolicy(items, policy, { now, timeZone: tz });
      // Independent bucket functions, from Intl's own formatting.
      const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
      const day = (d: Date) => fmt.format(d);
      const keyOf: Record<string, (d: Date) => string> = {
        daily: day,
        monthly: (d) => day(d).slice(0, 7),
        yearly: (d) => day(d).slice(0, 4),
        weekly: (d) => {
          const [y, m, dd] = day(d).split('-').map(Number) as [number, number, number];
          const w = isoWeek(y, m, dd);
          return `${w.year}-${String(w.week).padStart(2, '0')}`;
        },
      };
      for (const [rule, n] of Object.entries(policy) as [keyof typeof keyOf, number][]) {
        const newestOfBucket = new Map<string, PolicyItem>();
        for (const it of items) {
          const k = keyOf[rule]!(it.at);
          const prev = newestOfBucket.get(k);
          if (!prev || prev.at < it.at) newestOfBucket.set(k, it);
        }
        const expected = [...newestOfBucket.entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1)).slice(0, n).map(([, it]) => it.id).sort();
        const byRule = result.keep.filter((k) => k.reasons.some((r) => r.startsWith(`${rule} #`))).map((k) => k.id).sort();
        assert.deepEqual(byRule, expected, rule);
      }
      // Kept and removed partition the input; input order does not matter.
      assert.equal(result.keep.length + result.remove.length, items.length);
      const shuffled = [...items].sort(() => rand() - 0.5);
      assert.deepEqual(applyPolicy(shuffled, policy, { now, timeZone: tz }), result);
    });
  }
});

describe('retention policy: bad input', () => {
  const now = new Date('2025-01-01T00:00:00Z');
  it('names an unknown timezone and says what to do', () => {
    assert.throws(() => applyPolicy([], { daily: 1 }, { now, timeZone: 'Europe/Zurch' }), /unknown timezone "Europe\/Zurch"/);
  });
  it('refuses duplicate ids', () => {
    const at = new Date('2024-01-01T00:00:00Z');
    assert.throws(() => applyPolicy([{ id: 'a', at }, { id: 'a', at }], { daily: 1 }, { now, timeZone: 'UTC' }), /listed twice/);
  });
  it('refuses an invalid date', () => assert.throws(() => applyPolicy([{ id: 'a', at: new Date('x') }], { daily: 1 }, { now, timeZone: 'UTC' }), /invalid date/));
  it('describes a policy in a fixed order', () => assert.equal(describePolicy({ yearly: 2, daily: 9, within: '2d', last: 1 }), 'last 1, within 2d, daily 9, yearly 2'));
});
