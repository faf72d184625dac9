/**
 * `--at`: which point in time a restore (or drill) wants. Pure.
 *
 *   latest                         the newest backup (default)
 *   2026-02-01, 20260201           the newest backup of that day or before, the day in the site's timezone
 *   2026-02-01 14:05[:30]          the newest backup at or before that time of day, in the site's timezone
 *   2026-02-01T14:05[:30[.123]]    the same
 *   ...Z, ...+01:00                a time with an explicit offset (`list` prints UTC: 2026-02-01T14:05:30.123Z)
 *   2026-02-01T140530Z             a snapshot stamp (UTC), as snapshot folders and `list` name them
 *
 * Every field is checked: 2026-13-45, 2026-02-30 or 25:00 are refused (exit 2) with these forms.
 */
import { UsageError } from './errors.js';

export type AtSpec = { kind: 'latest' } | { kind: 'day'; day: string } | { kind: 'time'; at: Date };

export const AT_FORMS =
  'use latest, a day (2026-02-01), a time of day (2026-02-01 14:05, 2026-02-01T14:05:30; in the site\'s timezone unless it ends with Z or an offset like +01:00), the time list prints (2026-02-01T14:05:30.123Z) or a snapshot stamp (2026-02-01T140530Z)';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Why y-m-d h:mi:s is not a real moment, or undefined when it is. */
function unreal(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): string | undefined {
  if (mo < 1 || mo > 12) return `month ${mo} is not 1-12`;
  const days = daysIn(y, mo);
  if (d < 1 || d > days) return `${MONTHS[mo - 1]} ${y} has days 1-${days}, not ${d}`;
  if (h > 23) return `hour ${h} is not 0-23`;
  if (mi > 59) return `minute ${mi} is not 0-59`;
  if (s > 59) return `second ${s} is not 0-59`;
  return undefined;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at the instant `ms`, in ms (positive east of Greenwich). */
function zoneOffsetMs(ms: number, timeZone: string): number {
  let fmt = offsetFormats.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormats.set(timeZone, fmt);
  }
  const p = Object.fromEntries(fmt.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!);
  return wall - (ms - (ms % 1000));
}

/**
 * The instant a wall-clock time has in `timeZone`. In the hour skipped when clocks go forward the
 * time is read with the offset before the change (02:30 becomes 03:30 summer time); in the hour
 * repeated when they go back, the earlier of the two instants.
 */
export function wallTimeToDate(wallMs: number, timeZone: string): Date {
  if (timeZone === 'UTC') return new Date(wallMs);
  const before = zoneOffsetMs(wallMs - 86_400_000, timeZone);
  const candidates = [before, zoneOffsetMs(wallMs - before, timeZone)].map((off) => wallMs - off);
  const exact = candidates.filter((ms) => ms + zoneOffsetMs(ms, timeZone) === wallMs).sort((a, b) => a - b);
  return new Date(exact[0] ?? wallMs - before);
}

const DAY = /^(\d{4})-?(\d{2})-?(\d{2})$/;
const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z$/i;
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T|\s+)(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads `--at`. A time without Z or an offset is wall-clock time in `timeZone` (the site's
 * `defaults.timezone`, as days are); a stamp or a time ending in Z is UTC.
 */
export function parseAt(value: string | undefined, timeZone = 'UTC'): AtSpec {
  const v = (value ?? 'latest').trim();
  if (v === '' || v === 'latest') return { kind: 'latest' };
  const refuse = (why?: string) => new UsageError(`--at "${v}" is not ${why ? `a real date or time: ${why}` : 'a date or time tierback reads'}`, AT_FORMS);
  let m;
  if ((m = DAY.exec(v))) {
    const why = unreal(Number(m[1]), Number(m[2]), Number(m[3]));
    if (why) throw refuse(why);
    return { kind: 'day', day: `${m[1]}${m[2]}${m[3]}` };
  }
  if ((m = STAMP.exec(v))) {
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    const why = unreal(y, mo, d, h, mi, s);
    if (why) throw refuse(why);
    return { kind: 'time', at: new Date(Date.UTC(y, mo - 1, d, h, mi, s)) };
  }
  if ((m = TIME.exec(v))) {
    const [y, mo, d, h, mi] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
    const s = m[6] ? Number(m[6]) : 0;
    const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
    const why = unreal(y, mo, d, h, mi, s);
    if (why) throw refuse(why);
    const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    const zone = m[8]?.toUpperCase();
    if (zone === undefined) return { kind: 'time', at: wallTimeToDate(wall, timeZone) };
    if (zone === 'Z') return { kind: 'time', at: new Date(wall) };
    const off = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(off[2]) > 23 || Number(off[3]) > 59) throw refuse(`offset ${zone} is not between -23:59 and +23:59`);
    const offMs = (off[1] === '-' ? -1 : 1) * (Number(off[2]) * 60 + Number(off[3])) * 60_000;
    return { kind: 'time', at: new Date(wall - offMs) };
  }
  throw refuse();
}
