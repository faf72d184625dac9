/**
 * The job runner: runs one app's job type plan into its local-tier folder, safely.
 *   refuse unsafe paths -> [recordRun: lock -> history "running" -> recover a crashed swap -> plan ->
 *   staging folder (hidden sibling, 0700) -> steps -> carried-over dumps pruned to keepDumps ->
 *   verify -> atomic swap (target -> retired, staging -> target, retired removed) -> history final
 *   line -> unlock] (lib/model/run-record.ts, lib/tiers/jobs/execute.ts).
 * A failed or killed run leaves the previous backup untouched and only hidden `.partial-*`
 * leftovers, removed by the next run. Library code: never prints, never exits.
 */
import { lockPath, vmHistoryDir } from '../../model/convention.js';
import type { RunStatus } from '../../model/outcome.js';
import { pruneAfterJob } from '../retention/index.js';
import { createExec, type Exec } from '../../base/exec.js';
import { hostName, newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { recordRun } from '../../model/run-record.js';
import type { Logger } from '../../base/log.js';
import { prepareMount, refuseUnsafePaths } from './mountcheck.js';
import type { JobPlan } from './types.js';
import { processKeys } from '../../model/runstate.js';
import { watchJob, type JobProgress } from './progress.js';
import { executePlan } from './execute.js';
import { measure } from './measure.js';
import { jobTarget, planJob } from './plan.js';
import { recoverSwap, removeStaleSecretDirs } from './swap.js';

export { describePlan, formatPlan, jobTarget, planJob } from './plan.js';
export { trimDumps, recoverSwap } from './swap.js';
export { measure } from './measure.js';

export interface JobOptions {
  log: Logger;
  exec?: Exec;
  dryRun?: boolean;
  /** Progress while a job runs (a terminal's progress line; lib/tiers/jobs/progress.ts). */
  onProgress?: ((p: JobProgress) => void) | undefined;
  now?: () => Date;
  signal?: AbortSignal;
  /** Called with the final history record (monitoring exports). Its failures never fail the job. */
  onFinished?: (record: HistoryRecord) => Promise<void>;
  /** Called with the start record once it is in history (start pings). Its failures never fail the job. */
  onStarted?: (record: HistoryRecord) => Promise<void>;
}

/** A job's status (lib/model/outcome.ts): a recorded run's, `locked`, or `planned` for a dry run. */
export type JobStatus = Exclude<RunStatus, 'refused'> | 'planned';

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

  const start = now();
  const runId = newRunId(start);
  const base: HistoryRecord = { run: runId, name: app.name, kind: 'job', tier: 'local', type: app.type, status: 'running', start, host: hostName(), extra: processKeys() };
  let plan: JobPlan | undefined;
  const r = await recordRun(
    {
      base,
      historyDir: vmHistoryDir(app.mount),
      timezone: site.timezone,
      lock: { path: lockPath(target), what: `app "${app.name}"` },
      log,
      what: 'job',
      signal: opts.signal,
      end: now,
      onStarted: opts.onStarted,
      onFinished: opts.onFinished,
      onError: async () => {
        const m = await measure(target).catch(() => ({ files: 0, bytes: 0 }));
        return { files: m.files, bytes: m.bytes, mb: m.bytes / 1e6 };
      },
    },
    async () => {
      await recoverSwap(target, log);
      await removeStaleSecretDirs(app);
      plan = await planJob(site, app, { now: () => start, runId });
      const watch = watchJob(app.name, plan.staging, plan.steps.length, opts.onProgress); // lib/tiers/jobs/progress.ts: a terminal's progress line
      const { warnings, files, bytes } = await executePlan(plan, app, exec, log, opts.signal, watch.step).finally(() => watch.stop());
      const fields = {
        files,
        bytes,
        mb: bytes / 1e6,
        ...(warnings.length ? { warning: warnings.join('; ') } : {}),
        ...(Object.keys(plan.facts).length ? { extra: plan.facts } : {}),
      };
      return { status: warnings.length ? 'warning' : 'ok', fields, value: undefined };
    },
  );
  return { app: app.name, status: r.status, record: r.record, target, plan, error: r.error };
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


