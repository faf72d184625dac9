/**
 * `tierback report --html FILE`: one self-contained static page (no scripts, fonts or images
 * from the network): the status table, a grid of apps x the last N days per tier in
 * green/amber/red, sizes over time as small inline SVG charts, and the failures with their
 * error text. Printable.
 */
import * as C from '../../model/layout.js';
import * as N from '../../model/names.js';
import { formatLocalTime } from '../../base/duration.js';
import { writeFileAtomic } from '../../base/fsutil.js';
import { dayOf, listHistoryFiles, readHistoryFiles, type HistoryFile, type HistoryProblem, type Run } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { rooted } from '../../model/machine.js';
import { runningRule } from '../../model/runstate.js';
import { html, raw } from './html.js';
import { SITE_CSS, reportBody, statusSummary } from './render.js';
import { siteStatus, type StatusOptions, type StatusReport, type StatusRow } from '../status/index.js';

export type DayState = 'ok' | 'warn' | 'fail' | 'none';

export interface ReportDay {
  day: string; // yyyymmdd
  state: DayState;
  runs: number;
  /** Size of the last success that day. */
  mb?: number | undefined;
}

export interface ReportFailure {
  app: string;
  tier: string;
  where: string;
  kind: string;
  start: string;
  error: string;
}

export interface ReportRow {
  status: StatusRow;
  days: ReportDay[];
}

export interface ReportData {
  site: string;
  generatedAt: string;
  timezone: string;
  days: string[];
  rows: ReportRow[];
  failures: ReportFailure[];
  status: StatusReport;
  problems: HistoryProblem[];
}

export interface ReportOptions extends StatusOptions {
  /** Days shown in the grid (default 30). */
  days?: number;
}

function lastDays(now: Date, n: number, tz: string): string[] {
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = dayOf(new Date(now.getTime() - i * 86_400_000), tz);
    if (out[out.length - 1] !== d) out.push(d);
  }
  return out;
}

function dayStates(runs: Run[], days: string[], tz: string, sizeOf: (day: string) => number | undefined): ReportDay[] {
  const by = new Map<string, Run[]>();
  for (const r of runs) {
    const d = dayOf(r.start, tz);
    let l = by.get(d);
    if (!l) by.set(d, (l = []));
    l.push(r);
  }
  return days.map((day) => {
    const l = by.get(day) ?? [];
    const ok = l.filter((r) => r.status === 'ok').length;
    const warn = l.filter((r) => r.status === 'warning').length;
    const failed = l.filter((r) => r.status === 'failed').length;
    const state: DayState = l.length === 0 ? 'none' : failed && !ok && !warn ? 'fail' : failed || warn ? 'warn' : 'ok';
    return { day, state, runs: l.length, mb: sizeOf(day) };
  });
}

async function readSince(lists: Map<string, Promise<Map<string, HistoryFile[]>>>, dir: string, name: string, sinceDay: string, now: Date) {
  let p = lists.get(dir);
  if (!p) lists.set(dir, (p = listHistoryFiles(dir)));
  const files = ((await p).get(name) ?? []).filter((f) => f.day >= sinceDay).map((f) => f.path);
  return readHistoryFiles(files, { isRunning: runningRule({ now }) });
}

