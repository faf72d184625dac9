/**
 * `tierback report --html FILE`: one self-contained static page (no scripts, fonts or images
 * from the network): the status table, a grid of apps x the last N days per tier in
 * green/amber/red, sizes over time as small inline SVG charts, and the failures with their
 * error text. Printable.
 */
import * as C from './layout.js';
import * as N from './names.js';
import { formatDuration, formatLocalTime } from './duration.js';
import { writeFileAtomic } from './fsutil.js';
import { dayOf, listHistoryFiles, readHistoryFiles, type HistoryFile, type HistoryProblem, type Run } from './history.js';
import type { ResolvedApp, Site } from './inventory/model.js';
import { rooted } from './machine.js';
import { runningRule } from './runstate.js';
import { siteStatus, type StatusOptions, type StatusReport, type StatusRow } from './status.js';

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

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Colours of the grid and of the states; the tests look for them in the screenshot. */
export const COLORS = { ok: '#2e9d48', warn: '#f0a020', fail: '#d03030', none: '#e8e8e8' } as const;
const STATE_COLOR: Record<string, string> = { OK: COLORS.ok, STALE: COLORS.warn, SHRUNK: COLORS.warn, OVERDUE: COLORS.warn, FAILED: COLORS.fail, MISSING: COLORS.fail };
const SYMBOL: Record<DayState, string> = { ok: '✓', warn: '!', fail: '✗', none: '' };

