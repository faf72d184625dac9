/**
 * The transfer budget of a backup server (docs/remote.md#transfer-budget): one limit on the rsync
 * processes it runs at once (`backup_servers[].transfers`), shared by the servers pulled at the
 * same time and the streams of each. A server's streams come from the budget when its pull starts:
 * what it can use (the files of its last pull, from the pull history; its top-level folders), its
 * share of the work still waiting, and what is free. And the bound on how long a hung source can
 * hold a slot (docs/remote.md#hung-sources).
 */
import { availableParallelism } from 'node:os';
import { serverHistoryDir } from '../../model/layout.js';
import { pullHistoryName } from '../../model/names.js';
import { listHistoryFiles, readHistoryFiles } from '../../model/history.js';
import { DEFAULT_TRANSFERS, type ResolvedBackupServer, type ResolvedPull, type Site } from '../../model/inventory/model.js';
import { UsageError } from '../../base/errors.js';

export { DEFAULT_TRANSFERS };

/**
 * Most streams "auto" gives one server: 8 measured best for one 100k-file server
 * (bench/pull-results-100000.txt), and keeps a source under sshd's default `MaxStartups 10`.
 */
export const MAX_AUTO_STREAMS = 8;
/** "auto": one stream per this many files of the last pull (below it, one rsync: each stream costs an SSH handshake). */
export const FILES_PER_STREAM = 5_000;
/**
 * "auto" on a first pull (no snapshot yet) of large files: one stream per this many cores of the
 * backup server. With no snapshot to compare against, a first pull only copies. Of large files it is
 * bound by the backup server's CPU (SSH decryption, rsync) and disk, and every stream past the cores
 * adds an SSH connection's crypto and contention; of small files it is bound by the file creations
 * and look-ups one rsync makes one after the other, which streams overlap (docs/remote.md#transfer-budget).
 */
export const CORES_PER_FIRST_PULL_STREAM = 2;
/**
 * The average file size (bytes per file, from the apps' manifests) from which a first pull counts as
 * one of large files. Measured on 2 cores, first pulls, medians of 3, 1 stream against 7: files of
 * 0 bytes 1.66x faster with 7, of 1,000 bytes about even, of 6,000 bytes 11% faster with 1, of
 * 18,000 bytes 7% faster with 1 (docs/decisions.md "A first pull's streams follow its file sizes").
 */
export const LARGE_FILE_BYTES = 1024;
/** Retries of a pull after a connection-type failure, and the wait before the first (doubling). */
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_DELAY_S = 10;
/** The most a hung source may hold a slot, all attempts and waits together. */
export const HUNG_SOURCE_LIMIT_S = 15 * 60;

/** What the pull history knows of a server's last good pull. */
export interface PullFacts {
  files: number;
  bytes: number | undefined;
}

/**
 * The files and bytes of each server's last good pull (ok or warning), from the pull history under
 * the backup server's partition: one readdir, then the newest files of each server's history only.
 */
export async function lastPullFacts(backupServer: ResolvedBackupServer, servers: readonly string[]): Promise<Map<string, PullFacts>> {
  const out = new Map<string, PullFacts>();
  const lists = await listHistoryFiles(serverHistoryDir(backupServer.partition));
  for (const server of servers) {
    const files = lists.get(pullHistoryName(server)) ?? [];
    // Newest day first, a few days back: a run of failures does not hide the last good pull.
    for (let i = files.length - 1; i >= Math.max(0, files.length - 7); i--) {
      const { runs } = await readHistoryFiles([files[i]!.path]);
      const good = runs.filter((r) => (r.status === 'ok' || r.status === 'warning') && r.files !== undefined).at(-1);
      if (good) {
        out.set(server, { files: good.files!, bytes: good.bytes });
        break;
      }
    }
  }
  return out;
}

/** The top-level folders of a server's local tier the inventory knows of: one per VM, `_host`. */
export function topFolders(site: Site, server: string): number {
  const names = new Set<string>();
  for (const a of site.apps) if (a.server === server) names.add(a.vm);
  return Math.max(1, names.size);
}

/** The settings a batch of pulls runs with: the budget, servers at once, streams per server. */
export interface BudgetSettings {
  transfers: number;
  concurrency: number;
  /** A fixed number per server, or "auto". */
  streams: number | 'auto';
}

/**
 * The settings of a run: command-line values over the inventory's. Giving both `concurrency` and
 * `streams` on the command line without `transfers` sets the budget to their product, so an
 * operator (or a benchmark) gets exactly what it asked for.
 */
export function budgetSettings(backupServer: ResolvedBackupServer, given: { transfers?: number | undefined; concurrency?: number | undefined; streams?: number | 'auto' | undefined }, inventoryConcurrency: number | undefined): BudgetSettings {
  for (const [key, v] of [['transfers', given.transfers], ['concurrency', given.concurrency], ['streams', given.streams]] as const) {
    if (v !== undefined && v !== 'auto' && !(Number.isInteger(v) && v >= 1 && v <= 64)) {
      throw new UsageError(`${key} must be a whole number from 1 to 64, not ${v}`, `e.g. --${key} 4`);
    }
  }
  const transfers =
    given.transfers ?? (given.concurrency !== undefined && typeof given.streams === 'number' ? Math.max(backupServer.transfers, given.concurrency * given.streams) : backupServer.transfers);
  const concurrency = Math.min(transfers, given.concurrency ?? inventoryConcurrency ?? transfers);
  const streams = given.streams ?? backupServer.streams;
  return { transfers, concurrency, streams: typeof streams === 'number' ? Math.min(streams, transfers) : streams };
}

