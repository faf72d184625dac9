/** What a prune did (or, in a dry run, would do), as data: the CLI prints it, callers inspect it. */
import type { Retention } from '../../model/inventory/schema.js';

export interface PruneEntry {
  /** Snapshot stamp, or `<db>-<stamp>` for a dump. */
  id: string;
  at?: Date | undefined;
  /** Paths that make up the backup (one snapshot folder, or the files of one dump). */
  paths: string[];
  /** Why it is kept / removed / skipped. */
  reasons: string[];
}

export interface PruneResult {
  tier: 'remote' | 'local';
  /** The machine holding the backups: the backup server (remote) or the app's server (local). */
  host: string;
  /** The pulled server (remote), or `<app>/<db>` (local). */
  subject: string;
  /** The folder pruned. */
  dir: string;
  policy: Retention;
  /** Inventory path the policy comes from. */
  policySource: string;
  timeZone: string;
  now: Date;
  dryRun: boolean;
  /** Set when the grace rule (or another safety rule) held the whole prune: nothing was removed. */
  held: string | undefined;
  kept: PruneEntry[];
  /** Removed (dry run: would be removed). */
  removed: PruneEntry[];
  /** Present but never considered: snapshots being written, stray names, symlinks. */
  skipped: PruneEntry[];
  /** Deletions cut short by an earlier prune and finished now (dry run: would be finished). */
  finished: string[];
  /** Removals that failed (the backup stays, or stays hidden as .deleting, and is retried next time). */
  errors: string[];
  /** History file the prune was recorded in (not in dry runs). */
  historyFile?: string | undefined;
}

/** What a prune starts from: where, under which policy, and what it skips from the outset. */
export type PruneStart = Pick<PruneResult, 'tier' | 'host' | 'subject' | 'dir' | 'policy' | 'policySource' | 'timeZone' | 'now' | 'dryRun' | 'held'> &
  Partial<Pick<PruneResult, 'skipped' | 'historyFile'>>;

/** A prune's result before anything is decided: nothing kept, removed, finished or failed yet. */
export function startPruneResult(s: PruneStart): PruneResult {
  const { skipped = [], historyFile, ...head } = s;
  return { ...head, kept: [], removed: [], skipped, finished: [], errors: [], ...('historyFile' in s ? { historyFile } : {}) };
}
