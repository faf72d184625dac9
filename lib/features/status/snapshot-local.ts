/**
 * The local tier of an app as a backup server last saw it: from the job history its newest
 * snapshot carried (the site feed, `tierback status --feed`). Every backup server holds such a
 * copy of its servers' local history; the site view keeps the freshest.
 */
import type { ResolvedApp, ResolvedBackupServer } from '../../model/inventory/model.js';
import { evaluate, type RunFacts } from './evaluate.js';
import type { StatusRow } from './index.js';
import { endOf, rowBase, sizes, summarize } from './row-parts.js';

/** The local row of `app` from the jobs its server's newest snapshot on `b` (pulled at `pullAt`) holds. */
export function snapshotLocalRow(app: ResolvedApp, b: ResolvedBackupServer, jobs: RunFacts, pullAt: Date | undefined, now: Date): StatusRow {
  const at = jobs.lastSuccess ? endOf(jobs.lastSuccess) : undefined;
  const ev = evaluate(jobs, at, now, app);
  const seen = { seenBy: b.server, ...(pullAt ? { seenAt: pullAt.toISOString() } : {}) };
  const unseen = !pullAt ? { state: 'MISSING' as const, reason: `${b.server} has no successful pull of ${app.server} to see its local tier in` } : {};
  return {
    ...rowBase(app, 'local'),
    ...ev,
    ...unseen,
    ...(at ? { lastSuccess: at.toISOString(), ageS: Math.round((now.getTime() - at.getTime()) / 1000) } : {}),
    ...sizes(jobs.lastSuccess),
    lastRun: summarize(jobs.lastFinished ?? jobs.last),
    running: false,
    ...seen,
  };
}
