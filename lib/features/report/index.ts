/**
 * `tierback report --html FILE`: one self-contained static page (inline style and one small inline
 * script, nothing from the network): the problems first, then every row grouped by server, sortable
 * and filterable; per row a strip of the last N days in green/amber/red and a size chart; the
 * failures with their error text. Printable. Rendered by ./page.ts, streamed to the file.
 */
import * as C from '../../model/layout.js';
import * as N from '../../model/names.js';
import { writeChunksAtomic } from '../../base/fsutil.js';
import { dayOf, historyFolderNames, readHistoryFiles, type HistoryProblem, type Run } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { rooted } from '../../model/machine.js';
import { runningRule } from '../../model/runstate.js';
import { reportPageChunks } from './page.js';
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

function dayStates(runs: Run[], days: string[], dayOfRun: (at: Date) => string, sizeOf: (day: string) => number | undefined): ReportDay[] {
  const by = new Map<string, Run[]>();
  for (const r of runs) {
    const d = dayOfRun(r.start);
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

type Read = { runs: Run[]; problems: HistoryProblem[] };

/**
 * The runs of a name over the report's days, read once per (folder, name) when shared: the pulls of a
 * server and the offsite copies are the same files for every app of the server, so they are not read
 * again per app. Problems are returned with the first read only. The files are named by day
 * (`backup-<name>-<yyyymmdd>`), so they are opened by name: no folder is listed, and a year of history
 * in a folder costs nothing (a backup server's history folder holds hundreds of thousands of files).
 */
class Reads {
  private done = new Map<string, Read>();
  private usb = new Map<string, Promise<string[]>>();
  constructor(
    private readonly days: readonly string[],
    private readonly now: Date,
  ) {}
  /** The offsite series of the USB drives (`offsite-usb-<drive>`) in a history folder: one listing per folder, names only. */
  usbNames(dir: string): Promise<string[]> {
    let p = this.usb.get(dir);
    if (!p) this.usb.set(dir, (p = usbSeries(dir)));
    return p;
  }
  async since(dir: string, name: string, shared = false): Promise<Read> {
    const key = `${dir}\0${name}`;
    const seen = this.done.get(key);
    if (seen) return { runs: seen.runs, problems: [] };
    const res = await readHistoryFiles(
      this.days.map((d) => C.historyFilePath(dir, name, d)),
      { isRunning: runningRule({ now: this.now }), missingOk: true },
    );
    if (shared) this.done.set(key, res);
    return res;
  }
  private byServer = new Map<string, Map<string, Run[]>>();
  /** The offsite copies of one server in a shared history name, indexed once for every app. */
  async offsiteOf(dir: string, name: string, server: string, problems: HistoryProblem[]): Promise<Run[]> {
    const key = `${dir}\0${name}`;
    let idx = this.byServer.get(key);
    if (!idx) {
      const res = await this.since(dir, name, true);
      problems.push(...res.problems);
      this.byServer.set(key, (idx = new Map()));
      for (const r of res.runs) {
        const s = r.kind === 'offsite' ? r.extra?.['server'] : undefined;
        if (s === undefined) continue;
        let l = idx.get(s);
        if (!l) idx.set(s, (l = []));
        l.push(r);
      }
    }
    return idx.get(server) ?? [];
  }
}

async function usbSeries(dir: string): Promise<string[]> {
  const names = new Set<string>();
  for (const n of await historyFolderNames(dir)) {
    const p = N.parseHistoryFileName(n);
    if (p?.name.startsWith('offsite-usb-')) names.add(p.name);
  }
  return [...names].sort();
}

/** dayOf, remembered per quarter hour (every time zone's offset is a whole number of them): Intl is slow for 100,000 runs. */
function dayMemo(tz: string): (at: Date) => string {
  const memo = new Map<number, string>();
  return (at) => {
    const k = Math.floor(at.getTime() / 900_000);
    let d = memo.get(k);
    if (d === undefined) memo.set(k, (d = dayOf(at, tz)));
    return d;
  };
}

/** Gathers what the page shows. */
export async function buildReport(site: Site, opts: ReportOptions = {}): Promise<ReportData> {
  const now = opts.now ?? new Date();
  const tz = site.timezone;
  const status = await siteStatus(site, { ...opts, now });
  const days = lastDays(now, opts.days ?? 30, tz);
  // The days shown, and the next one: a machine whose clock or zone runs ahead names its files a day later.
  const next = dayOf(new Date(now.getTime() + 86_400_000), tz);
  const reads = new Reads(days.includes(next) ? days : [...days, next], now);
  const day = dayMemo(tz);
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
      const res = await reads.since(rooted(status.root, C.jobHistoryDir(app.partition, app.vm)), app.name);
      problems.push(...res.problems);
      jobs = res.runs.filter((r) => r.kind === 'job');
      shown = jobs;
      where = s.server;
    } else if (s.tier === 'offsite') {
      // The offsite tier of a day is its copies of the app's server to that target (any drive for "usb").
      const b = bsBy.get(s.backupServer!)!;
      const dir = rooted(status.root, C.serverHistoryDir(b.partition));
      const names = s.target === 'usb' ? await reads.usbNames(dir) : [N.offsiteHistoryName(s.target ?? '')];
      shown = [];
      for (const n of names) shown.push(...(await reads.offsiteOf(dir, n, app.server, problems)));
      shown.sort((x, y) => x.start.getTime() - y.start.getTime());
      jobs = [];
      where = `${b.server} -> ${s.target ?? ''}`;
    } else {
      const b = bsBy.get(s.backupServer!)!;
      // The size chart of an OK remote row is left out: 30 days of every app's carried history would be
      // 120,000 file reads at 4,000 apps; its last size is in the row, and rows with a problem get the chart.
      const res = s.state === 'OK' ? { runs: [], problems: [] } : await reads.since(rooted(status.root, C.remoteJobHistoryDir(b.partition, app.server, app.vm)), app.name);
      const pulls = await reads.since(rooted(status.root, C.serverHistoryDir(b.partition)), N.pullHistoryName(app.server), true);
      problems.push(...res.problems, ...pulls.problems);
      jobs = res.runs.filter((r) => r.kind === 'job' && r.status !== 'running');
      // The remote tier of a day is its pulls; sizes are the app's as carried. Pulls that carried
      // no backup of the app (MISSING) are no days of its remote tier.
      shown = s.state === 'MISSING' ? [] : pulls.runs.filter((r) => r.kind === 'pull');
      where = b.server;
    }
    const sizeByDay = new Map<string, number>();
    for (const r of jobs) if ((r.status === 'ok' || r.status === 'warning') && r.mb !== undefined) sizeByDay.set(day(r.start), r.mb);
    rows.push({ status: s, days: dayStates(shown, days, day, (d) => sizeByDay.get(d)) });
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
export { PAGE_CSS, REPORT_STYLE_HASH, SEVERITY, reportBodyChunks, reportPageChunks } from './page.js';
export { REPORT_SCRIPT, REPORT_SCRIPT_HASH } from './script.js';
/** The escaping templates the report and the web interface share (lib/features/report/html.ts). */
export { html, raw, href, Html } from './html.js';

/** The page, as one string of HTML with the style sheet and the script inlined (lib/features/report/page.ts renders it). */
export function renderReportHtml(data: ReportData): string {
  return [...reportPageChunks(data)].join('');
}

/** Builds the report and writes it atomically to `file` (0644: a page meant to be read), streamed a group at a time. */
export async function writeHtmlReport(site: Site, file: string, opts: ReportOptions = {}): Promise<ReportData> {
  const data = await buildReport(site, opts);
  await writeChunksAtomic(file, reportPageChunks(data), 0o644);
  return data;
}
