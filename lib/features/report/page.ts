/**
 * The static report page at scale (`tierback report --html`): the problems first, worst first, then
 * every other row grouped by server in collapsed <details>, each group with its counts; one table
 * shape for both, sortable by column and filterable by text and state in the page
 * (./script.ts). Compact: one short class per state cell, no per-row styles, the 30-day strip and
 * the size chart as short run-length codes the script draws when a table is shown (without the
 * script they stay readable text). Produced as chunks, one group at a time, so the caller can
 * stream them to a file. Takes ReportData (any StatusReport-shaped rows), so merged rows render
 * the same.
 */
import { formatDuration, formatLocalTime } from '../../base/duration.js';
import type { AppState, StatusRow } from '../status/index.js';
import { escapeHtml as esc } from './html.js';
import type { ReportData, ReportDay, ReportRow } from './index.js';
import { SITE_CSS, failureTable, legend, problemList, statusSummary } from './render.js';
import { createHash } from 'node:crypto';
import { REPORT_SCRIPT } from './script.js';

/** Problems worst first; OK last. */
export const SEVERITY: Record<AppState, number> = { FAILED: 0, MISSING: 1, OVERDUE: 2, SHRUNK: 3, STALE: 4, OK: 5 };

/** Up to this many rows, the groups by server start open. */
export const OPEN_ROWS = 200;

/** Failures listed at most (newest first); the rest are counted. */
export const MAX_FAILURES = 300;

/** Style of the page's tables, added to SITE_CSS. */
export const PAGE_CSS = `table.t td:nth-child(n+5):nth-child(-n+7){text-align:right}
table.t th{cursor:pointer;user-select:none;background:#f4f4f4}
table.t th[aria-sort=ascending]::after{content:" \\25b2"}table.t th[aria-sort=descending]::after{content:" \\25bc"}
td.OK,td.STALE,td.SHRUNK,td.OVERDUE,td.FAILED,td.MISSING{color:#fff;font-weight:bold;text-align:center;-webkit-print-color-adjust:exact;print-color-adjust:exact}
td.OK{background:#2e9d48}td.STALE,td.SHRUNK,td.OVERDUE{background:#f0a020}td.FAILED,td.MISSING{background:#d03030}
td.d{font-family:ui-monospace,monospace;font-size:11px;white-space:nowrap}
td.d.x{padding:0;font-family:inherit}
td.d i{display:inline-block;width:14px;height:16px;margin-right:1px;text-align:center;color:#fff;font-style:normal;font-size:11px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
td.d i.ok{background:#2e9d48}td.d i.warn{background:#f0a020}td.d i.fail{background:#d03030}td.d i.none{background:#e8e8e8}
details{margin:2px 0}summary{cursor:pointer;padding:2px 0}summary b{font-weight:600}
#f{margin:8px 0;display:flex;gap:10px;align-items:center}#f input{width:22em}
@media print{details{display:block}#f{display:none}}
`;

const DAY_CODE: Record<ReportDay['state'], string> = { ok: 'o', warn: 'w', fail: 'x', none: '.' };

/** "aaab" -> "a3b": a run of 3 or more as the character and its count. */
export function rle(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    let j = i + 1;
    while (j < s.length && s[j] === s[i]) j++;
    const n = j - i;
    out += n >= 3 ? `${s[i]}${n}` : s.slice(i, j);
    i = j;
  }
  return out;
}

/** The day strip's code: one state letter per day, run-length coded. */
export function dayCode(days: readonly ReportDay[]): string {
  return rle(days.map((d) => DAY_CODE[d.state]).join(''));
}

/** The size chart's code: "MIN MAX LEVELS" (levels a..t, "-" for no size), or "" when no day has a size. */
export function sizeCode(days: readonly ReportDay[]): string {
  const mbs = days.map((d) => d.mb).filter((m): m is number => m !== undefined);
  if (mbs.length === 0) return '';
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of mbs) {
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  const span = hi - lo || 1;
  const levels = days.map((d) => (d.mb === undefined ? '-' : String.fromCharCode(97 + Math.round(((d.mb - lo) / span) * 19)))).join('');
  return `${lo.toFixed(1)} ${hi.toFixed(1)} ${rle(levels)}`;
}

const HEAD = '<thead><tr><th>App<th>Tier<th>On<th>State<th>Age<th>Files<th>MB<th>Drill<th>Note<th>Days<th>Size</thead>';

/** One table row, closing tags left out where HTML allows. */
export function rowHtml({ status: s, days }: ReportRow, appLink?: (app: string) => string): string {
  const name = appLink ? `<a href="${esc(appLink(s.app))}">${esc(s.app)}</a>` : esc(s.app);
  const tier = s.tier === 'offsite' ? `offsite:${s.target ?? ''}` : s.tier;
  const on = s.tier === 'local' ? s.server : (s.backupServer ?? '');
  const state = `${s.state}${s.running ? ' (running)' : ''}`;
  const age = s.ageS !== undefined ? formatDuration(s.ageS * 1000) : '';
  const drill = s.drill ? `${s.drill.status} ${s.drill.at.slice(0, 10)}` : '';
  const note = s.state === 'OK' && s.reason === 'ok' ? '' : s.reason;
  return `<tr><td>${name}<td>${esc(tier)}<td>${esc(on)}<td class=${s.state}>${s.state === state ? s.state : esc(state)}<td>${age}<td>${s.files ?? ''}<td>${s.mb !== undefined ? s.mb.toFixed(1) : ''}<td>${esc(drill)}<td>${esc(note)}<td class=d>${dayCode(days)}<td class=z>${sizeCode(days)}\n`;
}

