/**
 * GFS cycle of an object-storage copy, and the S3 lifecycle rules that expire each cycle's prefix.
 * Pure: no I/O. The rule (docs/offsite.md#cycles): a copy is filed under the COARSEST cycle the
 * retention policy keeps whose calendar period (in the site's timezone) has no earlier successful
 * copy of the same server to the same target; else `daily`. Pushed every day, that is exactly the
 * usual GFS calendar (1 January yearly, 1 April/July/October quarterly, other 1sts monthly, Mondays
 * weekly), and a missed Monday makes Tuesday's copy the weekly one instead of losing the week.
 */
import { OFFSITE_CYCLES, type OffsiteCycle } from '../../model/names.js';
import type { Retention } from '../../model/inventory/schema.js';

export interface CalendarKey {
  year: number;
  quarter: number;
  month: number;
  isoYear: number;
  isoWeek: number;
  day: number;
}

/** Calendar fields of `at` in `timeZone` (ISO weeks start on Monday). */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function calendarOf(at: Date, timeZone: string): CalendarKey {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, fmt);
  }
  const parts = fmt.formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const year = get('year');
  const month = get('month');
  const day = get('day');
  // ISO week of the local calendar date (computed on a UTC date with the same y/m/d).
  const d = new Date(Date.UTC(year, month - 1, day));
  const dow = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - dow);
  const isoYear = d.getUTCFullYear();
  const isoWeek = Math.ceil(((d.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, quarter: Math.floor((month - 1) / 3) + 1, month, isoYear, isoWeek, day };
}

function periodKey(cycle: OffsiteCycle, c: CalendarKey): string {
  switch (cycle) {
    case 'yearly':
      return `${c.year}`;
    case 'quarterly':
      return `${c.year}-q${c.quarter}`;
    case 'monthly':
      return `${c.year}-${c.month}`;
    case 'weekly':
      return `${c.isoYear}-w${c.isoWeek}`;
    case 'daily':
      return `${c.year}-${c.month}-${c.day}`;
  }
}

/** The cycles a policy keeps: `daily` always (it is the fallback), others when their count is > 0. */
export function enabledCycles(policy: Retention): OffsiteCycle[] {
  return OFFSITE_CYCLES.filter((c) => c === 'daily' || (policy[c] ?? 0) > 0);
}

/**
 * The cycle of a copy made at `at`, given the times of earlier SUCCESSFUL copies of the same server
 * to the same target. Only copies before `at` count.
 */
export function classifyCycle(at: Date, previous: readonly Date[], opts: { timeZone: string; enabled?: readonly OffsiteCycle[] }): OffsiteCycle {
  const enabled = opts.enabled ?? OFFSITE_CYCLES;
  const now = calendarOf(at, opts.timeZone);
  const earlier = previous.filter((p) => p.getTime() < at.getTime()).map((p) => calendarOf(p, opts.timeZone));
  for (const cycle of [...OFFSITE_CYCLES].reverse()) {
    if (cycle === 'daily' || !enabled.includes(cycle)) continue;
    const key = periodKey(cycle, now);
    if (!earlier.some((e) => periodKey(cycle, e) === key)) return cycle;
  }
  return 'daily';
}

/** Days one period of each cycle lasts at most (used to turn counts into ages). */
export const CYCLE_DAYS: Record<OffsiteCycle, number> = { daily: 1, weekly: 7, monthly: 31, quarterly: 92, yearly: 366 };

/**
 * Age in days after which a copy of each enabled cycle may go: `count × period + 1` (one day of
 * grace so the newest copy of a kept period is never expired before its successor exists).
 * `daily` without a count keeps one day (2 days). Cycles the policy does not keep get no entry.
 */
export function expirationDays(policy: Retention): Partial<Record<OffsiteCycle, number>> {
  const out: Partial<Record<OffsiteCycle, number>> = {};
  for (const c of enabledCycles(policy)) out[c] = Math.max(1, policy[c] ?? 1) * CYCLE_DAYS[c] + 1;
  return out;
}

export interface LifecycleOptions {
  /** Key prefix inside the bucket (the target's path after the bucket), without leading/trailing "/". */
  prefix?: string;
  /** Move non-daily copies to `storageClass` after this many days (e.g. 9 days, GLACIER). */
  transitionDays?: number;
  storageClass?: string;
  /** Abort incomplete multipart uploads after this many days (default 7). */
  abortAfterDays?: number;
}

export interface S3LifecycleRule {
  ID: string;
  Status: 'Enabled';
  Filter: { Prefix: string };
  Expiration: { Days: number };
  NoncurrentVersionExpiration: { NoncurrentDays: number };
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: number };
  Transitions?: { Days: number; StorageClass: string }[];
  NoncurrentVersionTransitions?: { NoncurrentDays: number; StorageClass: string }[];
}

export interface S3Lifecycle {
  Rules: S3LifecycleRule[];
}

/** Policy keys a lifecycle rule cannot express (they depend on counting objects, not on age). */
export function unsupportedForLifecycle(policy: Retention): string[] {
  return (['last', 'hourly', 'within'] as const).filter((k) => policy[k] !== undefined);
}

/** The S3 lifecycle configuration (`aws s3api put-bucket-lifecycle-configuration --lifecycle-configuration file://...`). */
export function s3Lifecycle(policy: Retention, opts: LifecycleOptions = {}): S3Lifecycle {
  const prefix = (opts.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const days = expirationDays(policy);
  const abort = opts.abortAfterDays ?? 7;
  const rules: S3LifecycleRule[] = [];
  for (const c of OFFSITE_CYCLES) {
    const d = days[c];
    if (d === undefined) continue;
    const rule: S3LifecycleRule = {
      ID: `tierback ${c} retention${prefix ? ` (${prefix})` : ''}`,
      Status: 'Enabled',
      Filter: { Prefix: `${prefix ? `${prefix}/` : ''}${c}/` },
      Expiration: { Days: d },
      NoncurrentVersionExpiration: { NoncurrentDays: d },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: abort },
    };
    if (opts.transitionDays !== undefined && c !== 'daily' && opts.transitionDays < d) {
      const cls = opts.storageClass ?? 'GLACIER';
      rule.Transitions = [{ Days: opts.transitionDays, StorageClass: cls }];
      rule.NoncurrentVersionTransitions = [{ NoncurrentDays: opts.transitionDays, StorageClass: cls }];
    }
    rules.push(rule);
  }
  return { Rules: rules };
}
