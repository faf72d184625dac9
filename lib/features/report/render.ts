/**
 * The status rendering shared by `tierback report --html` (lib/features/report/index.ts) and the web interface
 * (lib/features/web/): the style sheet, the status table, the grid of the last days, the size charts and
 * the failures. Plain functions from data to escaped HTML; no scripts, no inline styles (the web
 * interface's Content-Security-Policy forbids them), colours by class.
 */
import { formatDuration, formatLocalTime } from '../../base/duration.js';
import type { ReportData, ReportDay, ReportFailure, ReportRow } from './index.js';
import type { StatusRow } from '../status/index.js';
import { html, raw, type Html } from './html.js';

/** Colours of the grid and of the states; the tests look for them in the screenshot. */
export const COLORS = { ok: '#2e9d48', warn: '#f0a020', fail: '#d03030', none: '#e8e8e8' } as const;
const SYMBOL: Record<ReportDay['state'], string> = { ok: '✓', warn: '!', fail: '✗', none: '' };

/** The one style sheet: inlined by the report, served at /static/tierback.css by the interface. */
export const SITE_CSS = `body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 6px}
a{color:#2050a0}
.muted{color:#777;font-weight:normal;font-size:11px}
table{border-collapse:collapse}
td,th{padding:2px 6px;border:1px solid #ccc;text-align:left}
td.num{text-align:right}
td.state{color:#fff;font-weight:bold;text-align:center;-webkit-print-color-adjust:exact;print-color-adjust:exact}
td.state[data-state=OK]{background:${COLORS.ok}}
td.state[data-state=STALE],td.state[data-state=SHRUNK],td.state[data-state=OVERDUE]{background:${COLORS.warn}}
td.state[data-state=FAILED],td.state[data-state=MISSING]{background:${COLORS.fail}}
table.grid td.cell{width:16px;min-width:16px;height:18px;padding:0;text-align:center;color:#fff;font-size:11px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
table.grid th.day{padding:0 1px;font-size:10px;font-weight:normal;color:#555}
td.cell.ok,.legend .ok{background:${COLORS.ok}}td.cell.warn,.legend .warn{background:${COLORS.warn}}td.cell.fail,.legend .fail{background:${COLORS.fail}}td.cell.none,.legend .none{background:${COLORS.none}}
td.error,pre,code{font-family:ui-monospace,monospace;white-space:pre-wrap}
td.error{max-width:60em}
pre{background:#f4f4f4;padding:6px 8px;border:1px solid #ddd;max-width:100em}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;color:#fff}
.legend span.none{color:#555}
nav.top{display:flex;gap:16px;align-items:center;border-bottom:1px solid #ddd;padding-bottom:6px;margin-bottom:10px}
nav.top form{margin-left:auto}
.crumbs{margin:6px 0}
.error-box{border:1px solid ${COLORS.fail};background:#fdecec;padding:6px 10px;max-width:60em}
form.login label{display:block;margin:6px 0}
form.find input[type=text]{width:28em}
@media print{body{margin:0}h2{page-break-after:avoid}tr{page-break-inside:avoid}nav.top{display:none}}
`;

