/**
 * The one status union of runs and the one rule from the outcomes of a run's items (the apps of
 * `job --all`, the servers of `pull`, the drills of `verify`, the copies of `offsite`, the checks
 * of `ssh check`) to the run's exit code (docs/exit-codes.md, "Runs of several items"). Every
 * command hands its outcomes to exitCodeFor; no other function turns outcomes into exit codes.
 */
import { ExitCode, TierbackError, type ExitCodeValue } from '../base/errors.js';

/** How a recorded run ended: the status of its final history line. */
export type FinalStatus = 'ok' | 'warning' | 'failed';

/** The outcome of one item of a run, as far as the exit code is concerned. */
export type RunStatus = FinalStatus | 'locked' | 'refused';

/** Statuses of items that did not run: a dry run's plan (counts as ok) and a drill with nothing to drill (counts as failed). */
export type NotRunStatus = 'planned' | 'skipped';

/** An item's outcome: its status, and its error (a failure whose error is a refusal for safety counts as refused). */
export interface RunItem {
  status: RunStatus | NotRunStatus;
  error?: unknown;
}

/** The status an item counts as for the exit code. */
export function runStatusOf(item: RunItem | RunStatus | NotRunStatus): RunStatus {
  const o = typeof item === 'string' ? { status: item } : item;
  if (o.status === 'planned') return 'ok';
  if (o.status === 'skipped') return 'failed';
  if (o.status === 'failed' && o.error instanceof TierbackError && o.error.exitCode === ExitCode.REFUSED) return 'refused';
  return o.status;
}

const isBad = (s: RunStatus) => s === 'failed' || s === 'locked' || s === 'refused';

/**
 * 0 when no item failed (warnings are successes; no items at all is a success too, unless `empty`
 * says otherwise); 5 when some, not all, failed, were locked or were refused; when every item did:
 * 4 if all were locked, 6 if all were refused, else 1.
 */
export function exitCodeFor(items: readonly (RunItem | RunStatus | NotRunStatus)[], opts: { empty?: ExitCodeValue } = {}): ExitCodeValue {
  if (items.length === 0 && opts.empty !== undefined) return opts.empty;
  const statuses = items.map(runStatusOf);
  const bad = statuses.filter(isBad);
  if (bad.length === 0) return ExitCode.OK;
  if (bad.length < statuses.length) return ExitCode.PARTIAL;
  if (bad.every((s) => s === 'locked')) return ExitCode.LOCKED;
  if (bad.every((s) => s === 'refused')) return ExitCode.REFUSED;
  return ExitCode.FAILED;
}
