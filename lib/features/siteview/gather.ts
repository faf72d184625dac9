/**
 * Gathers the site feed of every backup server at once: the ones whose remote tier is on this
 * machine in-process, the others over SSH with their `servers[]` entry's settings (the one
 * transport, lib/tiers/pull/ssh.ts: pinned host key, batch mode, connect timeout). On the far side
 * the key is restricted to `tierback status --feed` (`tierback ssh authorize --site-view`).
 */
import readline from 'node:readline';
import { createExec } from '../../base/exec.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { findServer, type ResolvedBackupServer, type Site } from '../../model/inventory/model.js';
import { openSshTransport } from '../../tiers/pull/ssh.js';
import type { StatusOptions, StatusRow } from '../status/index.js';
import { FEED_NAME, statusFeed, type FeedEnd, type FeedHeader } from './feed.js';

/** What one backup server's feed gave. */
export interface FeedResult {
  backupServer: string;
  /** `local` (read here) or `ssh`. */
  via: 'local' | 'ssh';
  ok: boolean;
  /** Why the feed could not be read: connection refused, key refused, host key mismatch, timeout, ... */
  reason?: string | undefined;
  end?: FeedEnd | undefined;
  ms: number;
}

export interface GatherOptions extends StatusOptions {
  log?: Logger;
  /** ssh ConnectTimeout in seconds (default 10). */
  connectTimeoutS?: number;
  /** Give up on a backup server's feed after this many ms (default 120,000). */
  timeoutMs?: number;
}

/** The remote command sent: the authorized_keys line's forced command runs the feed whatever is asked. */
export function feedRemoteCommand(b: ResolvedBackupServer): string {
  return `tierback status --feed --host ${b.server}`;
}

/** ssh's stderr (and exit) in words an operator acts on. */
export function sshFailureReason(stderr: string, exitCode: number | undefined, timedOut: boolean): string {
  const s = stderr;
  const last = s.trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
  if (timedOut) return 'timeout: the feed did not finish in time';
  if (/Connection refused/i.test(s)) return `connection refused: ${last}`;
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* (differs|mismatch)|No \S+ host key is known/i.test(s)) return `host key mismatch: the backup server's host key is not the pinned one (servers[].ssh.host_key); ${last}`;
  if (/Permission denied/i.test(s)) return `key refused: ${last} (append the line of \`tierback ssh authorize --site-view\` to its authorized_keys)`;
  if (/timed out/i.test(s)) return `timeout: ${last}`;
  if (/Could not resolve|Name or service not known|No route to host|Network is unreachable/i.test(s)) return `unreachable: ${last}`;
  if (exitCode === 255) return `ssh failed: ${last || 'exit 255'}`;
  return `the feed failed${exitCode !== undefined ? ` (exit ${exitCode})` : ''}: ${last || 'no output'}`;
}

type Sink = (row: StatusRow, from: string) => void;

async function localFeed(site: Site, b: ResolvedBackupServer, opts: GatherOptions, sink: Sink): Promise<FeedResult> {
  const t0 = Date.now();
  try {
    const end = await statusFeed(site, { ...opts, host: b.server }, { row: (r) => sink(r, b.server) });
    return { backupServer: b.server, via: 'local', ok: true, end, ms: Date.now() - t0 };
  } catch (err) {
    return { backupServer: b.server, via: 'local', ok: false, reason: `cannot read it here: ${(err as Error).message}`, ms: Date.now() - t0 };
  }
}

async function sshFeed(site: Site, b: ResolvedBackupServer, opts: GatherOptions, sink: Sink): Promise<FeedResult> {
  const t0 = Date.now();
  const log = opts.log ?? silentLogger();
  const result = (ok: boolean, reason?: string, end?: FeedEnd): FeedResult => ({ backupServer: b.server, via: 'ssh', ok, ...(reason ? { reason } : {}), ...(end ? { end } : {}), ms: Date.now() - t0 });
  let transport;
  try {
    transport = await openSshTransport(findServer(site, b.server), { connectTimeoutS: opts.connectTimeoutS ?? 10 });
  } catch (err) {
    return result(false, (err as Error).message);
  }
  try {
    const exec = createExec(log);
    const child = exec.spawn({ argv: [...transport.ssh, transport.target.host, feedRemoteCommand(b)], stream: true, timeoutMs: opts.timeoutMs ?? 120_000 });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 16_384) stderr += d;
    });
    let header: FeedHeader | undefined;
    let end: FeedEnd | undefined;
    let garbled: string | undefined;
    const lines = readline.createInterface({ input: child.stdout!, crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line.trim() || garbled) continue;
      let v: { feed?: string; row?: StatusRow; end?: boolean };
      try {
        v = JSON.parse(line) as typeof v;
      } catch {
        garbled = `not a tierback status feed: "${line.slice(0, 80)}"`;
        continue;
      }
      if (!header) {
        if (v.feed !== FEED_NAME) garbled = `not a tierback status feed: "${line.slice(0, 80)}"`;
        else header = v as FeedHeader;
      } else if (v.row) sink(v.row, b.server);
      else if (v.end) end = v as FeedEnd;
    }
    const r = await child;
    if (garbled) return result(false, garbled);
    if (end && r.exitCode === 0) return result(true, undefined, end);
    return result(false, sshFailureReason(stderr, r.exitCode, Boolean(r.timedOut)));
  } catch (err) {
    return result(false, (err as Error).message);
  } finally {
    await transport.cleanup();
  }
}

/**
 * Reads every backup server's feed concurrently; each row goes to `sink` with the backup server
 * whose feed carried it, as it arrives. Never throws for one backup server: its result says why.
 */
export async function gatherFeeds(site: Site, local: ReadonlySet<string>, opts: GatherOptions, sink: Sink): Promise<FeedResult[]> {
  return Promise.all(site.backupServers.map((b) => (local.has(b.server) ? localFeed(site, b, opts, sink) : sshFeed(site, b, opts, sink))));
}
