/**
 * Merges the feeds of every backup server into one status report: remote and offsite rows as each
 * backup server reports its own; one local row per app, the freshest view (a real local tier read
 * here first, else the snapshot pulled last); a row per backup server (reachable or not, its last
 * pull of anything); a row per server no backup server pulls.
 */
import { formatDuration, parseDuration } from '../../base/duration.js';
import type { HistoryProblem } from '../../model/history.js';
import type { Site } from '../../model/inventory/model.js';
import { runningRuns, STATES, type AppState, type StatusReport, type StatusRow } from '../status/index.js';
import type { FeedResult } from './gather.js';

const STATE_SET = new Set<string>(STATES);
const TIERS = new Set(['local', 'remote', 'offsite']);

/** What the site view adds to a status report: one entry per backup server's feed. */
export interface SiteReport extends StatusReport {
  feeds: FeedResult[];
}

/** Per backup server: its newest successful pull and its newest pull attempt (from the remote rows it sent). */
interface PullSeen {
  lastSuccess?: string | undefined;
  lastRun?: StatusRow['lastRun'];
  rows: number;
}

export class SiteMerger {
  private readonly local = new Map<string, StatusRow>();
  private readonly rest: StatusRow[] = [];
  private readonly pulls = new Map<string, PullSeen>();
  /** Servers some reachable backup server has a successful pull of. */
  private readonly pulledOk = new Set<string>();
  readonly dropped: HistoryProblem[] = [];

  /** Takes one row of `from`'s feed; rows of another backup server's tiers, or malformed, are dropped. */
  add(row: StatusRow, from: string): void {
    if (!row || typeof row.app !== 'string' || !TIERS.has(row.tier) || !STATE_SET.has(row.state) || typeof row.server !== 'string') {
      if (this.dropped.length < 20) this.dropped.push({ file: `${from}: feed`, line: 0, message: `malformed row dropped: ${JSON.stringify(row).slice(0, 120)}` });
      return;
    }
    row = clean(row);
    if (row.tier === 'local') {
      const had = this.local.get(row.app);
      if (!had || fresher(row, had)) this.local.set(row.app, row);
      return;
    }
    if (row.backupServer !== from) return;
    this.rest.push(row);
    if (row.tier === 'remote') {
      const p = this.pulls.get(from) ?? { rows: 0 };
      p.rows++;
      if (row.lastSuccess) this.pulledOk.add(row.server);
      if (row.lastSuccess && (!p.lastSuccess || row.lastSuccess > p.lastSuccess)) p.lastSuccess = row.lastSuccess;
      if (row.lastRun && (!p.lastRun || row.lastRun.start > p.lastRun.start)) p.lastRun = row.lastRun;
      this.pulls.set(from, p);
    }
  }

  /** The merged report, rows in inventory order of apps: local, remote, offsite; then backup servers and unpulled servers. */
  report(site: Site, feeds: FeedResult[], now: Date, root: string, identity: StatusReport['identity']): SiteReport {
    const order = new Map(site.apps.map((a, i) => [a.name, i]));
    const tierOrder = { local: 0, remote: 1, offsite: 2 } as const;
    const rows = [...this.local.values(), ...this.rest].sort((a, b) => (order.get(a.app) ?? 1e9) - (order.get(b.app) ?? 1e9) || tierOrder[a.tier] - tierOrder[b.tier] || (a.backupServer ?? '').localeCompare(b.backupServer ?? ''));
    const staleMs = parseDuration(site.inventory.defaults?.stale_after ?? '') ?? 26 * 3_600_000;
    for (const f of feeds) rows.push(backupServerRow(f, this.pulls.get(f.backupServer), staleMs, now));
    rows.push(...unpulledRows(site, staleMs, feeds, this.pulledOk));
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<AppState, number>;
    for (const r of rows) counts[r.state]++;
    const problems: HistoryProblem[] = [...this.dropped];
    for (const f of feeds) {
      for (const p of f.end?.problems ?? []) problems.push({ ...p, file: `${f.backupServer}:${p.file}` });
      const more = (f.end?.problemCount ?? 0) - (f.end?.problems.length ?? 0);
      if (more > 0) problems.push({ file: `${f.backupServer}: feed`, line: 0, message: `and ${more} more unreadable history lines there` });
    }
    return { site: site.name, generatedAt: now.toISOString(), root, identity, rows, running: runningRuns(rows), problems, counts, feeds };
  }
}

