/**
 * One rule from the outcomes of a run's items (the apps of `job --all`, the servers of `pull`, the
 * drills of `verify`, the copies of `offsite`, the checks of `ssh check`) to the run's exit code
 * (docs/exit-codes.md, "Runs of several items"). Each command maps its own outcomes to these
 * statuses; the rule is here alone.
 */
import { ExitCode, type ExitCodeValue } from './errors.js';

/** The outcome of one item of a run, as far as the exit code is concerned. */
export type RunStatus = 'ok' | 'warning' | 'failed' | 'locked' | 'refused';

const isBad = (s: RunStatus) => s === 'failed' || s === 'locked' || s === 'refused';

/**
 * 0 when no item failed (warnings are successes; no items at all is a success too); 5 when some,
 * not all, failed, were locked or were refused; when every item did: 4 if all were locked, 6 if
 * all were refused, else 1.
 */
export function exitCodeFor(statuses: readonly RunStatus[]): ExitCodeValue {
  const bad = statuses.filter(isBad);
  if (bad.length === 0) return ExitCode.OK;
  if (bad.length < statuses.length) return ExitCode.PARTIAL;
  if (bad.every((s) => s === 'locked')) return ExitCode.LOCKED;
  if (bad.every((s) => s === 'refused')) return ExitCode.REFUSED;
  return ExitCode.FAILED;
}
