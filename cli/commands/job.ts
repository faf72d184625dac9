/** `tierback job APP...` / `tierback job --all [--vm NAME]`: run application backup jobs (what crontabs call). */
import type { CommandModule } from 'yargs';
import { ExitCode, TierbackError } from '../../lib/base/errors.js';
import { formatDuration } from '../../lib/base/duration.js';
import { monitorHooks } from '../../lib/features/monitor/index.js';
import { describePlan, formatPlan, runJobs } from '../../lib/tiers/jobs/run.js';
import { formatJobProgress, type JobProgress } from '../../lib/tiers/jobs/progress.js';
import { exitCodeFor } from '../../lib/model/outcome.js';
import { selectApps } from '../../lib/tiers/jobs/select.js';
import { EXIT_CODES_EPILOG, clockOf, nowOf, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { interruptSignal } from '../lifecycle.js';
import { dryRunOption, jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  apps: string[];
  all?: boolean;
  vm?: string;
  'dry-run'?: boolean;
  json?: boolean;
  progress?: boolean;
}

/** The progress line on stderr, redrawn at most 4 times a second (a new step at once). */
function drawJobProgress(): (p: JobProgress) => void {
  let last = 0;
  let step = 0;
  return (p) => {
    const t = Date.now();
    if (t - last < 250 && p.step === step) return;
    last = t;
    step = p.step;
    process.stderr.write(`\r\x1b[K${formatJobProgress(p)}`);
  };
}

export const jobCommand: CommandModule<GlobalArgs, Args> = {
  command: 'job [apps..]',
  describe: 'Back up applications into their local-tier folders (run from each VM\'s crontab)',
  builder: (y) =>
    y
      .positional('apps', { type: 'string', array: true, default: [], describe: 'App names from the inventory' })
      .option('all', { type: 'boolean', describe: 'Every active app of this VM (--vm, else $TIERBACK_VM, else the hostname)' })
      .option('vm', { type: 'string', describe: 'This VM\'s name (or a server fqdn for apps running directly on it)' })
      .option('dry-run', dryRunOption('Print the plan (commands as argv, sources, target) and do nothing'))
      .option('json', jsonOption('Outcomes (or plans with --dry-run) as JSON'))
      .option('progress', { type: 'boolean', describe: 'Show the step, files, MB and rate while a job runs (default: on when stderr is a terminal; cron output is unchanged)' })
      .example('$0 job hydro', 'back up the Hydro demo')
      .example('$0 job --all --vm web', 'every active app of VM web (crontab: 30 1 * * * tierback job --all)')
      .example('$0 job hydro --dry-run', 'show what would run')
      .epilog(`Each run writes <mount>/<relpath>/ atomically and appends to <mount>/_history/backup-<app>-<yyyymmdd>.\nJob types: docs/jobs/.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const apps = selectApps(site, { names: argv.apps, all: argv.all, vm: argv.vm, env: process.env });
    const signal = interruptSignal();
    const dryRun = argv['dry-run'] ?? false;
    const { done, ...hooks } = dryRun ? {} : monitorHooks(site, { log, ...nowOf(argv) });
    const progress = !dryRun && (argv.progress ?? (Boolean(process.stderr.isTTY) && !argv.json));
    const outcomes = await runJobs(site, apps, { log, dryRun, signal, ...clockOf(argv), ...hooks, ...(progress ? { onProgress: drawJobProgress() } : {}) }).finally(() => {
      if (progress) process.stderr.write('\r\x1b[K');
    });
    await done?.();
    if (argv.json) {
      printJson(
        outcomes.map((o) => ({
          app: o.app,
          status: o.status,
          target: o.target,
          ...(o.record ? { record: o.record } : {}),
          ...(o.plan && argv['dry-run'] ? { plan: describePlan(o.plan) } : {}),
          ...(o.error ? { error: o.error.message } : {}),
        })),
      );
    } else {
      if (apps.length === 0) out('no active apps for this VM');
      for (const o of outcomes) {
        if (o.status === 'planned' && o.plan) out(formatPlan(o.plan));
        else if (o.error instanceof TierbackError && o.error.exitCode === ExitCode.REFUSED) out(`${o.app}: refused (nothing written) -> ${o.target}`);
        else if (o.record) {
          const r = o.record;
          out(`${o.app}: ${r.status} — ${r.files ?? 0} files, ${(r.mb ?? 0).toFixed(1)} MB in ${formatDuration((r.durationS ?? 0) * 1000)} -> ${o.target}${r.warning ? `\n  warning: ${r.warning}` : ''}`);
        } else out(`${o.app}: ${o.status}`);
        if (o.error) process.stderr.write(`${o.app}: error: ${o.error.message}${'hint' in o.error && o.error.hint ? `\nhint: ${String(o.error.hint)}` : ''}\n`);
      }
    }
    return exitCodeFor(outcomes);
  }),
};
