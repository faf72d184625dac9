/**
 * Status across a move (docs/operate.md#moving-an-app): until a backup server has pulled the app at
 * its new place, the app's remote row counts the last good copy at the old place, and says so,
 * instead of MISSING. The old place is found in the newest few snapshots of the servers the backup
 * server pulls (lib/model/places.ts searchSnapshots), probing the app's history files of the recent days
 * by name: only for rows that would otherwise be MISSING, and never by listing a whole snapshot.
 */
import { existsSync } from 'node:fs';
import * as C from '../../model/layout.js';
import * as N from '../../model/names.js';
import { listHistoryFiles, readHistoryFiles, type HistoryProblem, type Run } from '../../model/history.js';
import type { ResolvedApp, ResolvedBackupServer } from '../../model/inventory/model.js';
import { formatDuration } from '../../base/duration.js';
import { describePlace, searchSnapshots, type Place } from '../../model/places.js';
import { evaluate, type RunFacts } from './evaluate.js';
import type { StatusRow } from './index.js';

export interface MovedCopy {
  place: Place;
  /** The snapshot holding the copy. */
  stamp: string;
  at: Date;
  facts: RunFacts;
}

const isSuccess = (r: Run) => r.status === 'ok' || r.status === 'warning';

/** The app's job runs in a history folder, newest files first, until two successes are known. */
async function jobFacts(dir: string, app: string, problems: HistoryProblem[]): Promise<RunFacts> {
  const files = (await listHistoryFiles(dir)).get(app) ?? [];
  const facts: RunFacts = { runs: 0 };
  for (let i = files.length - 1; i >= 0 && !facts.previousSuccess; i--) {
    const res = await readHistoryFiles([files[i]!.path]);
    problems.push(...res.problems);
    const runs = res.runs.filter((r) => r.kind === 'job' && r.name === app && r.status !== 'running');
    facts.runs += runs.length;
    for (let j = runs.length - 1; j >= 0; j--) {
      const r = runs[j]!;
      facts.last ??= r;
      facts.lastFinished ??= r;
      if (isSuccess(r)) {
        if (!facts.lastSuccess) facts.lastSuccess = r;
        else facts.previousSuccess ??= r;
      }
    }
  }
  return facts;
}

/** Finds the last good copy of moved apps at their old places; one per status run. */
export class MovedCopies {
  private readonly listings = new Map<string, Promise<string[]>>();
  constructor(
    private readonly root: string,
    /** Days (yyyymmdd) whose history files are probed, newest first: the stale window of status. */
    private readonly days: readonly string[],
  ) {}

  /** The newest snapshot of a server `b` pulls that holds a successful backup of `app` at another place. */
  async find(app: ResolvedApp, b: ResolvedBackupServer, problems: HistoryProblem[]): Promise<MovedCopy | undefined> {
    const servers = [...new Set(b.pulls.map((p) => p.server))];
    const root = this.root === '' ? '/' : this.root;
    const probe = async (vmTree: string) => this.days.some((d) => existsSync(C.historyFilePath(C.historyDirIn(vmTree), app.name, d)));
    const hits = await searchSnapshots(root, [{ partition: b.partition, servers }], app, { server: app.server, vm: app.vm, relpath: app.relpath }, probe, this.listings);
    for (const h of hits) {
      const facts = await jobFacts(C.historyDirIn(h.vmTree), app.name, problems);
      if (facts.lastSuccess) return { place: h.place, stamp: h.stamp, at: N.parseSnapshotStamp(h.stamp)!, facts };
    }
    return undefined;
  }

  /**
   * The remote row of a moved app from its last good copy at the old place, or undefined when
   * there is none (then MISSING stands).
   */
  async row(app: ResolvedApp, b: ResolvedBackupServer, missing: StatusRow, now: Date, problems: HistoryProblem[]): Promise<StatusRow | undefined> {
    const copy = await this.find(app, b, problems);
    if (!copy) return undefined;
    const ok = copy.facts.lastSuccess!;
    const ev = evaluate(copy.facts, copy.at, now, app);
    const carried = copy.at.getTime() - (ok.end ?? ok.start).getTime();
    const state = (ev.state === 'OK' || ev.state === 'SHRUNK') && carried > app.staleAfterMs ? 'STALE' : ev.state;
    const why = state === ev.state ? ev.reason : `the copy was already ${formatDuration(carried)} old when pulled`;
    const oldPlace = describePlace(copy.place);
    const row: StatusRow & { oldPlace: string; oldSnapshot: string } = {
      ...missing,
      ...ev,
      state,
      reason: `moved: ${b.server} has no copy at the new place ${describePlace(app)} yet; counting the last good copy at the old place ${oldPlace} (snapshot ${copy.stamp}): ${why}`,
      lastSuccess: copy.at.toISOString(),
      ageS: Math.round((now.getTime() - copy.at.getTime()) / 1000),
      files: ok.files,
      mb: ok.mb,
      bytes: ok.bytes ?? (ok.mb !== undefined ? Math.round(ok.mb * 1e6) : undefined),
      durationS: ok.durationS,
      oldPlace,
      oldSnapshot: copy.stamp,
    };
    return row;
  }
}