/** A row's text without control characters: a feed comes from another machine, and the table goes to a terminal. */
function clean(row: StatusRow): StatusRow {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'string' ? v.replace(/[\x00-\x1f\x7f]/g, '?') : v;
  return out as unknown as StatusRow;
}

/** A real local tier (read here) beats a snapshot's view; between snapshots, the later pull. */
function fresher(a: StatusRow, b: StatusRow): boolean {
  if (!a.seenBy) return Boolean(b.seenBy);
  if (!b.seenBy) return false;
  return (a.seenAt ?? '') > (b.seenAt ?? '');
}

function labelRow(label: string, server: string, staleMs: number): Omit<StatusRow, 'state' | 'reason' | 'subject'> {
  return { app: label, tier: 'remote', server, vm: '', relpath: '', paused: false, running: false, staleAfterS: Math.round(staleMs / 1000), shrinkThreshold: 0 };
}

/** A backup server as a row: FAILED when its feed cannot be read (why), STALE when it has not pulled for stale_after. */
function backupServerRow(f: FeedResult, seen: PullSeen | undefined, staleMs: number, now: Date): StatusRow {
  const base = { ...labelRow('(backup server)', f.backupServer, staleMs), backupServer: f.backupServer, subject: 'backup-server' as const };
  const when = seen?.lastSuccess ? { lastSuccess: seen.lastSuccess, ageS: Math.round((now.getTime() - Date.parse(seen.lastSuccess)) / 1000) } : {};
  const last = seen?.lastRun ? { lastRun: seen.lastRun } : {};
  if (!f.ok) return { ...base, state: 'FAILED', reason: `unreachable: ${f.reason ?? 'no answer'}` };
  if (!seen?.lastRun) return { ...base, ...last, state: 'MISSING', reason: seen?.rows ? 'it has never pulled anything' : 'it pulls no app' };
  if (!seen.lastSuccess) return { ...base, ...last, state: 'FAILED', reason: 'none of its pulls has ever succeeded' };
  const age = now.getTime() - Date.parse(seen.lastSuccess);
  if (age > staleMs) return { ...base, ...when, ...last, state: 'STALE', reason: `no pull has succeeded for ${formatDuration(age)} (stale after ${formatDuration(staleMs)})` };
  return { ...base, ...when, ...last, state: 'OK', reason: `read ${f.via === 'ssh' ? 'over SSH' : 'here'}: ${seen.rows} remote rows in ${f.ms} ms` };
}

/**
 * A server with active apps that no backup server pulls: none lists it (`inventory check` refuses
 * that, but the inventory here may be ahead of the backup servers'), or none of those that do has a
 * successful pull of it (all unreachable, or never pulled it): its apps have no remote copy in sight.
 */
function unpulledRows(site: Site, staleMs: number, feeds: FeedResult[], pulledOk: ReadonlySet<string>): StatusRow[] {
  const out: StatusRow[] = [];
  const feedOf = new Map(feeds.map((f) => [f.backupServer, f]));
  for (const s of site.servers) {
    if (pulledOk.has(s.fqdn)) continue;
    const apps = site.apps.filter((a) => a.server === s.fqdn && a.status !== 'retired');
    if (apps.length === 0) continue;
    const by = site.backupServers.filter((b) => b.pulls.some((p) => p.server === s.fqdn));
    const why = by.length === 0
      ? `no backup server pulls ${s.fqdn}: add it to a backup_servers[].pulls`
      : `no backup server has a successful pull of ${s.fqdn}: ${by.map((b) => `${b.server} ${feedOf.get(b.server)?.ok === false ? 'is unreachable' : 'never pulled it successfully'}`).join(', ')}`;
    out.push({ ...labelRow('(not pulled)', s.fqdn, staleMs), subject: 'unpulled', state: 'MISSING', reason: `${why} (${apps.length} app(s) with no remote copy)` });
  }
  return out;
}
