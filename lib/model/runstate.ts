/**
 * One rule for a run whose start line has no final line: still running, or interrupted (read back
 * as failed). Used by history, status, retention's grace and the monitoring exports alike
 * (docs/convention.md#running-or-interrupted).
 *
 * - A start line names its process (`pid`, `pid_start`, `pid_host`). Read on that host, the run is
 *   running exactly while that process lives (a reused pid does not count: its start time differs).
 * - Read anywhere else (a copy pulled to a backup server, a history written elsewhere), the process
 *   cannot be checked: the run counts as running while its start is younger than RUNNING_WINDOW_MS,
 *   interrupted after. An older start line without pid keys (written before they existed) follows
 *   the same window, or, when the caller knows it, the liveness of the lock the run holds.
 */
import os from 'node:os';
import type { HistoryRecord } from './history.js';
import { isAlive, processStartTime } from '../base/lock.js';

/** A start line whose process cannot be checked counts as running for this long after its start. */
export const RUNNING_WINDOW_MS = 24 * 3_600_000;

/** The keys a start line carries to name its process: `pid`, `pid_start` (kernel start time), `pid_host`. */
export function processKeys(): Record<string, string> {
  return { pid: String(process.pid), pid_start: processStartTime(process.pid) ?? '-', pid_host: os.hostname() };
}

export type Liveness = 'alive' | 'gone' | 'unknown';

/** Whether the process named by a start line lives: `unknown` when the line has no pid or was written on another host. */
export function processLiveness(r: HistoryRecord): Liveness {
  const pid = Number(r.extra?.['pid']);
  const host = r.extra?.['pid_host'];
  if (!Number.isInteger(pid) || pid <= 0 || !host || host !== os.hostname()) return 'unknown';
  const start = r.extra?.['pid_start'];
  return isAlive(pid, start === undefined || start === '-' ? undefined : start) ? 'alive' : 'gone';
}

export interface RunningRule {
  now: Date;
  /** Window for start lines whose process cannot be checked (default RUNNING_WINDOW_MS). */
  windowMs?: number | undefined;
  /** For start lines without pid keys: whether the lock of the run's app/server is held by a live process. */
  lockAlive?: boolean | undefined;
}

/** True when a start line without a final line is a run in progress, false when it was interrupted. */
export function isStillRunning(r: HistoryRecord, rule: RunningRule): boolean {
  const live = processLiveness(r);
  if (live !== 'unknown') return live === 'alive';
  const age = rule.now.getTime() - r.start.getTime();
  const young = age < (rule.windowMs ?? RUNNING_WINDOW_MS);
  if (rule.lockAlive !== undefined && r.extra?.['pid'] === undefined) return rule.lockAlive && young;
  return young;
}

/** The rule as the `isRunning` callback of readHistory / readHistoryFiles. */
export function runningRule(rule: RunningRule): (r: HistoryRecord) => boolean {
  return (r) => isStillRunning(r, rule);
}
