/**
 * Status of every app on every tier this machine sees, from the history files alone:
 * last success, age, files, MB, change since the previous success, and a state
 * (OK, STALE, SHRUNK, OVERDUE, FAILED, MISSING). Reads only the newest history files of each app,
 * so it stays fast with years of history. Corrupt history lines are reported, never fatal.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as C from '../../model/layout.js';
import * as N from '../../model/names.js';
import { formatDuration, parseDuration } from '../../base/duration.js';
import { dayOf, type HistoryProblem, type Run } from '../../model/history.js';
import { findApp, type ResolvedApp, type ResolvedBackupServer, type Site } from '../../model/inventory/model.js';
import { isLocked } from '../../base/lock.js';
import { overdueDrive, type OverdueDrive } from '../../tiers/offsite/overdue.js';
import { rooted, scanMachine, type MachineOptions, type MachineView } from '../../model/machine.js';
import { localTreeProblem } from '../../model/treecheck.js';
import { evaluate, type RunFacts } from './evaluate.js';
import { MovedCopies } from './moved.js';
import { collectFacts, Listings, SharedReads } from './reads.js';

export { CheckCode, checkResult, type CheckCodeValue } from './check.js';
export { evaluate, type Evaluation, type RunFacts, type Thresholds } from './evaluate.js';
import { runningRule } from '../../model/runstate.js';
import { runningRuns, type RunningRun } from './running.js';
export { runningRuns } from './running.js';
import { snapshotLocalRow } from './snapshot-local.js';
import { endOf, isSuccess, rowBase, sizes, summarize } from './row-parts.js';

export type AppState = 'OK' | 'STALE' | 'FAILED' | 'MISSING' | 'SHRUNK' | 'OVERDUE';
export const STATES: readonly AppState[] = ['OK', 'STALE', 'SHRUNK', 'OVERDUE', 'FAILED', 'MISSING'];
export type TierFilter = 'local' | 'remote' | 'offsite' | 'all';

export interface RunSummary {
  run: string;
  status: string;
  start: string;
  end?: string | undefined;
  error?: string | undefined;
}

export interface StatusRow {
  app: string;
  tier: 'local' | 'remote' | 'offsite';
  server: string;
  vm: string;
  relpath: string;
  /** Backup server holding the remote tier (remote rows), or making the offsite copies (offsite rows). */
  backupServer?: string | undefined;
  /** Offsite rows: "usb" (any drive) or the name of an rclone target. */
  target?: string | undefined;
  /** The newest restore drill of the app on this tier (`tierback verify`), if any. */
  drill?: { status: string; at: string; error?: string } | undefined;
  state: AppState;
  /** Why the state is what it is, in words. */
  reason: string;
  /** End of the last success (for remote rows: of the last successful pull that carried the app). */
  lastSuccess?: string | undefined;
  ageS?: number | undefined;
  files?: number | undefined;
  mb?: number | undefined;
  bytes?: number | undefined;
  durationS?: number | undefined;
  /** Change since the previous success. */
  deltaFiles?: number | undefined;
  deltaMb?: number | undefined;
  deltaPct?: number | undefined;
  lastRun?: RunSummary | undefined;
  /** A run of this row is in progress now (local: the app's job; remote: a pull of its server; offsite: a copy to the target); lib/model/runstate.ts decides. */
  running: boolean;
  /** Start of the run in progress, when `running`. */
  runningSince?: string | undefined;
  /** Start of a restore drill of the app in progress on this tier, if any. */
  drillRunningSince?: string | undefined;
  paused: boolean;
  staleAfterS: number;
  shrinkThreshold: number;
  /** Site view (lib/features/siteview): a local row read from this backup server's snapshot, and when that pull ended. */
  seenBy?: string | undefined;
  seenAt?: string | undefined;
  /** Site view: a row about a backup server itself, or about a server no backup server pulls (`app` is then a label). */
  subject?: 'backup-server' | 'unpulled' | undefined;
}

export interface StatusReport {
  site: string;
  generatedAt: string;
  root: string;
  identity: MachineView['identity'];
  rows: StatusRow[];
  /** The runs in progress behind the rows (jobs, pulls, offsite copies, drills), once each. */
  running: RunningRun[];
  problems: HistoryProblem[];
  counts: Record<AppState, number>;
}

export interface StatusOptions extends MachineOptions {
  tier?: TierFilter;
  /** App names (default: every active or paused app). */
  apps?: readonly string[];
  now?: Date;
  /** Called with each row as it is made (the site feed streams them); with `discardRows`, rows are not kept in the report. */
  onRow?: (row: StatusRow) => void;
  discardRows?: boolean;
  /** Also a local row per app pulled here, from the job history in the newest snapshot (the site feed). */
  snapshotLocal?: boolean;
}

