/**
 * Job start times that fit before the pull: the app jobs of one server that use the default
 * fixed-time schedule are laid out one after another from that time, each taking its expected
 * duration, so they end before the first pull of the server (minus `schedules.pull_margin`).
 * When one line of jobs does not fit, up to `schedules.job_lanes` run side by side. Starts never
 * pass a whole day after the first one (no wrap into the next night's jobs); what still does not
 * fit is reported with how late it ends, never silently moved.
 *
 * Pure: durations come in as data (the caller reads them from history where it can see them).
 */
import { parseDuration } from '../../base/duration.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import type { Schedules } from '../../model/inventory/schema.js';

const DAY = 24 * 60;

/** Minutes after midnight of a fixed-time schedule ("30 1 * * *" -> 90), else undefined. */
export function fixedMinute(expr: string): number | undefined {
  // A time on some days only ("0 2 * * 0") still starts at that time on the days it runs.
  const [m, h] = expr.trim().split(/\s+/);
  if (!/^\d+$/.test(m ?? '') || !/^\d+$/.test(h ?? '')) return undefined;
  return Number(h) * 60 + Number(m);
}

/** "03:05" for a minute of the day (any number of whole days added is dropped). */
export function clockOf(minute: number): string {
  const m = ((minute % DAY) + DAY) % DAY;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export type DurationSource = 'inventory' | 'history' | 'estimate';

export interface JobSlot {
  app: string;
  /** Minutes after the default schedule's time (0 for the first job); 0 for explicit schedules. */
  offset: number;
  /** Minute of the day it starts (may exceed 1440 when the window crosses midnight). */
  start: number;
  durationMin: number;
  durationSource: DurationSource;
  lane: number;
  /** The app keeps its own `schedule:` (not laid out, only checked). */
  explicit: boolean;
}

export interface LateJob {
  app: string;
  /** Where its start comes from: "apps[3].schedule" or "defaults.schedule". */
  source: string;
  endsAt: string;
  pullAt: string;
  backupServer: string;
  lateMin: number;
}

export interface ServerLayout {
  server: string;
  /** The first pull of this server's local tier, when it has a fixed time. */
  pull?: { minute: number; backupServer: string } | undefined;
  /** Minute of the day the default-schedule jobs start from, when that is a fixed time. */
  base?: number | undefined;
  lanes: number;
  slots: Map<string, JobSlot>;
  late: LateJob[];
}

export interface FitSettings {
  estimateMin: number;
  marginMin: number;
  maxLanes: number;
}

export function fitSettings(cfg: Schedules): FitSettings {
  const min = (d: string, fallback: number) => Math.max(1, Math.round((parseDuration(d) ?? fallback * 60_000) / 60_000));
  return { estimateMin: min(cfg.stagger, 5), marginMin: Math.max(0, Math.round((parseDuration(cfg.pull_margin) ?? 600_000) / 60_000)), maxLanes: cfg.job_lanes };
}

/** Expected minutes of an app's job: inventory `duration:`, else history (seconds), else the estimate. */
function expected(app: ResolvedApp, durations: ReadonlyMap<string, number>, s: FitSettings): { min: number; source: DurationSource } {
  if (app.duration !== undefined) return { min: Math.max(1, Math.ceil(app.duration / 60_000)), source: 'inventory' };
  const seen = durations.get(app.name);
  if (seen !== undefined && Number.isFinite(seen)) return { min: Math.max(1, Math.ceil(seen / 60)), source: 'history' };
  return { min: s.estimateMin, source: 'estimate' };
}

/** The earliest fixed-time pull of `server` by any backup server, as a minute of the day. */
export function firstPull(site: Site, server: string): { minute: number; backupServer: string } | undefined {
  let best: { minute: number; backupServer: string } | undefined;
  for (const b of site.backupServers) {
    if (!b.pulls.some((p) => p.server === server)) continue;
    const m = fixedMinute(b.schedule);
    if (m !== undefined && (!best || m < best.minute)) best = { minute: m, backupServer: b.server };
  }
  return best;
}

/** Places `durations` on `lanes` lines in order, each on the line that frees first; returns starts, lanes used and the end. */
function place(durations: readonly number[], lanes: number): { starts: number[]; lane: number[]; end: number } {
  const free = new Array<number>(lanes).fill(0);
  const starts: number[] = [];
  const lane: number[] = [];
  for (const d of durations) {
    let k = 0;
    for (let i = 1; i < lanes; i++) if (free[i]! < free[k]!) k = i;
    starts.push(free[k]!);
    lane.push(k);
    free[k] = free[k]! + d;
  }
  return { starts, lane, end: Math.max(0, ...free) };
}

/**
 * The layout of every active app job of `server`. `durations` maps app names to seconds
 * (median of recent runs); apps without one count `schedules.stagger`.
 */
export function layoutServerJobs(
  site: Site,
  server: string,
  cfg: Schedules,
  durations: ReadonlyMap<string, number> = new Map(),
  ofServer: readonly ResolvedApp[] = site.apps.filter((a) => a.server === server),
): ServerLayout {
  const s = fitSettings(cfg);
  const apps = ofServer.filter((a) => a.status === 'active');
  const byName = new Map(apps.map((a) => [a.name, a]));
  const explicitOf = (a: ResolvedApp) => site.inventory.apps[a.index]?.schedule !== undefined;
  const laidOut = apps.filter((a) => !explicitOf(a) && fixedMinute(a.schedule) !== undefined);
  const pull = firstPull(site, server);
  const base = laidOut.length > 0 ? fixedMinute(laidOut[0]!.schedule) : undefined;
  const slots = new Map<string, JobSlot>();
  let lanes = 1;
  if (base !== undefined) {
    const exp = laidOut.map((a) => expected(a, durations, s));
    // The window ends at the first pull after the jobs' time (the next morning when the pull's clock time is earlier).
    const deadline = pull ? (pull.minute > base ? pull.minute : pull.minute + DAY) - s.marginMin : undefined;
    const window = deadline !== undefined ? Math.max(1, deadline - base) : Infinity;
    let placed = place(exp.map((e) => e.min), 1);
    while (placed.end > window && lanes < s.maxLanes) placed = place(exp.map((e) => e.min), ++lanes);
    laidOut.forEach((a, i) => {
      // Never past a whole day after the first start: the next night's jobs start there.
      const offset = Math.min(placed.starts[i]!, DAY - 1);
      slots.set(a.name, { app: a.name, offset, start: base + offset, durationMin: exp[i]!.min, durationSource: exp[i]!.source, lane: placed.lane[i]!, explicit: false });
    });
  }
  for (const a of apps) {
    if (slots.has(a.name)) continue;
    const m = fixedMinute(a.schedule);
    if (m === undefined) continue; // hourly, stepped...: nothing to check against one pull
    const e = expected(a, durations, s);
    slots.set(a.name, { app: a.name, offset: 0, start: m, durationMin: e.min, durationSource: e.source, lane: 0, explicit: true });
  }
  const late: LateJob[] = [];
  if (pull) {
    for (const slot of slots.values()) {
      const app = byName.get(slot.app)!;
      // The pull meant to carry the run: for laid-out jobs the first after the jobs' time (a job
      // pushed past it is late, not carried by a pull a day later); for explicit ones the first after its start.
      const from = slot.explicit ? slot.start : base!;
      const day0 = from - (from % DAY);
      const pullAbs = day0 + pull.minute + (pull.minute > from % DAY ? 0 : DAY);
      const end = slot.start + slot.durationMin;
      if (end > pullAbs) {
        late.push({
          app: app.name,
          source: slot.explicit ? `apps[${app.index}].schedule` : 'defaults.schedule',
          endsAt: clockOf(end),
          pullAt: clockOf(pull.minute),
          backupServer: pull.backupServer,
          lateMin: end - pullAbs,
        });
      }
    }
  }
  return { server, pull, base, lanes, slots, late };
}

/** One line per late job, for `schedule --check` and `inventory check`. */
export function describeLate(l: LateJob, slot: JobSlot | undefined): string {
  const how = slot ? ` (${slot.durationMin} min, ${slot.durationSource === 'history' ? 'from its history' : slot.durationSource === 'inventory' ? 'apps[].duration' : 'estimated: no history seen here'})` : '';
  return `app ${l.app}: expected to end at ${l.endsAt}${how}, ${l.lateMin} min after the pull at ${l.pullAt} by ${l.backupServer} [${l.source}]`;
}

/**
 * For `inventory check`: every job of the site whose laid-out schedule ends after its server's
 * first pull, from apps[].duration or the estimate (no history is read: the check stays pure).
 */
export function lateJobWarnings(site: Site, cfg: Schedules): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const byServer = new Map<string, ResolvedApp[]>();
  for (const a of site.apps) {
    const list = byServer.get(a.server);
    if (list) list.push(a);
    else byServer.set(a.server, [a]);
  }
  for (const [server, apps] of byServer) {
    const layout = layoutServerJobs(site, server, cfg, new Map(), apps);
    const byName = new Map(apps.map((a) => [a.name, a]));
    for (const l of layout.late) {
      const app = byName.get(l.app)!;
      out.push({ path: `apps[${app.index}]`, message: `${describeLate(l, layout.slots.get(l.app))}; see \`tierback schedule ${server} --check\`` });
    }
  }
  return out;
}
