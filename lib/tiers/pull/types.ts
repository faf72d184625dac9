/** The options and outcome of a pull (lib/tiers/pull/pull.ts). */
import type { Exec } from '../../base/exec.js';
import type { HistoryRecord } from '../../model/history.js';
import type { Logger } from '../../base/log.js';
import type { RsyncProgress, RsyncStats } from './rsync.js';

export interface PullProgress extends StreamProgress {
  server: string;
}

export interface PullOptions {
  log: Logger;
  exec?: Exec;
  /** Only these servers (must be among the backup server's pulls); default all. */
  servers?: string[];
  now?: () => Date;
  signal?: AbortSignal;
  /** Ask rsync for progress (--info=progress2) and report it through onProgress. */
  progress?: boolean;
  onProgress?: (p: PullProgress) => void;
  /** Called with each final history record (monitoring exports hook in here); its errors never fail the pull. */
  onFinished?: (record: HistoryRecord) => Promise<void>;
  /** Called with the start record once it is in history (start pings). Its failures never fail the pull. */
  onStarted?: (record: HistoryRecord) => Promise<void>;
  /** rsync processes at once, all pulls together (default: backup_servers[].transfers, 8). lib/tiers/pull/budget.ts. */
  transfers?: number;
  /** Servers pulled at the same time (default: backup_servers[].concurrency, else transfers; never more than transfers). */
  concurrency?: number;
  /** Retries after a connection-type failure (default 2), with exponential backoff from retryDelayMs (default 10 s). */
  retries?: number;
  retryDelayMs?: number;
  /** SSH ConnectTimeout in seconds (default 30). */
  connectTimeoutS?: number;
  /** rsync --timeout (I/O inactivity) in seconds (default: the backup server's timeout). */
  ioTimeoutS?: number;
  /**
   * rsync processes per server (default backup_servers[].streams, "auto": from the budget and the
   * files of the server's last pull, lib/tiers/pull/budget.ts): above 1, the top level of the source
   * is copied first, then each top-level folder by its own rsync (all with --link-dest), at most this
   * many at a time. 1 = one rsync for the whole tree. See docs/remote.md for the measurements.
   */
  streams?: number | 'auto';
  /** Copies of an app tried again when its job replaced it during the copy (default 2; lib/tiers/pull/consistency.ts). */
  recopies?: number;
  /** Walk everything and check the change lists (`pull --full`); `changeLists: false` never uses them. docs/remote.md#change-lists. */
  full?: boolean;
  changeLists?: boolean;
}

/** rsync processes per server pull, chosen by measurement (bench/pull-results-100000.txt). */
export { DEFAULT_PULL_STREAMS } from './plan.js';

/** One update of a pull's copy; totalsKnown: every stream has reported its file total (lib/base/progress.ts). */
export type StreamProgress = RsyncProgress & { totalsKnown?: boolean | undefined };

export interface PullOutcome {
  server: string;
  status: 'ok' | 'warning' | 'failed' | 'locked';
  /** The new current snapshot's stamp (ok/warning). */
  snapshot?: string | undefined;
  /** The snapshot that stays current after a failure. */
  kept?: string | undefined;
  stats?: RsyncStats | undefined;
  durationS: number;
  attempts: number;
  /** The `.partial` stamp this run resumed, if any. */
  resumed?: string | undefined;
  error?: string | undefined;
  warning?: string | undefined;
  /** Apps copied again because their jobs replaced them during the copy; apps whose previous copy was kept instead. */
  recopiedApps?: string[] | undefined;
  keptApps?: string[] | undefined;
  /** How change lists were used ("used", "full: <why>"; undefined when not at all); entries a full pull found the lists missed. */
  lists?: string | undefined;
  listMissed?: number | undefined;
  historyFile?: string | undefined;
}