function bySeverity(a: ReportRow, b: ReportRow): number {
  const x = a.status;
  const y = b.status;
  return SEVERITY[x.state] - SEVERITY[y.state] || (y.ageS ?? Infinity) - (x.ageS ?? Infinity) || cmp(x.server, y.server) || cmp(x.app, y.app);
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function counts(rows: readonly StatusRow[]): string {
  const c = new Map<string, number>();
  for (const r of rows) c.set(r.state, (c.get(r.state) ?? 0) + 1);
  return (Object.keys(SEVERITY) as AppState[])
    .filter((s) => c.has(s))
    .reverse()
    .map((s) => `${c.get(s)} ${s === 'OK' ? 'OK' : s.toLowerCase()}`)
    .join(', ');
}

/** The body: filter bar, problems, the groups by server, failures, unreadable history; in chunks. */
export function* reportBodyChunks(data: ReportData, appLink?: (app: string) => string): Generator<string> {
  const problems = data.rows.filter((r) => r.status.state !== 'OK').sort(bySeverity);
  const states = Object.keys(SEVERITY) as AppState[];
  yield `<div id=f hidden><input id=q type=search placeholder="Filter: app, server, note…" aria-label="Filter rows"><select id=st aria-label="State"><option value="">every state<option value=problem>problems only${states.map((s) => `<option>${s}`).join('')}</select><span id=n class=muted></span></div>\n`;
  yield `${legend().text}\n<h2>Problems (${problems.length})</h2>\n`;
  if (problems.length === 0) yield '<p>Every row is OK.</p>\n';
  else {
    let out = `<table class="t p">${HEAD}<tbody>\n`;
    for (const r of problems) out += rowHtml(r, appLink);
    yield `${out}</tbody></table>\n`;
  }
  const groups = new Map<string, ReportRow[]>();
  for (const r of data.rows) {
    let g = groups.get(r.status.server);
    if (!g) groups.set(r.status.server, (g = []));
    g.push(r);
  }
  // A small site's groups start open; a fleet's start closed.
  const open = data.rows.length <= OPEN_ROWS;
  yield `<h2>By server (${groups.size})</h2>\n<p class=muted>Every row but the problems above, by the server the apps run on; click a server to open it, a column to sort.</p>\n`;
  for (const server of [...groups.keys()].sort()) {
    const all = groups.get(server)!;
    const rest = all.filter((r) => r.status.state === 'OK');
    const bad = all.length - rest.length;
    let out = `<details${open ? ' open' : ''}><summary><b>${esc(server)}</b> <span class=muted>${all.length} rows: ${counts(all.map((r) => r.status))}${bad ? ' (problems listed above)' : ''}</span></summary>`;
    if (rest.length) {
      out += `<table class=t>${HEAD}<tbody>\n`;
      for (const r of rest.sort((a, b) => cmp(a.status.app, b.status.app) || cmp(a.status.tier, b.status.tier))) out += rowHtml(r, appLink);
      out += '</tbody></table>';
    }
    yield `${out}</details>\n`;
  }
  yield `<h2>Failures</h2>\n`;
  const shown = data.failures.slice(0, MAX_FAILURES);
  yield failureTable(shown, data.timezone).text;
  if (data.failures.length > shown.length) yield `<p class=muted>… and ${data.failures.length - shown.length} older failures (tierback history APP).</p>`;
  yield `\n${problemList(data).text}\n`;
}

/** The page's inline style sheet, and the CSP source that allows exactly it (the web interface serves the page). */
export const REPORT_STYLE = `\n${SITE_CSS}${PAGE_CSS}`;
export const REPORT_STYLE_HASH = `'sha256-${createHash('sha256').update(REPORT_STYLE).digest('base64')}'`;

/** The whole page, in chunks: style and script inline, nothing from the network; `appLink` links app names (the web interface). */
export function* reportPageChunks(data: ReportData, appLink?: (app: string) => string): Generator<string> {
  yield `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tierback report: ${esc(data.site)}</title>
<style>${REPORT_STYLE}</style></head><body data-days="${data.days.join(' ')}">
<h1>Backups of ${esc(data.site)}</h1>
<p class="muted">Generated ${esc(formatLocalTime(data.generatedAt, data.timezone))} · times and days in ${esc(data.timezone)} · ${esc(statusSummary(data))}</p>
`;
  yield* reportBodyChunks(data, appLink);
  yield `<script>${REPORT_SCRIPT}</script>\n</body></html>\n`;
}
