/**
 * The job runner: runs one app's job type plan into its local-tier folder, safely.
 *   lock (lockPath) -> recover a crashed swap -> history "running" -> plan -> staging folder
 *   (hidden sibling, 0700) -> steps -> carried-over dumps pruned to keepDumps -> verify ->
 *   atomic swap (target -> retired, staging -> target, retired removed) -> history final line.
 * A failed or killed run leaves the previous backup untouched and only hidden `.partial-*`
 * leftovers, removed by the next run. Library code: never prints, never exits.
 */
import { lockPath, vmHistoryDir } from '../convention.js';
import { ExitCode, INTERRUPTED_ERROR, LockedError, TierbackError, errorText } from '../errors.js';
import { exitCodeFor, type RunStatus } from '../outcome.js';
import { pruneAfterJob } from '../retention/index.js';
import { createExec, type Exec } from '../exec.js';
import { appendRecord, hostName, newRunId, type HistoryRecord } from '../history.js';
import type { ResolvedApp, Site } from '../inventory/model.js';
import { acquireLock, type Lock } from '../lock.js';
import type { Logger } from '../log.js';
import { prepareMount, refuseUnsafePaths } from './mountcheck.js';
import type { JobPlan } from './types.js';
import { processKeys } from '../runstate.js';
import { executePlan } from './execute.js';
import { measure } from './measure.js';
import { jobTarget, planJob } from './plan.js';
import { recoverSwap, removeStaleSecretDirs } from './swap.js';

export { describePlan, formatPlan, jobTarget, planJob } from './plan.js';
export { pruneDumps, recoverSwap } from './swap.js';
export { measure } from './measure.js';

/** History keeps error text to 2,000 characters. */
const errorTextCapped = (err: Error): string => errorText(err).slice(0, 2000);

export interface JobOptions {
  log: Logger;
  exec?: Exec;
  dryRun?: boolean;
  now?: () => Date;
  signal?: AbortSignal;
  /** Called with the final history record (monitoring exports). Its failures never fail the job. */
  onFinished?: (record: HistoryRecord) => Promise<void>;
  /** Called with the start record once it is in history (start pings). Its failures never fail the job. */
  onStarted?: (record: HistoryRecord) => Promise<void>;
}

export type JobStatus = 'ok' | 'warning' | 'failed' | 'locked' | 'planned';

export interface JobOutcome {
  app: string;
  status: JobStatus;
  /** The final history record (absent for dry runs and locked runs). */
  record: HistoryRecord | undefined;
  target: string;
  plan: JobPlan | undefined;
  error: Error | undefined;
}


/**
 * Runs one app's job. Job failures do not throw: they are in the outcome and in history. A held
 * lock gives status "locked" (nothing written). Throws only when the job cannot start at all
 * (unknown type, missing backup mount).
 */
export async function runJob(site: Site, app: ResolvedApp, opts: JobOptions): Promise<JobOutcome> {
  const log = opts.log.child({ app: app.name });
  const now = opts.now ?? (() => new Date());
  const target = jobTarget(app);
  if (opts.dryRun) {
    const plan = await planJob(site, app, { now });
    return { app: app.name, status: 'planned', record: undefined, target, plan, error: undefined };
  }
  const exec = opts.exec ?? createExec(log);
  // No symlink (or file) anywhere from the partition (or the VM's mount) down to the app's folder.
  const refused = await refuseUnsafePaths(site, app, target, { now, log, onFinished: opts.onFinished });
  if (refused) return refused;
  await prepareMount(app);

  let lock: Lock;
  try {
    lock = await acquireLock(lockPath(target), `app "${app.name}"`);
  } catch (err) {
    if (err instanceof LockedError) return { app: app.name, status: 'locked', record: undefined, target, plan: undefined, error: err };
    throw err;
  }

  const start = now();
  const runId = newRunId(start);
  const historyDir = vmHistoryDir(app.mount);
  const base: HistoryRecord = { run: runId, name: app.name, kind: 'job', tier: 'local', type: app.type, status: 'running', start, host: hostName(), extra: processKeys() };
  let plan: JobPlan | undefined;
  let record: HistoryRecord;
  let error: Error | undefined;
  try {
    await appendRecord(historyDir, base, site.timezone);
    await opts.onStarted?.(base).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'onStarted hook failed (the job itself is not affected)'));
    await recoverSwap(target, log);
    await removeStaleSecretDirs(app);
    plan = await planJob(site, app, { now: () => start, runId });
    const { warnings, files, bytes } = await executePlan(plan, app, exec, log, opts.signal);
    const end = now();
    record = {
      ...base,
      status: warnings.length ? 'warning' : 'ok',
      end,
      durationS: (end.getTime() - start.getTime()) / 1000,
      files,
      bytes,
      mb: bytes / 1e6,
      ...(warnings.length ? { warning: warnings.join('; ') } : {}),
      ...(Object.keys(plan.facts).length ? { extra: plan.facts } : {}),
    };
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
    const end = now();
    const m = await measure(target).catch(() => ({ files: 0, bytes: 0 }));
    record = {
      ...base,
      status: 'failed',
      end,
      durationS: (end.getTime() - start.getTime()) / 1000,
      files: m.files,
      bytes: m.bytes,
      mb: m.bytes / 1e6,
      error: opts.signal?.aborted ? INTERRUPTED_ERROR : errorTextCapped(error),
    };
    log.warn({ err: error.message }, 'job failed');
  } finally {
    await lock.release();
  }
  try {
    await appendRecord(historyDir, record, site.timezone);
  } catch (err) {
    error ??= err as Error;
    record = { ...record, status: 'failed', error: `cannot write history: ${(err as Error).message}` };
  }
  if (opts.onFinished) {
    try {
      await opts.onFinished(record);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'onFinished hook failed (the job itself is not affected)');
    }
  }
  return { app: app.name, status: record.status as JobStatus, record, target, plan, error };
}

/** Runs the jobs of several apps one after the other; one failing does not stop the others. */
export async function runJobs(site: Site, apps: readonly ResolvedApp[], opts: JobOptions): Promise<JobOutcome[]> {
  const out: JobOutcome[] = [];
  for (const app of apps) {
    if (opts.signal?.aborted) break;
    try {
      const outcome = await runJob(site, app, opts);
      out.push(outcome);
      if (!opts.dryRun && (outcome.status === 'ok' || outcome.status === 'warning')) {
        // GFS pruning of the app's dumps, when the inventory asks for it (defaults.prune.after_job).
        await pruneAfterJob(site, app, { now: (opts.now ?? (() => new Date()))(), log: opts.log, view: 'vm' }).catch((err: unknown) =>
          opts.log.warn({ app: app.name, err: (err as Error).message }, 'prune after the job failed (the backup itself is fine)'),
        );
      }
    } catch (err) {
      out.push({ app: app.name, status: 'failed', record: undefined, target: jobTarget(app), plan: undefined, error: err as Error });
    }
  }
  return out;
}


/** The exit code for a set of outcomes (lib/outcome.ts); a job refused for safety counts as refused, a dry run as ok. */
export function exitCodeOf(outcomes: readonly JobOutcome[]): number {
  return exitCodeFor(outcomes.map((o): RunStatus => (o.status === 'planned' ? 'ok' : o.status === 'failed' && o.error instanceof TierbackError && o.error.exitCode === ExitCode.REFUSED ? 'refused' : o.status)));
}