async function localRow(app: ResolvedApp, root: string, now: Date, lists: Listings, problems: HistoryProblem[]): Promise<StatusRow> {
  // A symlinked local/<vm> or _history: jobs refuse it, and its history is not the app's.
  const unsafe = localTreeProblem(rooted(root, app.partition), app.vm);
  if (unsafe) return { ...rowBase(app, 'local'), state: 'FAILED', reason: unsafe, running: false };
  const dir = rooted(root, C.jobHistoryDir(app.partition, app.vm));
  const files = lists.newestFirst(dir, app.name);
  const live = existsSync(dir) ? await isLocked(rooted(root, C.lockPath(C.localAppDir(app.partition, app.vm, app.relpath)))) : false;
  // With the app's lock held by a live process, a recent start line is the run in progress.
  const facts = await collectFacts(files, (r) => r.kind === 'job' && r.name === app.name, runningRule({ now, lockAlive: live }), problems);
  const running = facts.last?.status === 'running';
  const ev = evaluate(facts, facts.lastSuccess ? endOf(facts.lastSuccess) : undefined, now, app);
  const at = facts.lastSuccess ? endOf(facts.lastSuccess) : undefined;
  return {
    ...rowBase(app, 'local'),
    ...ev,
    ...(at ? { lastSuccess: at.toISOString(), ageS: Math.round((now.getTime() - at.getTime()) / 1000) } : {}),
    ...sizes(facts.lastSuccess),
    lastRun: summarize(facts.lastFinished ?? facts.last),
    running,
    ...(running ? { runningSince: facts.last!.start.toISOString() } : {}),
  };
}

type SeenJobs = (jobs: RunFacts, pullAt: Date | undefined) => void;

async function remoteRow(app: ResolvedApp, b: ResolvedBackupServer, root: string, now: Date, lists: Listings, problems: HistoryProblem[], shared?: SharedReads, seen?: SeenJobs): Promise<StatusRow> {
  const jobDir = rooted(root, C.remoteJobHistoryDir(b.partition, app.server, app.vm));
  const pullDir = rooted(root, C.serverHistoryDir(b.partition));
  // Job runs still running when the pull copied them are simply not finished yet.
  const jobs = await collectFacts(lists.newestFirst(jobDir, app.name), (r) => r.kind === 'job' && r.name === app.name && r.status !== 'running', () => true, problems);
  const pullName = N.pullHistoryName(app.server);
  const pulls = await collectFacts(lists.newestFirst(pullDir, pullName), (r) => r.kind === 'pull', runningRule({ now }), problems, shared);
  const pulling = pulls.last?.status === 'running' ? pulls.last : undefined;
  const base = rowBase(app, 'remote', b.server);
  const pullAt = pulls.lastSuccess ? endOf(pulls.lastSuccess) : undefined;
  seen?.(jobs, pullAt);
  const common = {
    ...base,
    ...sizes(jobs.lastSuccess),
    ...(jobs.lastSuccess?.durationS !== undefined ? { durationS: jobs.lastSuccess.durationS } : {}),
    ...(pullAt ? { lastSuccess: pullAt.toISOString(), ageS: Math.round((now.getTime() - pullAt.getTime()) / 1000) } : {}),
    lastRun: summarize(pulls.lastFinished ?? pulls.last),
    running: pulling !== undefined,
    ...(pulling ? { runningSince: pulling.start.toISOString() } : {}),
  };
  if (!pulls.lastFinished) return { ...common, state: 'MISSING', reason: pulling ? `the first pull of ${app.server} by ${b.server} is running` : `${b.server} has never pulled ${app.server}` };
  if (!pulls.lastSuccess) return { ...common, state: 'FAILED', reason: `no pull of ${app.server} by ${b.server} has succeeded; last: ${pulls.lastFinished.error ?? pulls.lastFinished.status}` };
  if (!jobs.lastSuccess) return { ...common, state: 'MISSING', reason: `the newest snapshot of ${app.server} on ${b.server} holds no successful backup of ${app.name}` };
  if (pulls.lastFinished !== pulls.lastSuccess && pulls.lastFinished.status === 'failed') {
    return { ...common, ...evaluate(jobs, pullAt, now, app), state: 'FAILED', reason: `last pull of ${app.server} failed: ${pulls.lastFinished.error ?? 'no error recorded'}` };
  }
  const ev = evaluate(jobs, pullAt, now, app);
  // The pull kept the previous snapshot's copy of the app (its job replaced it during every copy,
  // docs/remote.md): that copy is older than the job history it carried says.
  if (ev.state === 'OK' && (pulls.lastSuccess.extra?.['kept_apps'] ?? '').split(',').includes(app.name)) {
    return { ...common, ...ev, state: 'STALE', reason: `the last pull of ${app.server} kept the previous snapshot's copy: the job replaced the app while it was copied` };
  }
  if (ev.state === 'OK' || ev.state === 'SHRUNK') {
    // The pull is fresh, but is what it carried fresh? A pull of a stale local backup is stale too.
    const carriedAge = pullAt!.getTime() - endOf(jobs.lastSuccess).getTime();
    if (carriedAge > app.staleAfterMs) {
      return { ...common, ...ev, state: 'STALE', reason: `the last pull carried a backup already ${formatDuration(carriedAge)} old` };
    }
  }
  return { ...common, ...ev };
}

