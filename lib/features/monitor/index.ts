/**
 * The one entry point of exports and notifications, called by the job and pull runners
 * through their onFinished hook: notifyRunStarted (healthchecks start ping) and
 * notifyRunFinished (InfluxDB event, healthchecks ping, Prometheus textfile).
 * Never throws: a delivery that fails is logged and queued in a spool file (0600, JSON lines,
 * no secrets: credentials are re-read from the configuration when sending) and retried on
 * the next run, so monitoring can never fail a backup.
 */
import { appendFile, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseDuration } from '../../base/duration.js';
import { ensureDir, FILE_MODE } from '../../base/fsutil.js';
import type { HistoryRecord } from '../../model/history.js';
import type { Site } from '../../model/inventory/model.js';
import type { Monitoring } from '../../model/inventory/schema.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { resolveRoot, rooted } from '../../model/machine.js';
import { siteStatus, type StatusReport } from '../status/index.js';
import { eventOf, pingBase, pingBody, pingUrl } from './healthchecks.js';
import { influxAuthHeader, influxLine, influxWriteUrl } from './influxdb.js';
import { writePrometheusTextfile } from './prometheus.js';

export interface NotifyOptions {
  log?: Logger;
  /** Path prefix (--root / $TIERBACK_ROOT) for the spool, the textfile and the trees status reads. */
  root?: string | undefined;
  /** Which server this machine is, for the Prometheus status (see lib/model/machine.ts). */
  host?: string | undefined;
  env?: NodeJS.ProcessEnv;
  now?: Date;
  /** Rewrite the Prometheus textfile after this run (default true; batches export once at the end). */
  prometheus?: boolean;
}

/** One queued delivery. */
export interface Delivery {
  service: 'influxdb' | 'healthchecks';
  url: string;
  body: string;
  queuedAt: string;
  attempts: number;
  /** Why the last attempt failed. */
  lastError?: string;
}

export interface NotifyResult {
  sent: number;
  queued: number;
  /** Deliveries from the spool sent on this run. */
  retried: number;
  dropped: number;
  prometheus?: 'written' | 'failed' | undefined;
}

/** Deliveries kept in the spool at most; the oldest are dropped (and logged) beyond. */
export const SPOOL_LIMIT = 1000;

export function monitoringOf(site: Site): Monitoring | undefined {
  return site.inventory.monitoring;
}

function spoolPath(m: Monitoring, root: string): string {
  return rooted(root, m.spool);
}

async function send(m: Monitoring, d: Delivery, env: NodeJS.ProcessEnv): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'tierback' };
  if (d.service === 'influxdb' && m.influxdb) {
    const auth = await influxAuthHeader(m.influxdb, env);
    if (auth) headers['authorization'] = auth;
  }
  const res = await fetch(d.url, { method: 'POST', headers, body: d.body, signal: AbortSignal.timeout(parseDuration(m.timeout) ?? 10_000) });
  // Drain the body so the connection is released.
  const text = await res.text().catch(() => '');
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

async function queue(file: string, items: Delivery[]): Promise<void> {
  if (items.length === 0) return;
  await ensureDir(path.dirname(file));
  // One append of whole lines: concurrent runs never interleave within a line.
  await appendFile(file, items.map((d) => JSON.stringify(d)).join('\n') + '\n', { mode: FILE_MODE });
}

/** Takes the spool over atomically (rename), so runs finishing together never send an entry twice. */
async function takeSpool(file: string, log: Logger): Promise<Delivery[]> {
  const taken = `${file}.sending-${process.pid}-${Date.now()}`;
  try {
    await rename(file, taken);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const text = await readFile(taken, 'utf8');
  await rm(taken, { force: true });
  const out: Delivery[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Delivery);
    } catch {
      log.warn({ file, line: line.slice(0, 200) }, 'monitoring spool: dropped an unreadable entry');
    }
  }
  return out;
}

async function deliverAll(m: Monitoring, fresh: Delivery[], opts: NotifyOptions, log: Logger): Promise<NotifyResult> {
  const env = opts.env ?? process.env;
  const file = spoolPath(m, resolveRoot({ root: opts.root, env }));
  const result: NotifyResult = { sent: 0, queued: 0, retried: 0, dropped: 0 };
  let old: Delivery[] = [];
  try {
    old = await takeSpool(file, log);
  } catch (err) {
    log.warn({ file, err: (err as Error).message }, 'monitoring spool: cannot read; retrying next run');
  }
  const failed: Delivery[] = [];
  for (const d of [...old, ...fresh]) {
    try {
      await send(m, d, env);
      result.sent++;
      if (old.includes(d)) result.retried++;
    } catch (err) {
      const msg = (err as Error).message;
      log.warn({ service: d.service, url: redactUrl(d.url), err: msg }, 'monitoring delivery failed; queued for the next run');
      failed.push({ ...d, attempts: d.attempts + 1, lastError: msg });
    }
  }
  if (failed.length > SPOOL_LIMIT) {
    result.dropped = failed.length - SPOOL_LIMIT;
    log.warn({ dropped: result.dropped }, `monitoring spool: more than ${SPOOL_LIMIT} deliveries queued; dropped the oldest`);
    failed.splice(0, result.dropped);
  }
  try {
    await queue(file, failed);
    result.queued = failed.length;
  } catch (err) {
    log.error({ file, err: (err as Error).message, lost: failed.length }, 'monitoring spool: cannot write; these deliveries are lost');
  }
  return result;
}