function sparkline(days: ReportDay[]): string {
  const pts = days.map((d, i) => [i, d.mb] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
  if (pts.length === 0) return '<span class="muted">no sizes</span>';
  const w = 120;
  const h = 24;
  const max = Math.max(...pts.map((p) => p[1]));
  const min = Math.min(...pts.map((p) => p[1]));
  const span = max - min || 1;
  const x = (i: number) => ((i / Math.max(1, days.length - 1)) * (w - 4) + 2).toFixed(1);
  const y = (v: number) => (h - 2 - ((v - min) / span) * (h - 4)).toFixed(1);
  const line = pts.map((p) => `${x(p[0])},${y(p[1])}`).join(' ');
  const lastPt = pts[pts.length - 1]!;
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="size from ${min.toFixed(1)} to ${max.toFixed(1)} MB"><polyline fill="none" stroke="#3060b0" stroke-width="1.5" points="${line}"/><circle cx="${x(lastPt[0])}" cy="${y(lastPt[1])}" r="2" fill="#3060b0"/></svg>`;
}

const fmtDay = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** The page, as one string of HTML with inline CSS and SVG. */
export function renderReportHtml(data: ReportData): string {
  const c = data.status.counts;
  const summary = `${data.rows.length} rows: ${c.OK} OK, ${c.STALE} stale, ${c.SHRUNK} shrunk, ${c.OVERDUE} overdue, ${c.FAILED} failed, ${c.MISSING} missing`;
  const statusRows = data.rows
    .map(({ status: s }) => {
      const age = s.ageS !== undefined ? formatDuration(s.ageS * 1000) : '–';
      return `<tr data-app="${esc(s.app)}" data-tier="${s.tier}"><td>${esc(s.app)}</td><td>${s.tier}</td><td>${esc(s.tier === 'local' ? s.server : (s.backupServer ?? ''))}</td><td class="state" data-state="${s.state}" style="background:${STATE_COLOR[s.state]}">${s.state}</td><td>${age}</td><td class="num">${s.files ?? '–'}</td><td class="num">${s.mb !== undefined ? s.mb.toFixed(1) : '–'}</td><td>${s.state === 'OK' && s.reason === 'ok' ? '' : esc(s.reason)}</td></tr>`;
    })
    .join('\n');
  const head = data.days.map((d) => `<th class="day" title="${fmtDay(d)}">${d.slice(6, 8)}</th>`).join('');
  const grid = data.rows
    .map(({ status: s, days }) => {
      const cells = days
        .map((d) => `<td class="cell ${d.state}" data-day="${d.day}" data-state="${d.state}" title="${esc(s.app)} ${s.tier} ${fmtDay(d.day)}: ${d.state === 'none' ? 'no run' : `${d.runs} run(s)`}${d.mb !== undefined ? `, ${d.mb.toFixed(1)} MB` : ''}">${SYMBOL[d.state]}</td>`)
        .join('');
      return `<tr data-app="${esc(s.app)}" data-tier="${s.tier}"><th class="app">${esc(s.app)} <span class="muted">${s.tier}${s.backupServer ? `@${esc(s.backupServer)}` : ''}</span></th>${cells}<td class="chart">${sparkline(days)}</td></tr>`;
    })
    .join('\n');
  const failures = data.failures.length
    ? `<table class="failures"><thead><tr><th>When (UTC)</th><th>App</th><th>Tier</th><th>On</th><th>Kind</th><th>Error</th></tr></thead><tbody>${data.failures
        .map((f) => `<tr class="failure"><td>${esc(formatLocalTime(f.start, data.timezone))}</td><td>${esc(f.app)}</td><td>${f.tier}</td><td>${esc(f.where)}</td><td>${esc(f.kind)}</td><td class="error">${esc(f.error)}</td></tr>`)
        .join('\n')}</tbody></table>`
    : '<p>No failures in this period.</p>';
  const problems = data.problems.length
    ? `<h2>Unreadable history</h2><ul>${data.problems.slice(0, 50).map((p) => `<li>${esc(p.file)}${p.line ? `:${p.line}` : ''}: ${esc(p.message)}</li>`).join('')}</ul>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tierback report: ${esc(data.site)}</title>
<style>
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}
.muted{color:#777;font-weight:normal;font-size:11px}
table{border-collapse:collapse}
td,th{padding:2px 6px;border:1px solid #ccc;text-align:left}
td.num{text-align:right}
td.state{color:#fff;font-weight:bold;text-align:center;-webkit-print-color-adjust:exact;print-color-adjust:exact}
table.grid td.cell{width:16px;min-width:16px;height:18px;padding:0;text-align:center;color:#fff;font-size:11px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
table.grid th.day{padding:0 1px;font-size:10px;font-weight:normal;color:#555}
td.cell.ok{background:${COLORS.ok}}td.cell.warn{background:${COLORS.warn}}td.cell.fail{background:${COLORS.fail}}td.cell.none{background:${COLORS.none}}
td.error{font-family:ui-monospace,monospace;white-space:pre-wrap;max-width:60em}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;color:#fff}
@media print{body{margin:0}h2{page-break-after:avoid}tr{page-break-inside:avoid}}
</style></head><body>
<h1>Backups of ${esc(data.site)}</h1>
<p class="muted">Generated ${esc(formatLocalTime(data.generatedAt, data.timezone))} · times and days in ${esc(data.timezone)} · ${summary}</p>
<h2>Status</h2>
<table class="status"><thead><tr><th>App</th><th>Tier</th><th>On</th><th>State</th><th>Age</th><th>Files</th><th>MB</th><th>Note</th></tr></thead><tbody>
${statusRows}
</tbody></table>
<h2>Last ${data.days.length} days</h2>
<p class="legend"><span style="background:${COLORS.ok}">✓ ok</span><span style="background:${COLORS.warn}">! warning or some failed</span><span style="background:${COLORS.fail}">✗ failed</span><span style="background:${COLORS.none};color:#555">no run</span> remote rows show the pulls; charts show the size (MB)</p>
<table class="grid"><thead><tr><th>App</th>${head}<th>Size</th></tr></thead><tbody>
${grid}
</tbody></table>
<h2>Failures</h2>
${failures}
${problems}
</body></html>
`;
}

/** Builds the report and writes it atomically to `file` (0644: a page meant to be read). */
export async function writeHtmlReport(site: Site, file: string, opts: ReportOptions = {}): Promise<ReportData> {
  const data = await buildReport(site, opts);
  await writeFileAtomic(file, renderReportHtml(data), 0o644);
  return data;
}