/** Gathers what the page shows. */
export async function buildReport(site: Site, opts: ReportOptions = {}): Promise<ReportData> {
  const now = opts.now ?? new Date();
  const tz = site.timezone;
  const status = await siteStatus(site, { ...opts, now });
  const days = lastDays(now, opts.days ?? 30, tz);
  const sinceDay = days[0]!;
  const lists = new Map<string, Promise<Map<string, HistoryFile[]>>>();
  const problems: HistoryProblem[] = [...status.problems];
  const failures: ReportFailure[] = [];
  const seenFailures = new Set<string>();
  const rows: ReportRow[] = [];
  const appBy = new Map<string, ResolvedApp>(site.apps.map((a) => [a.name, a]));
  const bsBy = new Map(site.backupServers.map((b) => [b.server, b]));
  for (const s of status.rows) {
    const app = appBy.get(s.app)!;
    let jobs: Run[];
    let shown: Run[];
    let where: string;
    if (s.tier === 'local') {
      const res = await readSince(lists, rooted(status.root, C.jobHistoryDir(app.partition, app.vm)), app.name, sinceDay, now);
      problems.push(...res.problems);
      jobs = res.runs.filter((r) => r.kind === 'job');
      shown = jobs;
      where = s.server;
    } else if (s.tier === 'offsite') {
      // The offsite tier of a day is its copies of the app's server to that target (any drive for "usb").
      const b = bsBy.get(s.backupServer!)!;
      const dir = rooted(status.root, C.serverHistoryDir(b.partition));
      let p = lists.get(dir);
      if (!p) lists.set(dir, (p = listHistoryFiles(dir)));
      const names = s.target === 'usb' ? [...(await p).keys()].filter((n) => n.startsWith('offsite-usb-')) : [N.offsiteHistoryName(s.target ?? '')];
      shown = [];
      for (const n of names) {
        const res = await readSince(lists, dir, n, sinceDay, now);
        problems.push(...res.problems);
        shown.push(...res.runs.filter((r) => r.kind === 'offsite' && r.extra?.['server'] === app.server));
      }
      shown.sort((x, y) => x.start.getTime() - y.start.getTime());
      jobs = [];
      where = `${b.server} -> ${s.target ?? ''}`;
    } else {
      const b = bsBy.get(s.backupServer!)!;
      const res = await readSince(lists, rooted(status.root, C.remoteJobHistoryDir(b.partition, app.server, app.vm)), app.name, sinceDay, now);
      const pulls = await readSince(lists, rooted(status.root, C.serverHistoryDir(b.partition)), N.pullHistoryName(app.server), sinceDay, now);
      problems.push(...res.problems, ...pulls.problems);
      jobs = res.runs.filter((r) => r.kind === 'job' && r.status !== 'running');
      // The remote tier of a day is its pulls; sizes are the app's as carried. Pulls that carried
      // no backup of the app (MISSING) are no days of its remote tier.
      shown = s.state === 'MISSING' ? [] : pulls.runs.filter((r) => r.kind === 'pull');
      where = b.server;
    }
    const sizeByDay = new Map<string, number>();
    for (const r of jobs) if ((r.status === 'ok' || r.status === 'warning') && r.mb !== undefined) sizeByDay.set(dayOf(r.start, tz), r.mb);
    rows.push({ status: s, days: dayStates(shown, days, tz, (d) => sizeByDay.get(d)) });
    for (const r of shown) {
      // A failed pull is one failure of the whole server, listed once.
      const key = `${where}:${r.kind}:${r.run}`;
      if (r.status !== 'failed' || seenFailures.has(key)) continue;
      seenFailures.add(key);
      failures.push({ app: r.kind === 'pull' ? `(all of ${app.server})` : s.app, tier: s.tier, where, kind: r.kind, start: r.start.toISOString(), error: r.error ?? 'no error recorded' });
    }
  }
  failures.sort((a, b) => (a.start < b.start ? 1 : -1));
  return { site: site.name, generatedAt: now.toISOString(), timezone: tz, days, rows, failures, status, problems };
}

export { COLORS, SITE_CSS, reportBody, statusSummary } from './render.js';
/** The escaping templates the report and the web interface share (lib/features/report/html.ts). */
export { html, raw, href, Html } from './html.js';

/** The page, as one string of HTML with the shared style sheet inlined (lib/features/report/render.ts renders it). */
export function renderReportHtml(data: ReportData): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tierback report: ${data.site}</title>
<style>
${raw(SITE_CSS)}</style></head><body>
<h1>Backups of ${data.site}</h1>
<p class="muted">Generated ${formatLocalTime(data.generatedAt, data.timezone)} · times and days in ${data.timezone} · ${statusSummary(data)}</p>
${reportBody(data)}
</body></html>
`.text;
}

/** Builds the report and writes it atomically to `file` (0644: a page meant to be read). */
export async function writeHtmlReport(site: Site, file: string, opts: ReportOptions = {}): Promise<ReportData> {
  const data = await buildReport(site, opts);
  await writeFileAtomic(file, renderReportHtml(data), 0o644);
  return data;
}
