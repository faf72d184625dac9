/**
 * The site feed: what one backup server answers about itself (`tierback status --feed`), as JSON
 * lines, streamed as the rows are made. Read-only and free of secrets: history facts only.
 *
 *   {"feed":"tierback-status","v":1,"site":..,"host":..,"backupServers":[..],"generatedAt":..}
 *   {"row":{...StatusRow}}            one per row: remote and offsite rows, and local rows seen in snapshots
 *   {"end":true,"rows":N,"counts":{..},"problems":[..first 20],"problemCount":N}
 */
import { NotFoundError } from '../../base/errors.js';
import type { Site } from '../../model/inventory/model.js';
import { siteStatus, STATES, type StatusOptions, type StatusRow } from '../status/index.js';
import type { HistoryProblem } from '../../model/history.js';
import { scanMachine } from '../../model/machine.js';

export const FEED_NAME = 'tierback-status';
export const FEED_VERSION = 1;
/** Problems (unreadable history lines) a feed lists; the rest are counted. */
const FEED_PROBLEMS = 20;

export interface FeedHeader {
  feed: typeof FEED_NAME;
  v: number;
  site: string;
  host: string;
  backupServers: string[];
  generatedAt: string;
}

export interface FeedEnd {
  end: true;
  rows: number;
  counts: Record<string, number>;
  problems: HistoryProblem[];
  problemCount: number;
}

/**
 * Makes this machine's feed: `onHeader`, then `onRow` per row as it is made, then the end. The
 * machine must hold the remote tier of a backup server (`opts.host` or detection, as `status` finds it).
 */
export async function statusFeed(site: Site, opts: StatusOptions, on: { header?: (h: FeedHeader) => void; row: (r: StatusRow) => void }): Promise<FeedEnd> {
  const now = opts.now ?? new Date();
  const view = await scanMachine(site, opts);
  if (view.backupServers.length === 0) {
    throw new NotFoundError(`this machine holds the remote tier of no backup server of ${site.file}`, 'run the feed on a backup server, or give --host BACKUP-SERVER (and --root for a sandbox)');
  }
  on.header?.({ feed: FEED_NAME, v: FEED_VERSION, site: site.name, host: view.backupServers[0]!.server, backupServers: view.backupServers.map((b) => b.server), generatedAt: now.toISOString() });
  let n = 0;
  const report = await siteStatus(site, {
    ...opts,
    now,
    tier: 'all',
    snapshotLocal: true,
    discardRows: true,
    onRow: (row: StatusRow) => {
      n++;
      on.row(row);
    },
  });
  return {
    end: true,
    rows: n,
    counts: Object.fromEntries(STATES.map((s) => [s, report.counts[s]])),
    problems: report.problems.slice(0, FEED_PROBLEMS),
    problemCount: report.problems.length,
  };
}

/** Writes the feed as JSON lines with `write` (one line per call, newline included). */
export async function writeStatusFeed(site: Site, opts: StatusOptions, write: (line: string) => void): Promise<FeedEnd> {
  const end = await statusFeed(site, opts, { header: (h) => write(`${JSON.stringify(h)}\n`), row: (row) => write(`${JSON.stringify({ row })}\n`) });
  write(`${JSON.stringify(end)}\n`);
  return end;
}
