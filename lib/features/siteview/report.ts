/**
 * The HTML report of the merged site view (`tierback report --site`): the same page, from the
 * merged rows. The feeds carry each row's state and last run, not its 30 days of history, so the
 * grid shows one day (today, from each row's last run) and the failures are the rows' last runs.
 */
import { dayOf } from '../../model/history.js';
import type { Site } from '../../model/inventory/model.js';
import type { DayState, ReportData, ReportFailure, ReportRow } from '../report/index.js';
import type { SiteReport } from './merge.js';

export function siteReportData(site: Site, status: SiteReport): ReportData {
  const tz = site.timezone;
  const today = dayOf(new Date(status.generatedAt), tz);
  const failures: ReportFailure[] = [];
  const seen = new Set<string>();
  const rows: ReportRow[] = status.rows.map((s) => {
    const r = s.lastRun;
    const onDay = r && dayOf(new Date(r.start), tz) === today;
    const state: DayState = !onDay ? 'none' : r.status === 'failed' ? 'fail' : r.status === 'warning' ? 'warn' : r.status === 'ok' ? 'ok' : 'none';
    const where = s.tier === 'local' ? s.server : (s.backupServer ?? s.server);
    if (r?.status === 'failed') {
      // A failed pull is one failure of the whole server, listed once.
      const key = `${where}:${s.tier}:${r.run}`;
      if (!seen.has(key)) {
        seen.add(key);
        failures.push({ app: s.tier === 'remote' && !s.subject ? `(all of ${s.server})` : s.app, tier: s.tier, where, kind: s.tier === 'local' ? 'job' : s.tier === 'remote' ? 'pull' : 'offsite', start: r.start, error: r.error ?? 'no error recorded' });
      }
    }
    if (s.subject === 'backup-server' && s.state === 'FAILED' && s.reason.startsWith('unreachable')) {
      failures.push({ app: s.app, tier: s.tier, where, kind: 'site view', start: status.generatedAt, error: s.reason });
    }
    return { status: s, days: [{ day: today, state, runs: onDay ? 1 : 0, ...(s.mb !== undefined ? { mb: s.mb } : {}) }] };
  });
  failures.sort((a, b) => (a.start < b.start ? 1 : -1));
  return { site: site.name, generatedAt: status.generatedAt, timezone: tz, days: [today], rows, failures, status, problems: status.problems };
}