/** Ping URLs may carry a secret (the check's uuid): logs show only the host. */
export function redactUrl(u: string): string {
  try {
    return `${new URL(u).origin}/…`;
  } catch {
    return '(bad url)';
  }
}

/** Healthchecks start ping for a run that just started (record status running). Never throws. */
export async function notifyRunStarted(site: Site, record: HistoryRecord, opts: NotifyOptions = {}): Promise<NotifyResult> {
  const log = opts.log ?? silentLogger();
  const m = monitoringOf(site);
  const empty: NotifyResult = { sent: 0, queued: 0, retried: 0, dropped: 0 };
  if (!m) return empty;
  try {
    const base = pingBase(m.healthchecks, record);
    if (!base) return empty;
    // A start ping is only worth sending now: it is not queued for later.
    const d: Delivery = { service: 'healthchecks', url: pingUrl(base, 'start'), body: pingBody(record), queuedAt: new Date().toISOString(), attempts: 0 };
    try {
      await send(m, d, opts.env ?? process.env);
      return { ...empty, sent: 1 };
    } catch (err) {
      log.warn({ url: redactUrl(d.url), err: (err as Error).message }, 'healthchecks start ping failed (not retried)');
      return empty;
    }
  } catch (err) {
    log.error({ err: (err as Error).message }, 'monitoring: unexpected error (ignored)');
    return empty;
  }
}

/**
 * Everything that follows a finished job or pull: InfluxDB event, healthchecks ping
 * (success or fail), queued deliveries of earlier runs, the Prometheus textfile. Never throws.
 */
export async function notifyRunFinished(site: Site, record: HistoryRecord, opts: NotifyOptions = {}): Promise<NotifyResult> {
  const log = opts.log ?? silentLogger();
  const m = monitoringOf(site);
  if (!m) return { sent: 0, queued: 0, retried: 0, dropped: 0 };
  try {
    const now = new Date().toISOString();
    const fresh: Delivery[] = [];
    if (m.influxdb) fresh.push({ service: 'influxdb', url: influxWriteUrl(m.influxdb), body: influxLine(m.influxdb.measurement, record), queuedAt: now, attempts: 0 });
    const base = pingBase(m.healthchecks, record);
    if (base) fresh.push({ service: 'healthchecks', url: pingUrl(base, eventOf(record)), body: pingBody(record), queuedAt: now, attempts: 0 });
    const result = await deliverAll(m, fresh, opts, log);
    if (m.prometheus && opts.prometheus !== false) result.prometheus = (await exportPrometheus(site, opts)) ? 'written' : 'failed';
    return result;
  } catch (err) {
    log.error({ err: (err as Error).message }, 'monitoring: unexpected error (ignored; the backup is not affected)');
    return { sent: 0, queued: 0, retried: 0, dropped: 0 };
  }
}

/** Writes the Prometheus textfile from the current status (or the one `report` makes, e.g. the site view). Returns false (and logs) on failure. */
export async function exportPrometheus(site: Site, opts: NotifyOptions & { report?: () => Promise<StatusReport> } = {}): Promise<boolean> {
  const log = opts.log ?? silentLogger();
  const m = monitoringOf(site);
  if (!m?.prometheus) return false;
  const root = resolveRoot({ root: opts.root, env: opts.env ?? process.env });
  const file = rooted(root, m.prometheus.textfile);
  try {
    const report = (await opts.report?.()) ?? (await siteStatus(site, { root, host: opts.host, env: opts.env ?? process.env, ...(opts.now ? { now: opts.now } : {}) }));
    await writePrometheusTextfile(file, report);
    return true;
  } catch (err) {
    log.warn({ file, err: (err as Error).message }, 'prometheus textfile not written; it will be on the next run');
    return false;
  }
}

/** Sends what the spool holds (e.g. from cron after an outage). Never throws. */
export async function flushSpool(site: Site, opts: NotifyOptions = {}): Promise<NotifyResult> {
  const m = monitoringOf(site);
  if (!m) return { sent: 0, queued: 0, retried: 0, dropped: 0 };
  return deliverAll(m, [], opts, opts.log ?? silentLogger());
}

/**
 * The runners' hooks (JobOptions/PullOptions `onStarted`/`onFinished`) wired to the exports of the
 * inventory's `monitoring:` block, and `done` to call once after a batch of runs: it rewrites the
 * Prometheus textfile once, not after every app. Empty when the block is absent.
 */
export function monitorHooks(
  site: Site,
  opts: NotifyOptions = {},
): { onStarted?: (r: HistoryRecord) => Promise<void>; onFinished?: (r: HistoryRecord) => Promise<void>; done?: () => Promise<void> } {
  const m = monitoringOf(site);
  if (!m) return {};
  return {
    onStarted: async (r) => {
      await notifyRunStarted(site, r, opts);
    },
    onFinished: async (r) => {
      await notifyRunFinished(site, r, { ...opts, prometheus: false });
    },
    done: async () => {
      if (m.prometheus) await exportPrometheus(site, opts);
    },
  };
}