export function sparkline(days: ReportDay[]): Html {
  const pts = days.map((d, i) => [i, d.mb] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
  if (pts.length === 0) return html`<span class="muted">no sizes</span>`;
  const w = 120;
  const h = 24;
  const max = Math.max(...pts.map((p) => p[1]));
  const min = Math.min(...pts.map((p) => p[1]));
  const span = max - min || 1;
  const x = (i: number) => ((i / Math.max(1, days.length - 1)) * (w - 4) + 2).toFixed(1);
  const y = (v: number) => (h - 2 - ((v - min) / span) * (h - 4)).toFixed(1);
  const line = pts.map((p) => `${x(p[0])},${y(p[1])}`).join(' ');
  const lastPt = pts[pts.length - 1]!;
  // Numbers only: trusted markup.
  return raw(`<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="size from ${min.toFixed(1)} to ${max.toFixed(1)} MB"><polyline fill="none" stroke="#3060b0" stroke-width="1.5" points="${line}"/><circle cx="${x(lastPt[0])}" cy="${y(lastPt[1])}" r="2" fill="#3060b0"/></svg>`);
}

export const fmtDay = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

export function statusSummary(data: Pick<ReportData, 'rows' | 'status'>): string {
  const c = data.status.counts;
  return `${data.rows.length} rows: ${c.OK} OK, ${c.STALE} stale, ${c.SHRUNK} shrunk, ${c.OVERDUE} overdue, ${c.FAILED} failed, ${c.MISSING} missing`;
}

/** The status table; `appLink` turns the app's name into a link (the interface) or not (the report). */
export function statusTable(rows: readonly StatusRow[], appLink?: (app: string) => string): Html {
  const body = rows.map((s) => {
    const age = s.ageS !== undefined ? formatDuration(s.ageS * 1000) : '–';
    const name = appLink ? html`<a href="${appLink(s.app)}">${s.app}</a>` : html`${s.app}`;
    const drill = s.drill ? `${s.drill.status} ${s.drill.at.slice(0, 10)}` : '–';
    return html`<tr data-app="${s.app}" data-tier="${s.tier}"><td>${name}</td><td>${s.tier}</td><td>${s.tier === 'local' ? s.server : (s.backupServer ?? '')}</td><td class="state" data-state="${s.state}">${s.state}</td><td>${age}</td><td class="num">${s.files ?? '–'}</td><td class="num">${s.mb !== undefined ? s.mb.toFixed(1) : '–'}</td><td>${drill}</td><td>${s.state === 'OK' && s.reason === 'ok' ? '' : s.reason}</td></tr>\n`;
  });
  return html`<table class="status"><thead><tr><th>App</th><th>Tier</th><th>On</th><th>State</th><th>Age</th><th>Files</th><th>MB</th><th>Last drill</th><th>Note</th></tr></thead><tbody>
${body}</tbody></table>`;
}

export function legend(): Html {
  return html`<p class="legend"><span class="ok">✓ ok</span><span class="warn">! warning or some failed</span><span class="fail">✗ failed</span><span class="none">no run</span> remote rows show the pulls; charts show the size (MB)</p>`;
}

/** Apps x days, one coloured cell per day, and a size chart per row. */
export function dayGrid(days: readonly string[], rows: readonly ReportRow[], appLink?: (app: string) => string): Html {
  const head = days.map((d) => html`<th class="day" title="${fmtDay(d)}">${d.slice(6, 8)}</th>`);
  const body = rows.map(({ status: s, days: ds }) => {
    const cells = ds.map((d) => html`<td class="cell ${d.state}" data-day="${d.day}" data-state="${d.state}" title="${`${s.app} ${s.tier} ${fmtDay(d.day)}: ${d.state === 'none' ? 'no run' : `${d.runs} run(s)`}${d.mb !== undefined ? `, ${d.mb.toFixed(1)} MB` : ''}`}">${SYMBOL[d.state]}</td>`);
    const name = appLink ? html`<a href="${appLink(s.app)}">${s.app}</a>` : html`${s.app}`;
    return html`<tr data-app="${s.app}" data-tier="${s.tier}"><th class="app">${name} <span class="muted">${s.tier}${s.backupServer ? `@${s.backupServer}` : ''}</span></th>${cells}<td class="chart">${sparkline(ds)}</td></tr>\n`;
  });
  return html`<table class="grid"><thead><tr><th>App</th>${head}<th>Size</th></tr></thead><tbody>
${body}</tbody></table>`;
}

export function failureTable(failures: readonly ReportFailure[], timezone: string): Html {
  if (failures.length === 0) return html`<p>No failures in this period.</p>`;
  const body = failures.map((f) => html`<tr class="failure"><td>${formatLocalTime(f.start, timezone)}</td><td>${f.app}</td><td>${f.tier}</td><td>${f.where}</td><td>${f.kind}</td><td class="error">${f.error}</td></tr>\n`);
  return html`<table class="failures"><thead><tr><th>When</th><th>App</th><th>Tier</th><th>On</th><th>Kind</th><th>Error</th></tr></thead><tbody>${body}</tbody></table>`;
}

export function problemList(data: Pick<ReportData, 'problems'>): Html {
  if (!data.problems.length) return html``;
  return html`<h2>Unreadable history</h2><ul>${data.problems.slice(0, 50).map((p) => html`<li>${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}</li>`)}</ul>`;
}

/** Everything below the title: status, grid, failures; the report's body and the interface's dashboard. */
export function reportBody(data: ReportData, appLink?: (app: string) => string): Html {
  return html`<h2>Status</h2>
${statusTable(data.rows.map((r) => r.status), appLink)}
<h2>Last ${data.days.length} days</h2>
${legend()}
${dayGrid(data.days, data.rows, appLink)}
<h2>Failures</h2>
${failureTable(data.failures, data.timezone)}
${problemList(data)}`;
}