/** What one server can use and how much work it is, before the budget is shared. */
export interface ServerDemand {
  server: string;
  /** Streams it can use (auto: from its files and folders; fixed: the number asked). */
  want: number;
  /** Its weight in the share of the budget: files of its last pull, or the average of the known ones. */
  work: number;
  why: string;
}

/** Each pull's demand on the budget, from the history (an estimate before the first pull); `cores`: the backup server's. */
export function demandsOf(site: Site, pulls: readonly ResolvedPull[], facts: ReadonlyMap<string, PullFacts>, settings: BudgetSettings, cores = availableParallelism()): ServerDemand[] {
  const firstPull = largeFileStreams(cores);
  const known = [...facts.values()].map((f) => f.files);
  const typical = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : FILES_PER_STREAM;
  return pulls.map((p) => {
    const f = facts.get(p.server);
    const folders = topFolders(site, p.server);
    const work = Math.max(1, f?.files ?? typical);
    if (settings.streams !== 'auto') return { server: p.server, want: settings.streams, work, why: 'streams set' };
    if (!f) {
      const fewer = firstPull < Math.min(MAX_AUTO_STREAMS, folders) ? `; ${firstPull} if its files average ${LARGE_FILE_BYTES / 1024} KiB or more (${cores} core${cores === 1 ? '' : 's'})` : '';
      return { server: p.server, want: Math.min(MAX_AUTO_STREAMS, folders), work, why: `first pull: ${folders} top-level folder${folders === 1 ? '' : 's'}${fewer}` };
    }
    const byFiles = Math.ceil(f.files / FILES_PER_STREAM);
    return { server: p.server, want: Math.max(1, Math.min(MAX_AUTO_STREAMS, folders, byFiles)), work, why: `last pull: ${f.files} files, ${folders} top-level folder${folders === 1 ? '' : 's'}` };
  });
}

/** The streams of a first pull of large files: one per 2 cores, at least one. */
export function largeFileStreams(cores: number): number {
  return Math.max(1, Math.floor(cores / CORES_PER_FIRST_PULL_STREAM));
}

/** What the jobs of a server wrote, by its apps' manifests (`apps`: how many gave their totals). */
export interface WrittenTotals {
  files: number;
  bytes: number;
  apps: number;
}

/**
 * The streams of a first pull (no snapshot yet, streams "auto") once its apps' manifests are read:
 * the `granted` ones (one per top-level folder) when its files are small or unknown, else one per
 * 2 cores of the backup server (at most `granted`). Every job's manifest gives the files and bytes it
 * wrote, so the choice costs nothing: the pull reads the manifests before every copy anyway.
 */
export function firstPullStreams(granted: number, totals: WrittenTotals, cores = availableParallelism()): { streams: number; why: string } {
  if (totals.apps === 0 || totals.files === 0) return { streams: granted, why: 'first pull, no manifest gives its files: one stream per top-level folder' };
  const average = totals.bytes / totals.files;
  const size = `${totals.files} files of ${(average / 1024).toFixed(1)} KiB on average`;
  if (average < LARGE_FILE_BYTES) return { streams: granted, why: `first pull of small files (${size}): one stream per top-level folder` };
  return { streams: Math.min(granted, largeFileStreams(cores)), why: `first pull of large files (${size}): one stream per ${CORES_PER_FIRST_PULL_STREAM} of ${cores} cores` };
}

/**
 * Streams of a server whose pull starts now: what it can use, capped by its share of the budget
 * (its part of the work still waiting, this one included; fixed streams are not shared down) and
 * by the slots free. Never below 1: a pull starts only when a slot is free.
 */
export function streamsAtStart(d: ServerDemand, waitingWork: number, settings: BudgetSettings, free: number): number {
  const share = settings.streams === 'auto' ? Math.max(1, Math.floor((settings.transfers * d.work) / Math.max(d.work, waitingWork))) : d.want;
  return Math.max(1, Math.min(d.want, share, free));
}

/** The settings a hung source's time is bounded by. */
export interface HungSettings {
  /** rsync --timeout: seconds without a byte before an attempt fails. */
  ioTimeoutS: number;
  /** ssh ConnectTimeout (connection and SSH handshake). */
  connectTimeoutS: number;
  retries: number;
  retryDelayS: number;
}

/**
 * The longest a source that stops answering holds a slot: every attempt waits at most the connect
 * timeout, then at most the I/O timeout without a byte; between attempts, the backoff waits
 * (delay, 2 x delay, ...). Defaults: 3 x (30 + 240) + 10 + 20 = 840 s = 14 min.
 */
export function hungSourceBoundS(s: HungSettings): number {
  let waits = 0;
  for (let k = 0; k < s.retries; k++) waits += s.retryDelayS * 2 ** k;
  return (s.retries + 1) * (s.connectTimeoutS + s.ioTimeoutS) + waits;
}
