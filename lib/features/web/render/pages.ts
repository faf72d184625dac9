/** The pages of the web interface: server-rendered, escaped (./html.ts), no scripts. */
import { formatLocalTime } from '../../../base/duration.js';
import type { ReportData } from '../../report/index.js';
import type { StatusRow } from '../../status/index.js';
import type { DumpView, Entry, PointView } from '../browse.js';
import { html, href, reportBody, statusSummary, type Html } from '../../report/index.js';

export const appUrl = (app: string) => `/app/${encodeURIComponent(app)}`;

export function page(title: string, body: Html, user?: string): string {
  const nav = user
    ? html`<nav class="top"><a href="/"><b>tierback</b></a><span class="muted">signed in as ${user}</span><form method="post" action="/logout"><button type="submit">Sign out</button></form></nav>`
    : html`<nav class="top"><b>tierback</b></nav>`;
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/static/tierback.css">
</head><body>
${nav}
${body}
</body></html>
`.text;
}

export function loginPage(message?: string, user = ''): string {
  return page(
    'Sign in · tierback',
    html`<h1>Sign in</h1>
${message ? html`<p class="error-box" id="message">${message}</p>` : ''}
<form class="login" method="post" action="/login">
<label>User <input name="user" autocomplete="username" value="${user}" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function errorPage(status: number, message: string, hint: string | undefined, user?: string): string {
  return page(`${status} · tierback`, html`<h1>${status === 404 ? 'Not found' : status === 403 ? 'Refused' : 'Error'}</h1><p class="error-box" id="message">${message}</p>${hint ? html`<p class="muted">${hint}</p>` : ''}<p><a href="/">Back to the overview</a></p>`, user);
}

/** Problems first, then by app. */
const SEVERITY: Record<string, number> = { FAILED: 0, MISSING: 1, SHRUNK: 2, OVERDUE: 3, STALE: 4, OK: 5 };

export function dashboardPage(data: ReportData, user: string): string {
  const sorted: ReportData = { ...data, rows: [...data.rows].sort((a, b) => (SEVERITY[a.status.state] ?? 9) - (SEVERITY[b.status.state] ?? 9) || a.status.app.localeCompare(b.status.app)) };
  return page(
    `Backups of ${data.site} · tierback`,
    html`<h1>Backups of ${data.site}</h1>
<p class="muted">As of ${formatLocalTime(data.generatedAt, data.timezone)} · times and days in ${data.timezone} · ${statusSummary(data)} · <a href="/report" id="report-link">problems first, by server, sortable</a></p>
${reportBody(sorted, appUrl)}`,
    user,
  );
}

const mb = (b: number | undefined) => (b === undefined ? '–' : (b / 1e6).toFixed(1));
const signed = (n: number | undefined, f: (n: number) => string = String) => (n === undefined ? '–' : n > 0 ? `+${f(n)}` : n === 0 ? '±0' : f(n));

export function appPage(app: string, points: readonly PointView[], rows: readonly StatusRow[], dumps: readonly DumpView[], timezone: string, user: string): string {
  const base = appUrl(app);
  const pointRows = [...points].reverse().map((p) => html`<tr data-point="${p.id}"><td><a href="${href(`${base}/browse`, { point: p.id })}">${p.id}</a>${p.current ? html` <span class="muted">current</span>` : ''}${p.moved ? html` <span class="muted">old place</span>` : ''}</td><td>${p.tier}</td><td>${formatLocalTime(p.at.toISOString(), timezone)}</td><td>${p.status}</td><td class="num">${p.files ?? '–'}</td><td class="num">${mb(p.bytes)}</td><td class="num">${signed(p.deltaFiles)}</td><td class="num">${signed(p.deltaBytes, (n) => (n / 1e6).toFixed(2))}</td><td class="num">${p.dumps.length}</td><td>${p.lastFailure ?? ''}</td></tr>\n`);
  const drills = rows.map((r) => html`<li>${r.tier}${r.backupServer ? ` on ${r.backupServer}` : ''}: ${r.drill ? `${r.drill.status} ${formatLocalTime(r.drill.at, timezone)}${r.drill.error ? ` (${r.drill.error})` : ''}` : 'no restore drill yet (tierback verify)'}</li>`);
  return page(
    `${app} · tierback`,
    html`<h1>${app}</h1>
<p class="crumbs"><a href="/">Overview</a> › ${app} · <a href="${base}/find">Find a file</a> · <a href="${base}/dumps">Database dumps (${dumps.length})</a></p>
<h2>Status</h2>
${rows.length ? html`<ul class="status">${rows.map((r) => html`<li>${r.tier}${r.backupServer ? ` on ${r.backupServer}` : ''}: <b>${r.state}</b> ${r.reason}</li>`)}</ul>` : html`<p>No tier of this app on this machine.</p>`}
<h2>Last restore drill</h2><ul>${drills}</ul>
<h2>Points in time</h2>
<p class="muted">Newest first. Changes are counted from the history (files and bytes of each backup against the one before).</p>
<table class="points"><thead><tr><th>Point</th><th>Tier</th><th>Backed up</th><th>Job</th><th>Files</th><th>MB</th><th>Δ files</th><th>Δ MB</th><th>Dumps</th><th>Failure since</th></tr></thead><tbody>
${pointRows}</tbody></table>`,
    user,
  );
}

function crumbs(app: string, point: string, rel: string): Html {
  const base = `${appUrl(app)}/browse`;
  const segs = rel ? rel.split('/') : [];
  const parts = segs.map((s, i) => html` / <a href="${href(base, { point, path: segs.slice(0, i + 1).join('/') })}">${s}</a>`);
  return html`<p class="crumbs"><a href="/">Overview</a> › <a href="${appUrl(app)}">${app}</a> › <a href="${href(base, { point })}">${point}</a>${parts}</p>`;
}

export function folderPage(app: string, point: string, rel: string, entries: readonly Entry[], from: number, more: boolean, user: string): string {
  const base = appUrl(app);
  const child = (name: string) => (rel ? `${rel}/${name}` : name);
  const rows = entries.map((e) => {
    const p = child(e.name);
    const name =
      e.type === 'folder'
        ? html`<a href="${href(`${base}/browse`, { point, path: p })}">${e.name}/</a>`
        : e.type === 'file'
          ? html`<a href="${href(`${base}/file`, { point, path: p })}" download>${e.name}</a>`
          : e.type === 'link'
            ? html`${e.name} <span class="muted">→ ${e.target ?? '?'} (link, not followed)</span>`
            : html`${e.name}`;
    const tar = e.type === 'folder' ? html` <a class="muted" href="${href(`${base}/tar`, { point, path: p })}">.tar.gz</a>` : '';
    return html`<tr data-name="${e.name}" data-type="${e.type}"><td>${name}${tar}</td><td class="num">${e.type === 'folder' ? '' : e.size}</td><td>${e.mtime.replace('T', ' ').slice(0, 19)}</td><td><code>${e.mode}</code></td></tr>\n`;
  });
  const title = rel || '(top)';
  return page(
    `${app} ${point} ${title} · tierback`,
    html`<h1>${app}: ${title}</h1>
${crumbs(app, point, rel)}
<p><a id="download-folder" href="${href(`${base}/tar`, { point, path: rel })}">Download this folder as .tar.gz</a></p>
<table class="listing"><thead><tr><th>Name</th><th>Bytes</th><th>Modified (UTC)</th><th>Mode</th></tr></thead><tbody>
${rows}</tbody></table>
${from > 0 ? html`<a href="${href(`${base}/browse`, { point, path: rel, from: Math.max(0, from - 1000) })}">previous</a> ` : ''}${more ? html`<p class="more">More entries: <a id="more" href="${href(`${base}/browse`, { point, path: rel, from: from + entries.length })}">next page</a></p>` : ''}`,
    user,
  );
}

export function findHead(app: string, q: string, user: string): string {
  const head = page(
    `Find in ${app} · tierback`,
    html`<h1>Find a file in ${app}</h1>
<p class="crumbs"><a href="/">Overview</a> › <a href="${appUrl(app)}">${app}</a> › find</p>
<form class="find" method="get" action="${appUrl(app)}/find"><input type="text" name="q" value="${q}" placeholder="database.yml, *.pdf, shared/config/*.yml"> <button type="submit">Find</button></form>
<p class="muted">A name or part of a path; * and ? as in a shell (** across folders). Every point in time, newest first.</p>
<table class="hits"><thead><tr><th>Point</th><th>Path</th><th>Bytes</th><th>Modified (UTC)</th></tr></thead><tbody>
@@ROWS@@`,
    user,
  );
  return head;
}

export function hitRow(app: string, h: { point: string; path: string; size: number; mtime: string; type: string }): string {
  const base = appUrl(app);
  const link = h.type === 'file' ? html`<a href="${href(`${base}/file`, { point: h.point, path: h.path })}" download>${h.path}</a>` : h.type === 'folder' ? html`<a href="${href(`${base}/browse`, { point: h.point, path: h.path })}">${h.path}/</a>` : html`${h.path} <span class="muted">(${h.type})</span>`;
  return html`<tr class="hit" data-point="${h.point}" data-path="${h.path}"><td>${h.point}</td><td>${link}</td><td class="num">${h.type === 'file' ? h.size : ''}</td><td>${h.mtime.replace('T', ' ').slice(0, 19)}</td></tr>\n`.text;
}

export function findTail(count: number, more: boolean): string {
  return html`</tbody></table>
<p id="found">${count} found${more ? html`; <b class="more">more matches not shown</b>: narrow the pattern` : ''}.</p>`.text;
}

export function dumpsPage(app: string, dumps: readonly DumpView[], timezone: string, user: string): string {
  const base = appUrl(app);
  const items = dumps.map((d) => html`<section class="dump" data-file="${d.dump.file}" data-point="${d.point}"><h3>${d.dump.db} · ${formatLocalTime(d.dump.at.toISOString(), timezone)} · ${d.point}</h3>
<p><a href="${href(`${base}/file`, { point: d.point, path: d.dump.file })}" download>${d.dump.file}</a> (${d.dump.bytes} bytes)</p>
${d.commands.length ? html`<p>To load it into the new database <code>${d.target ?? ''}</code> (as <code>tierback restore ${app} --database ${d.target ?? ''}</code> does; see docs/restore.md):</p><pre class="commands">${d.commands.join('\n')}</pre>` : html`<p>A whole-server dump: load it by hand on a scratch server, as docs/restore.md ("A whole database server") shows.</p>`}
</section>`);
  return page(
    `Dumps of ${app} · tierback`,
    html`<h1>Database dumps of ${app}</h1>
<p class="crumbs"><a href="/">Overview</a> › <a href="${base}">${app}</a> › dumps</p>
${dumps.length ? items : html`<p>This app has no database dumps here.</p>`}`,
    user,
  );
}
