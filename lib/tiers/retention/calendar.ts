/**
 * Calendar arithmetic in an IANA timezone, for retention buckets. Pure; uses only Intl
 * (Node's ICU data), so DST transitions and leap days follow the tz database.
 */
import { UsageError } from '../../base/errors.js';

export interface LocalTime {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
  hour: number; // 0-23
  minute: number;
  second: number;
  /** Offset of local time from UTC in minutes at that instant (+60 for CET, +120 for CEST). */
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new UsageError(`unknown timezone "${timeZone}"`, 'set defaults.timezone to an IANA name such as "Europe/Zurich" or "UTC"');
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws UsageError unless `timeZone` is an IANA timezone known to this Node. */
export function checkTimeZone(timeZone: string): void {
  formatter(timeZone);
}

/** Wall-clock time of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const parts = formatter(timeZone).formatToParts(at);
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const year = n('year');
  const month = n('month');
  const day = n('day');
  const hour = n('hour') % 24;
  const minute = n('minute');
  const second = n('second');
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const whole = Math.floor(at.getTime() / 1000) * 1000;
  return { year, month, day, hour, minute, second, offsetMinutes: Math.round((wall - whole) / 60000) };
}

/** ISO 8601 week of a calendar date: weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  const dow = d.getUTCDay() || 7; // Monday=1 .. Sunday=7
  d.setUTCDate(d.getUTCDate() + 4 - dow); // the Thursday of the same week decides the year
  const isoYear = d.getUTCFullYear();
  const week = Math.floor((d.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 / 7) + 1;
  return { year: isoYear, week };
}

const p2 = (n: number) => String(n).padStart(2, '0');

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}

export function localDate(t: LocalTime): string {
  return `${String(t.year).padStart(4, '0')}-${p2(t.month)}-${p2(t.day)}`;
}

/** `2026-03-29T14:05:00+02:00`: the instant in the site's timezone, for people. */
export function formatLocal(at: Date, timeZone: string): string {
  const t = localTime(at, timeZone);
  return `${localDate(t)}T${p2(t.hour)}:${p2(t.minute)}:${p2(t.second)}${formatOffset(t.offsetMinutes)}`;
}
