/**
 * The retention policy engine: pure, no file system. Given dated backups, a GFS policy, the
 * time "now" and the site's timezone, it says which backups to keep (with every rule that keeps
 * each one) and which to remove. Semantics, with worked examples: docs/retention.md.
 *
 * In short:
 * - `last N` keeps the N newest backups.
 * - `hourly|daily|weekly|monthly|quarterly|yearly N` keeps the newest backup of each of the N
 *   newest calendar buckets (in the site's timezone) that contain a backup. Buckets without a
 *   backup (failed or missing runs) are not counted, so missed runs never push history out.
 * - Rules count independently (like restic, unlike borg): a backup kept by `daily` still counts
 *   as the first `weekly` backup of its week. The kept set is the union of all rules.
 * - `within D` keeps every backup at most D older than now (D in s, m, h, d = 24h, w = 7d).
 * - The newest backup is always kept; backups dated after now are kept and counted by no rule.
 * - A policy without any rule keeps everything (it never means "delete all").
 */
import { parseDuration } from '../../base/duration.js';
import { UsageError } from '../../base/errors.js';
import type { Retention } from '../../model/inventory/schema.js';
import { formatOffset, isoWeek, localDate, localTime, checkTimeZone, type LocalTime } from './calendar.js';

export type Policy = Retention;

/** Calendar rules, from finest to coarsest. */
export const BUCKET_RULES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
export type BucketRule = (typeof BUCKET_RULES)[number];
export const ALL_RULES = ['last', 'within', ...BUCKET_RULES] as const;

export interface PolicyItem {
  id: string;
  at: Date;
}

export interface KeptItem {
  id: string;
  at: Date;
  /** Every rule that keeps it, e.g. ["newest", "last #1", "daily #1 (2025-12-31)", "weekly #1 (2026-W01)"]. */
  reasons: string[];
}

export interface RemovedItem {
  id: string;
  at: Date;
}

export interface PolicyResult {
  /** Kept backups, newest first. */
  keep: KeptItem[];
  /** Removed backups, newest first. */
  remove: RemovedItem[];
}

export interface ApplyOptions {
  now: Date;
  /** IANA timezone whose calendar defines the buckets (the site's defaults.timezone). */
  timeZone: string;
}

/** The bucket (key, and label for people) of an instant under one calendar rule. */
export function bucketOf(rule: BucketRule, t: LocalTime): { key: string; label: string } {
  const day = localDate(t);
  switch (rule) {
    case 'hourly': {
      // The offset is part of the key: the repeated hour when DST ends is two buckets, like the two real hours.
      const label = `${day}T${String(t.hour).padStart(2, '0')}${formatOffset(t.offsetMinutes)}`;
      return { key: label, label };
    }
    case 'daily':
      return { key: day, label: day };
    case 'weekly': {
      const w = isoWeek(t.year, t.month, t.day);
      const label = `${w.year}-W${String(w.week).padStart(2, '0')}`;
      return { key: label, label };
    }
    case 'monthly': {
      const label = day.slice(0, 7);
      return { key: label, label };
    }
    case 'quarterly': {
      const label = `${t.year}-Q${Math.floor((t.month - 1) / 3) + 1}`;
      return { key: label, label };
    }
    case 'yearly':
      return { key: String(t.year), label: String(t.year) };
  }
}

/** True when the policy has at least one rule that keeps something. */
export function hasRules(policy: Policy): boolean {
  if (policy.within !== undefined) return true;
  return (['last', ...BUCKET_RULES] as const).some((r) => (policy[r] ?? 0) > 0);
}

/** `daily 9, weekly 6, monthly 12, quarterly 24, yearly 120` (rules in a fixed order). */
export function describePolicy(policy: Policy): string {
  const parts: string[] = [];
  for (const r of ALL_RULES) {
    const v = policy[r];
    if (v !== undefined) parts.push(`${r} ${v}`);
  }
  return parts.length ? parts.join(', ') : '(no rules: keep everything)';
}

/** Applies a policy. Throws UsageError on duplicate ids, invalid dates, a bad timezone or a bad `within`. */
export function applyPolicy(items: readonly PolicyItem[], policy: Policy, opts: ApplyOptions): PolicyResult {
  checkTimeZone(opts.timeZone);
  const nowMs = opts.now.getTime();
  if (Number.isNaN(nowMs)) throw new UsageError('"now" is not a valid date', 'give --now as an ISO date such as 2026-01-01T00:00:00Z');
  const seen = new Set<string>();
  for (const it of items) {
    if (seen.has(it.id)) throw new UsageError(`backup "${it.id}" is listed twice`);
    seen.add(it.id);
    if (Number.isNaN(it.at.getTime())) throw new UsageError(`backup "${it.id}" has an invalid date`);
  }
  let withinMs: number | undefined;
  if (policy.within !== undefined) {
    withinMs = parseDuration(policy.within);
    if (withinMs === undefined) throw new UsageError(`within "${policy.within}" is not a duration`, 'write it like "36h", "7d" or "2w"');
  }

  // Newest first; ties broken by id (descending) so the result never depends on input order.
  const sorted = [...items].sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const reasons = new Map<string, string[]>();
  const add = (id: string, reason: string) => {
    const list = reasons.get(id);
    if (list) list.push(reason);
    else reasons.set(id, [reason]);
  };

  const future = sorted.filter((it) => it.at.getTime() > nowMs);
  const past = sorted.filter((it) => it.at.getTime() <= nowMs);
  for (const it of future) add(it.id, 'dated after now (clock skew?): never removed');

  if (!hasRules(policy)) {
    for (const it of past) add(it.id, 'policy has no rules: everything is kept');
  }
  const newest = past[0];
  if (newest) add(newest.id, 'newest');

  const last = policy.last ?? 0;
  past.slice(0, last).forEach((it, i) => add(it.id, `last #${i + 1}`));

  if (withinMs !== undefined) {
    for (const it of past) {
      if (nowMs - it.at.getTime() <= withinMs) add(it.id, `within ${policy.within}`);
      else break;
    }
  }

  const needed = BUCKET_RULES.filter((r) => (policy[r] ?? 0) > 0);
  if (needed.length > 0) {
    const locals = past.map((it) => localTime(it.at, opts.timeZone));
    for (const rule of needed) {
      const n = policy[rule]!;
      let count = 0;
      let lastKey: string | undefined;
      for (let i = 0; i < past.length; i++) {
        const b = bucketOf(rule, locals[i]!);
        if (b.key === lastKey) continue; // an older backup of a bucket already counted
        lastKey = b.key;
        count++;
        if (count > n) break;
        add(past[i]!.id, `${rule} #${count} (${b.label})`);
      }
    }
  }

  const keep: KeptItem[] = [];
  const remove: RemovedItem[] = [];
  for (const it of sorted) {
    const r = reasons.get(it.id);
    if (r) keep.push({ id: it.id, at: it.at, reasons: r });
    else remove.push({ id: it.id, at: it.at });
  }
  return { keep, remove };
}