/**
 * The newest finished restore drill (`tierback verify`, kind=verify) of an app in a history folder,
 * among the last DRILL_DAYS days (drills are weekly by default): probed by file name, so status
 * never lists a history folder for them.
 */
async function drillFacts(dir: string, app: ResolvedApp, lists: Listings, days: readonly string[], problems: HistoryProblem[], now: Date, listed = false): Promise<RunFacts> {
  const name = N.drillHistoryName(app.name);
  return collectFacts(lists.probe(dir, name, days, listed), (r) => r.kind === 'verify' && r.name === name, runningRule({ now }), problems);
}

/** A failing restore drill turns the row red: the backup exists but does not restore. */
function withDrill(row: StatusRow, drill: RunFacts): StatusRow {
  const last = drill.lastFinished;
  const drilling = drill.last?.status === 'running' ? { drillRunningSince: drill.last.start.toISOString() } : {};
  if (!last) return { ...row, ...drilling };
  const out: StatusRow = { ...row, ...drilling, drill: { status: last.status, at: (last.end ?? last.start).toISOString(), ...(last.error ? { error: last.error } : {}) } };
  if (last.status === 'failed' && row.state !== 'MISSING') {
    return { ...out, state: 'FAILED', reason: `restore drill failed: ${last.error ?? 'no error recorded'}` };
  }
  return out;
}

/** How far back status looks for an app's newest restore drill (weekly by default, plus margin). */
export const DRILL_DAYS = 9;

/** An offsite target as status sees it: USB drives together, or one rclone target. */
interface OffsiteGroup {
  target: string;
  /** History names of the group (every drive's `offsite-usb-<label>`, or `offsite-<name>`). */
  names: string[];
  staleAfterMs: number;
  /** USB: the drive in service, when overdue to be swapped. */
  overdue?: OverdueDrive | undefined;
}

/** The offsite groups of a backup server: configured rclone targets, and USB drives once one was written. */
async function offsiteGroups(site: Site, b: ResolvedBackupServer, root: string, lists: Listings, now: Date): Promise<OffsiteGroup[]> {
  const off = site.inventory.offsite;
  if (!off) return [];
  const swapMs = parseDuration(off.swap_after) ?? 7 * 86_400_000;
  const names = [...(await lists.get(rooted(root, C.serverHistoryDir(b.partition)))).keys()];
  const usb = names.filter((n) => n.startsWith('offsite-usb-'));
  const groups: OffsiteGroup[] = off.targets.map((t) => ({ target: t.name, names: [N.offsiteHistoryName(t.name)], staleAfterMs: 0 }));
  // A drive in service may be away for a whole swap period: its copy may be that much older.
  if (usb.length) groups.push({ target: 'usb', names: usb, staleAfterMs: swapMs, overdue: await overdueDrive(site, b, root, now) });
  return groups;
}

async function* filesNewestFirst(lists: Listings, dir: string, names: readonly string[]): AsyncGenerator<string> {
  const listing = await lists.get(dir);
  const files = names.flatMap((name) => (listing.get(name) ?? []).map((day) => ({ name, day }))).sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0));
  for (const f of files) yield C.historyFilePath(dir, f.name, f.day);
}

/**
 * An app's offsite row: as fresh as the newest successful offsite copy of its server to that
 * target (sizes are the copy's, per server, so no SHRUNK judgement here).
 */
