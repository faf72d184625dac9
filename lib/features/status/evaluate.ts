/** The state of one app on one tier (OK, STALE, SHRUNK, OVERDUE, FAILED, MISSING) from what its history says. Pure. */
import { formatDuration } from '../../base/duration.js';
import type { Run } from '../../model/history.js';
import type { AppState } from './index.js';

/** What status needs of an app's runs: the newest run and the two newest successes. */
export interface RunFacts {
  last?: Run | undefined;
  /** The newest run that is not in progress. */
  lastFinished?: Run | undefined;
  lastSuccess?: Run | undefined;
  previousSuccess?: Run | undefined;
  runs: number;
}

export interface Thresholds {
  staleAfterMs: number;
  shrinkThreshold: number;
}

export interface Evaluation {
  state: AppState;
  reason: string;
  deltaFiles?: number | undefined;
  deltaMb?: number | undefined;
  deltaPct?: number | undefined;
}

/** Pure: the state of one app on one tier, given what its history says. */
export function evaluate(facts: RunFacts, successAt: Date | undefined, now: Date, t: Thresholds): Evaluation {
  const { lastSuccess: ok, previousSuccess: prev } = facts;
  const last = facts.lastFinished ?? facts.last;
  const delta: Omit<Evaluation, 'state' | 'reason'> = {};
  if (ok && prev) {
    if (ok.files !== undefined && prev.files !== undefined) delta.deltaFiles = ok.files - prev.files;
    if (ok.mb !== undefined && prev.mb !== undefined) {
      delta.deltaMb = Math.round((ok.mb - prev.mb) * 1000) / 1000;
      if (prev.mb > 0) delta.deltaPct = Math.round(((ok.mb - prev.mb) / prev.mb) * 1000) / 10;
    }
  }
  if (!last) return { state: 'MISSING', reason: 'no backup has ever run', ...delta };
  if (last.status === 'running') return { state: 'MISSING', reason: 'the first backup is running', ...delta };
  if (!ok || !successAt) return { state: 'FAILED', reason: `never succeeded; last run ${last.status}${last.error ? `: ${last.error}` : ''}`, ...delta };
  if (last !== ok && last.status === 'failed') return { state: 'FAILED', reason: `last run failed: ${last.error ?? 'no error recorded'}`, ...delta };
  const age = now.getTime() - successAt.getTime();
  if (age > t.staleAfterMs) return { state: 'STALE', reason: `last success ${formatDuration(age)} ago (stale after ${formatDuration(t.staleAfterMs)})`, ...delta };
  if (delta.deltaPct !== undefined && -delta.deltaPct > t.shrinkThreshold) {
    return { state: 'SHRUNK', reason: `lost ${-delta.deltaPct}% of its size since the previous run (threshold ${t.shrinkThreshold}%)`, ...delta };
  }
  if (ok.status === 'warning') return { state: 'OK', reason: `ok with a warning: ${ok.warning ?? ''}`.trim(), ...delta };
  return { state: 'OK', reason: 'ok', ...delta };
}
