/**
 * Every run of an app, for queries (`tierback history APP`): its job runs from the local
 * history and from the copies pulled onto backup servers (one entry per run id), and the
 * pulls of its server by the backup servers this machine holds.
 */
import * as C from './layout.js';
import * as N from './names.js';
import { parseDuration } from '../base/duration.js';
import { UsageError } from '../base/errors.js';
import { dayOf, readHistory, runFacts, type HistoryProblem, type Run, type RunFacts } from './history.js';
import { findApp, type Site } from './inventory/model.js';
import { isLocked } from '../base/lock.js';
import { rooted, scanMachine, type MachineOptions, type MachineView } from './machine.js';
import { runningRule } from './runstate.js';

export interface HistoryEntry extends RunFacts {
  run: string;
  app: string;
  kind: string;
  tier: string;
  status: string;
  start: string;
  end?: string | undefined;
  interrupted: boolean;
  /** Where this run was read: "local" or "remote@<backup server>" (a job run pulled to several places is listed once). */
  seenIn: string[];
}

export interface AppHistoryOptions extends MachineOptions {
  /** Only runs that started within this duration ("30d") before now. */
  since?: string | undefined;
  /** Include the pulls of the app's server (default true). */
  pulls?: boolean | undefined;
  now?: Date;
  /** What this machine holds, when the caller already scanned it (one scan for many apps). */
  view?: MachineView;
}

export interface AppHistory {
  app: string;
  since?: string | undefined;
  entries: HistoryEntry[];
  problems: HistoryProblem[];
}

function toEntry(r: Run, app: string, where: string): HistoryEntry {
  return {
    run: r.run,
    app,
    kind: r.kind,
    tier: r.tier,
    status: r.status,
    start: r.start.toISOString(),
    ...(r.end ? { end: r.end.toISOString() } : {}),
    ...runFacts(r),
    interrupted: r.interrupted ?? false,
    seenIn: [where],
  };
}

/** Every run of `appName` this machine knows of, oldest first. */
export async function appHistory(site: Site, appName: string, opts: AppHistoryOptions = {}): Promise<AppHistory> {
  const app = findApp(site, appName);
  const now = opts.now ?? new Date();
  let sinceMs: number | undefined;
  if (opts.since !== undefined) {
    const ms = parseDuration(opts.since);
    if (ms === undefined) throw new UsageError(`--since "${opts.since}" is not a duration`, 'write it like "30d", "12h" or "2w"');
    sinceMs = now.getTime() - ms;
  }
  // Files are per day in the site's timezone; read from the day before to be safe, filter exactly below.
  const sinceDay = sinceMs !== undefined ? dayOf(new Date(sinceMs - 86_400_000), site.timezone) : undefined;
  const view = opts.view ?? (await scanMachine(site, opts));
  const problems: HistoryProblem[] = [];
  const byRun = new Map<string, HistoryEntry>();
  const add = (runs: Run[], where: string) => {
    for (const r of runs) {
      if (sinceMs !== undefined && r.start.getTime() < sinceMs) continue;
      const seen = byRun.get(`${r.kind}:${r.run}`);
      if (seen) {
        if (!seen.seenIn.includes(where)) seen.seenIn.push(where);
        // A copy pulled while the job ran says "running"; the local file knows how it ended.
        if ((seen.interrupted || seen.status === 'running') && r.status !== 'running' && !r.interrupted) byRun.set(`${r.kind}:${r.run}`, { ...toEntry(r, app.name, where), seenIn: [...seen.seenIn] });
        continue;
      }
      byRun.set(`${r.kind}:${r.run}`, toEntry(r, app.name, where));
    }
  };
  // A start line without its final line: running or interrupted, by the one rule of lib/model/runstate.ts
  // (the local job's lock stands in for start lines written before they named their process).
  const lockAlive = await isLocked(rooted(view.root, C.lockPath(C.localAppDir(app.partition, app.vm, app.relpath))));
  const read = async (dir: string, name: string, local = false) => {
    const res = await readHistory(rooted(view.root, dir), { name, ...(sinceDay ? { sinceDay } : {}), isRunning: runningRule({ now, ...(local ? { lockAlive } : {}) }) });
    problems.push(...res.problems);
    return res.runs;
  };
  if (view.localServers.some((s) => s.fqdn === app.server)) {
    add((await read(C.jobHistoryDir(app.partition, app.vm), app.name, true)).filter((r) => r.name === app.name), 'local');
    add(await read(C.jobHistoryDir(app.partition, app.vm), N.drillHistoryName(app.name)), 'local');
  }
  for (const b of view.backupServers) {
    if (!b.pulls.some((p) => p.server === app.server)) continue;
    add((await read(C.remoteJobHistoryDir(b.partition, app.server, app.vm), app.name)).filter((r) => r.name === app.name), `remote@${b.server}`);
    if (opts.pulls ?? true) add(await read(C.serverHistoryDir(b.partition), N.pullHistoryName(app.server)), `pull@${b.server}`);
    add(await read(C.serverHistoryDir(b.partition), N.drillHistoryName(app.name)), `drill@${b.server}`);
  }
  const entries = [...byRun.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { app: app.name, ...(opts.since ? { since: opts.since } : {}), entries, problems };
}