async function offsiteRow(app: ResolvedApp, b: ResolvedBackupServer, g: OffsiteGroup, root: string, now: Date, lists: Listings, problems: HistoryProblem[], shared?: SharedReads): Promise<StatusRow> {
  const dir = rooted(root, C.serverHistoryDir(b.partition));
  const facts = await collectFacts(filesNewestFirst(lists, dir, g.names), (r) => r.kind === 'offsite' && r.extra?.['server'] === app.server, runningRule({ now }), problems, shared);
  const copying = facts.last?.status === 'running' ? facts.last : undefined;
  const at = facts.lastSuccess ? endOf(facts.lastSuccess) : undefined;
  const staleAfterMs = app.staleAfterMs + g.staleAfterMs;
  let ev = evaluate(facts, at, now, { staleAfterMs, shrinkThreshold: 100 });
  // A drive kept in service past swap_after is a copy that is not offsite: WARNING, like STALE.
  if (g.overdue && ev.state === 'OK') ev = { state: 'OVERDUE', reason: g.overdue.reason };
  return {
    ...rowBase(app, 'offsite', b.server),
    target: g.target,
    state: ev.state,
    reason: ev.state === 'MISSING' ? `no offsite copy of ${app.server} to ${g.target} yet` : ev.reason,
    ...(at ? { lastSuccess: at.toISOString(), ageS: Math.round((now.getTime() - at.getTime()) / 1000) } : {}),
    lastRun: summarize(facts.lastFinished ?? facts.last),
    running: copying !== undefined,
    ...(copying ? { runningSince: copying.start.toISOString() } : {}),
    staleAfterS: Math.round(staleAfterMs / 1000),
  };
}

/** The status of every app (or of `opts.apps`) on every tier this machine sees. */
export async function siteStatus(site: Site, opts: StatusOptions = {}): Promise<StatusReport> {
  const now = opts.now ?? new Date();
  const tier = opts.tier ?? 'all';
  const view = await scanMachine(site, opts);
  const apps = opts.apps && opts.apps.length ? opts.apps.map((n) => findApp(site, n)) : site.apps.filter((a) => a.status !== 'retired');
  // The days of the longest stale window (+2), newest first, in the site's timezone.
  const maxStale = Math.max(26 * 3_600_000, ...apps.map((a) => a.staleAfterMs));
  const recent: string[] = [];
  for (let t = now.getTime() + 86_400_000; t >= now.getTime() - maxStale - 2 * 86_400_000; t -= 3_600_000 * 6) {
    const d = dayOf(new Date(t), site.timezone);
    if (!recent.includes(d)) recent.push(d);
  }
  const lists = new Listings(recent);
  const drillDays: string[] = [];
  for (let t = now.getTime() + 86_400_000; t >= now.getTime() - DRILL_DAYS * 86_400_000; t -= 3_600_000 * 6) {
    const d = dayOf(new Date(t), site.timezone);
    if (!drillDays.includes(d)) drillDays.push(d);
  }
  const problems: HistoryProblem[] = [];
  const rows: StatusRow[] = [];
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<AppState, number>;
  const push = (row: StatusRow) => {
    counts[row.state]++;
    opts.onRow?.(row);
    if (!opts.discardRows) rows.push(row);
  };
  const localServers = new Set(view.localServers.map((s) => s.fqdn));
  const moved = new MovedCopies(view.root, recent);
  const offsiteOf = new Map<string, Promise<OffsiteGroup[]>>();
  const shared = new SharedReads();
  for (const app of apps) {
    if ((tier === 'all' || tier === 'local') && localServers.has(app.server)) {
      push(withDrill(await localRow(app, view.root, now, lists, problems), await drillFacts(rooted(view.root, C.jobHistoryDir(app.partition, app.vm)), app, lists, drillDays, problems, now)));
    }
    if (tier === 'all' || tier === 'remote') {
      for (const b of view.backupServers) {
        if (!b.pulls.some((p) => p.server === app.server)) continue;
        // Snapshot drills record in the backup server's history under the app's name.
        const drill = await drillFacts(rooted(view.root, C.serverHistoryDir(b.partition)), app, lists, drillDays, problems, now, true);
        const seen: SeenJobs | undefined = opts.snapshotLocal ? (jobs, at) => push(snapshotLocalRow(app, b, jobs, at, now)) : undefined;
        let row = await remoteRow(app, b, view.root, now, lists, problems, shared, seen);
        // A moved app not yet pulled at its new place: its last good copy at the old place counts.
        if (row.state === 'MISSING') row = (await moved.row(app, b, row, now, problems)) ?? row;
        push(withDrill(row, drill));
      }
    }
    if (tier === 'all' || tier === 'offsite') {
      for (const b of view.backupServers) {
        const copies = site.inventory.offsite?.servers;
        if (!b.pulls.some((p) => p.server === app.server) || (copies && copies.length && !copies.includes(app.server))) continue;
        let groups = offsiteOf.get(b.server);
        if (!groups) offsiteOf.set(b.server, (groups = offsiteGroups(site, b, view.root, lists, now)));
        for (const g of await groups) push(await offsiteRow(app, b, g, view.root, now, lists, problems, shared));
      }
    }
  }
  return { site: site.name, generatedAt: now.toISOString(), root: view.root, identity: view.identity, rows, running: runningRuns(rows), problems, counts };
}
