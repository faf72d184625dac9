/** The grace rule: prune removes nothing while the newest run has been failing for longer than the grace. */
import { formatDuration } from '../../base/duration.js';
import { readHistory, type Run } from '../../model/history.js';
import { runningRule } from '../../model/runstate.js';

export { RUNNING_WINDOW_MS } from '../../model/runstate.js';

export interface GraceCheck {
  /** Why nothing may be removed; undefined when pruning may go on. */
  hold: string | undefined;
  /** Newest finished (or interrupted) run considered. */
  newest: Run | undefined;
  /** Newest successful run. */
  lastSuccess: Run | undefined;
}

/**
 * Reads the history `name` in `dir` (runs of `kind`) and decides whether the grace rule holds pruning.
 * In-progress runs (lib/model/runstate.ts: process alive, or younger than RUNNING_WINDOW_MS where it cannot be checked) are ignored; interrupted ones count as failed.
 */
export async function checkGrace(dir: string, name: string, kind: string, now: Date, graceMs: number, what: string): Promise<GraceCheck> {
  const { runs } = await readHistory(dir, { name, isRunning: runningRule({ now }) });
  const done = runs.filter((r) => r.kind === kind && r.status !== 'running' && r.start.getTime() <= now.getTime());
  const newest = done[done.length - 1];
  let lastSuccessIndex = -1;
  for (let i = done.length - 1; i >= 0; i--) {
    if (done[i]!.status === 'ok' || done[i]!.status === 'warning') {
      lastSuccessIndex = i;
      break;
    }
  }
  const lastSuccess = lastSuccessIndex >= 0 ? done[lastSuccessIndex] : undefined;
  if (!newest || newest.status !== 'failed') return { hold: undefined, newest, lastSuccess };
  const firstFailure = done[lastSuccessIndex + 1]!;
  const failingMs = now.getTime() - firstFailure.start.getTime();
  if (failingMs <= graceMs) return { hold: undefined, newest, lastSuccess };
  const since = lastSuccess ? `last success ${lastSuccess.start.toISOString()}` : 'no successful run in the history';
  return {
    hold:
      `the newest ${what} (run ${newest.run}, ${newest.start.toISOString()}) failed${newest.error ? `: ${newest.error}` : ''}; ` +
      `failing for ${formatDuration(failingMs)} (${since}), beyond the grace of ${formatDuration(graceMs)}: nothing is removed until a ${what} succeeds`,
    newest,
    lastSuccess,
  };
}
