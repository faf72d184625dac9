/** `tierback status`: one row per app per tier, red/green at a glance; `--check` for Nagios/Icinga. */
import type { CommandModule } from 'yargs';
import { formatDuration, formatLocalTime } from '../../lib/base/duration.js';
import { ExitCode, formatError, UsageError } from '../../lib/base/errors.js';
import { checkResult, CheckCode, siteStatus, type StatusReport, type StatusRow, type TierFilter } from '../../lib/features/status/index.js';
import type { Site } from '../../lib/model/inventory/model.js';
import { EXIT_CODES_EPILOG, loadSite, makeLogger, nowOf, out, printJson, table, type GlobalArgs } from '../context.js';
import { machineOptions, withMachineOptions, type MachineArgs } from '../machine-options.js';
import { run } from '../lifecycle.js';
import { jsonOption } from '../options.js';
import { siteViewStatus, writeStatusFeed } from '../../lib/features/siteview/index.js';

interface Args extends GlobalArgs, MachineArgs {
  apps?: string[];
  tier?: TierFilter;
  check?: boolean;
  json?: boolean;
  site?: boolean;
  feed?: boolean;
}

/** "2026-11-22 01:30" in the site's timezone. */
export function formatWhen(iso: string | undefined, timeZone: string): string {
  return formatLocalTime(iso, timeZone);
}

function change(r: StatusRow): string {
  if (r.deltaMb === undefined && r.deltaFiles === undefined) return '-';
  const mb = r.deltaMb !== undefined ? `${r.deltaMb >= 0 ? '+' : ''}${r.deltaMb.toFixed(1)} MB` : '';
  const pct = r.deltaPct !== undefined ? ` (${r.deltaPct >= 0 ? '+' : ''}${r.deltaPct}%)` : '';
  const files = r.deltaFiles !== undefined ? `${mb ? ', ' : ''}${r.deltaFiles >= 0 ? '+' : ''}${r.deltaFiles} files` : '';
  return `${mb}${pct}${files}`;
}

export function formatStatus(report: StatusReport, timeZone: string): string {
  const rows = report.rows.map((r) => [
    r.app,
    r.tier === 'offsite' ? `offsite:${r.target ?? ''}` : r.tier,
    r.tier === 'local' ? `${r.server}${r.seenBy ? ` (seen by ${r.seenBy})` : ''}` : (r.backupServer ?? r.server),
    `${r.state}${r.running ? ' (running)' : ''}${r.paused ? ' (paused)' : ''}`,
    formatWhen(r.lastSuccess, timeZone),
    r.ageS !== undefined ? formatDuration(r.ageS * 1000) : '-',
    r.files ?? '-',
    r.mb !== undefined ? r.mb.toFixed(1) : '-',
    change(r),
    r.state === 'OK' && r.reason === 'ok' ? '' : r.reason,
  ]);
  const lines = [table(['APP', 'TIER', 'ON', 'STATE', 'LAST SUCCESS', 'AGE', 'FILES', 'MB', 'CHANGE', 'NOTE'], rows)];
  const c = report.counts;
  lines.push('', `${report.rows.length} rows: ${c.OK} OK, ${c.STALE} STALE, ${c.SHRUNK} SHRUNK, ${c.OVERDUE} OVERDUE, ${c.FAILED} FAILED, ${c.MISSING} MISSING`);
  if (report.rows.length === 0) lines.push('no app backups visible on this machine: check --root, --host and the inventory');
  for (const p of report.problems.slice(0, 20)) lines.push(`warning: unreadable history ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
  if (report.problems.length > 20) lines.push(`warning: ... and ${report.problems.length - 20} more unreadable history lines`);
  return lines.join('\n');
}

export const statusCommand: CommandModule<GlobalArgs, Args> = {
  command: 'status [apps..]',
  describe: 'Is every app backed up, on every tier? Last success, age, files, MB, change, state',
  builder: (y) =>
    withMachineOptions(y)
      .positional('apps', { type: 'string', array: true, describe: 'App names (default: every active or paused app)' })
      .option('tier', { choices: ['local', 'remote', 'offsite', 'all'] as const, default: 'all' as const, describe: 'Which tier to show' })
      .option('check', { type: 'boolean', describe: 'Nagios/Icinga plugin: one summary line with perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN' })
      .option('json', jsonOption())
      .option('site', { type: 'boolean', describe: 'The whole site: every backup server\'s status, read here or over SSH (its feed), merged; with --check, --json' })
      .option('feed', { type: 'boolean', describe: 'Print this backup server\'s rows as JSON lines for --site (read-only; what a site-view key runs)' })
      .conflicts('site', 'feed')
      .conflicts('feed', ['check', 'json'])
      .example('$0 status --site --check', 'one Nagios check for the whole site, from any backup server')
      .example('$0 status', 'every app on every tier this machine holds')
      .example('$0 status hydro --tier remote', 'one app, remote tier only')
      .example('$0 status --check', 'for check_by_ssh / NRPE')
      .example('$0 status --json | jq \'.rows[] | select(.state != "OK")\'', 'what is not OK, for scripts')
      .epilog(
        `STATES
  OK       last success younger than stale_after, size not shrunk
  STALE    last success older than stale_after (default 26h; per app)
  SHRUNK   lost more than shrink_threshold percent (default 20) since the previous run
  OVERDUE  offsite:usb only: the drive in service was not swapped within offsite.swap_after
  FAILED   the last run failed or was interrupted, or none ever succeeded
  MISSING  no backup has ever run (local), never pulled or not in the newest snapshot (remote)
Without --check: exit 0 when every row is OK, 1 otherwise.
${EXIT_CODES_EPILOG}`,
      ) as never,
  handler: run(async (argv) => {
    const log = makeLogger(argv);
    if ((argv.site || argv.feed) && ((argv.apps?.length ?? 0) > 0 || (argv.tier ?? 'all') !== 'all')) {
      throw new UsageError(`--${argv.site ? 'site' : 'feed'} shows every app on every tier`, 'leave out the app names and --tier; filter the --json output instead');
    }
    const statusOf = (site: Site) => (argv.site ? siteViewStatus(site, { ...machineOptions(argv), ...nowOf(argv), log }) : siteStatus(site, { ...machineOptions(argv), ...nowOf(argv), tier: argv.tier ?? 'all', apps: argv.apps ?? [] }));
    if (argv.feed) {
      const site = await loadSite(argv, log);
      await writeStatusFeed(site, { ...machineOptions(argv), ...nowOf(argv) }, (line) => process.stdout.write(line));
      return ExitCode.OK;
    }
    if (argv.check) {
      try {
        const site = await loadSite(argv, log);
        const r = checkResult(await statusOf(site));
        out(r.line);
        return r.code;
      } catch (err) {
        out(`TIERBACK UNKNOWN - ${formatError(err).replace(/\n/g, '; ').replace(/^error: /, '')}`);
        return CheckCode.UNKNOWN;
      }
    }
    const site = await loadSite(argv, log);
    const report = await statusOf(site);
    if (argv.json) printJson(report);
    else out(formatStatus(report, site.timezone));
    return report.rows.length > 0 && report.rows.every((r) => r.state === 'OK') ? ExitCode.OK : ExitCode.FAILED;
  }),
};
