/** `tierback schedule [HOST]`: crontab lines or systemd timers for one host, from the inventory. */
import type { CommandModule } from 'yargs';
import { createExec } from '../../lib/base/exec.js';
import { planSchedule, resolveScheduleHost, scheduleSettings, type ScheduleFormat } from '../../lib/features/schedule/index.js';
import { recentJobDurations } from '../../lib/features/schedule/durations.js';
import { clockOf as minuteClock, describeLate, layoutServerJobs } from '../../lib/features/schedule/fit.js';
import { installSchedule } from '../../lib/features/schedule/install.js';
import { renderCron, renderSystemd } from '../../lib/features/schedule/render.js';
import { ensureVmFolders } from '../../lib/tiers/jobs/vmfolders.js';
import { EXIT_CODES_EPILOG, nowOf, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { ExitCode } from '../../lib/base/errors.js';
import { dryRunOption, jsonOption, rootOption } from '../options.js';

interface Args extends GlobalArgs {
  host?: string;
  format: ScheduleFormat;
  install?: boolean;
  'dry-run'?: boolean;
  root?: string;
  activate?: boolean;
  json?: boolean;
  check?: boolean;
  force?: boolean;
}

export const scheduleCommand: CommandModule<GlobalArgs, Args> = {
  command: 'schedule [host]',
  describe: 'Crontab lines or systemd timers for a host: app jobs on a VM; pulls, prunes, drills, offsite pushes, status exports on servers',
  builder: (y) =>
    y
      .positional('host', { type: 'string', describe: 'VM name or server fqdn (default: this machine\'s host name)' })
      .option('format', { choices: ['cron', 'systemd'] as const, default: 'cron' as const, describe: 'cron.d file or systemd service+timer units' })
      .option('dry-run', dryRunOption('With --install: print the files it would write, leave or remove, the folders it would create and the commands it would run, and do none of it'))
      .option('install', { type: 'boolean', describe: 'Write /etc/cron.d/tierback or /etc/systemd/system/tierback-*.{service,timer} (idempotent); on a server, also create <partition>/local/<vm> (0700) for each of its VMs' })
      .option('root', rootOption('Install below this folder instead of / (for tests and images; $TIERBACK_ROOT)'))
      .option('force', { type: 'boolean', describe: 'With --install: replace files edited by hand since tierback installed them (default: keep them, warn, exit 5)' })
      .option('activate', { type: 'boolean', describe: 'systemd: daemon-reload and enable --now the timers (default: when --root is /)' })
      .option('json', jsonOption('The plan as JSON'))
      .option('check', { type: 'boolean', describe: 'Say which app jobs of the host\'s server will not end before its first pull, and by how much (exit 1 if any)' })
      .example('$0 schedule web', 'the cron.d lines of the app jobs of VM web')
      .example('$0 schedule odin.softxs.ch --format systemd', 'pull, prune, drill, offsite push and status timers of a backup server')
      .example('$0 schedule --install --dry-run', 'what --install would write, remove and run; nothing done')
      .example('$0 schedule --install', 'install the schedule of this machine into /etc/cron.d/tierback')
      .example('$0 schedule zg-3.softxs.ch --check', 'which app jobs of server zg-3 will not be done before its pull')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site, log) => {
    const host = resolveScheduleHost(site, argv.host).server;
    // Job durations from the history visible here (the server, or a backup server that pulls it).
    const durations = await recentJobDurations(site, host, nowOf(argv));
    const plan = planSchedule(site, argv.host, durations);
    if (argv.check) {
      const layout = layoutServerJobs(site, plan.server, scheduleSettings(site), durations);
      const estimated = [...layout.slots.values()].filter((s) => s.durationSource === 'estimate').length;
      if (argv.json) {
        printJson({ server: plan.server, pull: layout.pull, lanes: layout.lanes, slots: [...layout.slots.values()], late: layout.late });
        return layout.late.length > 0 ? ExitCode.FAILED : ExitCode.OK;
      }
      for (const l of layout.late) out(`LATE ${describeLate(l, layout.slots.get(l.app))}`);
      const pull = layout.pull ? `the pull at ${minuteClock(layout.pull.minute)} by ${layout.pull.backupServer}` : 'a pull (none at a fixed time)';
      out(
        `${layout.slots.size - layout.late.length} of ${layout.slots.size} app job(s) of ${plan.server} end before ${pull}` +
          `${layout.lanes > 1 ? `, ${layout.lanes} side by side` : ''}; ${estimated} duration(s) estimated (no history seen here)`,
      );
      return layout.late.length > 0 ? ExitCode.FAILED : ExitCode.OK;
    }
    if (argv.install) {
      const dryRun = argv['dry-run'] ?? false;
      const r = await installSchedule(plan, site, {
        format: argv.format,
        root: argv.root ?? '/',
        ...(argv.activate !== undefined ? { activate: argv.activate } : {}),
        exec: createExec(log),
        dryRun,
        ...(argv.force ? { force: true } : {}),
      });
      // A file edited by hand is kept, never overwritten silently (docs/operate.md#hand-edits).
      for (const f of r.kept) {
        log.warn({ file: f }, `${f} was edited by hand since tierback installed it: kept as it is, not ${dryRun ? 'to be ' : ''}replaced. Put the change in the inventory (pull settings: backup_servers[].transfers, streams, concurrency, timeout are read by each run), then run schedule --install --force`);
      }
      // A server also gets the <partition>/local/<vm> folders its VMs mount (0700).
      const vmFolders = plan.kind === 'server' ? await ensureVmFolders(site, plan.host, argv.root ?? '/', { dryRun }) : undefined;
      if (argv.json) {
        printJson({ plan, dryRun, ...r, ...(vmFolders ? { vmFolders } : {}) });
        return r.kept.length > 0 ? ExitCode.PARTIAL : ExitCode.OK;
      }
      const w = (done: string, would: string) => (dryRun ? would : done);
      if (dryRun) out('dry run: nothing is written, removed or run');
      for (const f of vmFolders?.created ?? []) out(`${w('created  ', 'would create')} ${f}/ (0700, for its VM to mount)`);
      for (const p of vmFolders?.problems ?? []) out(`problem   ${p.path}: ${p.message}`);
      for (const f of r.written) out(`${w('written  ', 'would write')} ${f}`);
      for (const f of r.unchanged) out(`unchanged ${f}`);
      for (const f of r.removed) out(`${w('removed  ', 'would remove')} ${f}`);
      for (const f of r.kept) out(`${w('kept     ', 'would keep')} ${f} (edited by hand: --force replaces it)`);
      for (const a of r.activated) out(`${w('ran      ', 'would run')} ${a.join(' ')}`);
      out(`${plan.entries.length} scheduled command(s) for ${plan.kind} ${plan.host}; logs in ${r.logDir}`);
      return r.kept.length > 0 ? ExitCode.PARTIAL : ExitCode.OK;
    }
    if (argv.json) {
      printJson(argv.format === 'systemd' ? { plan, units: renderSystemd(plan, site) } : { plan, cron: renderCron(plan, site) });
      return ExitCode.OK;
    }
    if (argv.format === 'cron') {
      out(renderCron(plan, site));
      return ExitCode.OK;
    }
    for (const u of renderSystemd(plan, site)) out(`### ${u.name}\n${u.content}`);
    return ExitCode.OK;
  }),
};
