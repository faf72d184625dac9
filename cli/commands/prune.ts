/** `tierback prune`: applies the retention policies to the snapshots and dumps this host holds. */
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../lib/base/errors.js';
import { formatLocal } from '../../lib/tiers/retention/calendar.js';
import { describePolicy } from '../../lib/tiers/retention/policy.js';
import { HOST_ENV, prune, resolveNow, type PruneReport, type PruneResult } from '../../lib/tiers/retention/index.js';
import { EXIT_CODES_EPILOG, inventoryLine, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { interruptSignal } from '../lifecycle.js';
import { dryRunOption, jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  'dry-run'?: boolean;
  explain?: boolean;
  server?: string;
  app?: string;
  tier?: 'local' | 'remote';
  host?: string;
  now?: string;
  json?: boolean;
}

export function formatPruneReport(report: PruneReport, opts: { explain: boolean; timeZone: string; now: Date; dryRun: boolean }): string {
  const lines: string[] = [];
  lines.push(`prune on ${report.host} at ${formatLocal(opts.now, opts.timeZone)} (${opts.timeZone})${opts.dryRun ? ' — dry run: nothing is removed' : ''}`);
  if (report.results.length === 0) lines.push('nothing to prune: no snapshots or dumps on this host');
  for (const r of report.results) lines.push('', ...formatResult(r, opts));
  return lines.join('\n');
}

function formatResult(r: PruneResult, opts: { explain: boolean; timeZone: string }): string[] {
  const what = r.tier === 'remote' ? `snapshots of ${r.subject}` : `dumps of ${r.subject}`;
  const lines = [`${what} in ${r.dir}`, `policy: ${describePolicy(r.policy)} (from ${r.policySource})`];
  if (r.held) lines.push(`HELD: ${r.held}`);
  const id = Math.max(8, ...[...r.kept, ...r.removed, ...r.skipped].map((e) => e.id.length));
  const row = (verb: string, e: { id: string; at?: Date | undefined; reasons: string[] }) => {
    const when = e.at ? formatLocal(e.at, opts.timeZone) : '';
    return opts.explain ? `  ${verb.padEnd(6)}  ${e.id.padEnd(id)}  ${when.padEnd(25)}  ${e.reasons.join(', ')}` : `  ${verb.padEnd(6)}  ${e.id.padEnd(id)}  ${when}`.trimEnd();
  };
  for (const f of r.finished) lines.push(`  finish  ${f}  (a deletion cut short earlier)`);
  for (const e of r.kept) lines.push(row('keep', e));
  for (const e of r.removed) lines.push(row('remove', e));
  for (const e of r.skipped) lines.push(row('skip', e));
  for (const e of r.errors) lines.push(`  error   ${e}`);
  lines.push(`kept ${r.kept.length}, ${r.dryRun ? 'would remove' : 'removed'} ${r.removed.length}, skipped ${r.skipped.length}${r.errors.length ? `, ${r.errors.length} failed` : ''}`);
  return lines;
}

export const pruneCommand: CommandModule<GlobalArgs, Args> = {
  command: 'prune',
  describe: 'Apply retention: remove old snapshots (backup servers) and database dumps (app servers), keep what the policies say',
  builder: (y) =>
    y
      .option('dry-run', dryRunOption('Show what would be kept and removed; remove nothing, write no history'))
      .option('explain', { type: 'boolean', describe: 'Give every rule that keeps each backup (e.g. "daily #3 (2025-12-29), weekly #1 (2026-W01)")' })
      .option('server', { type: 'string', describe: 'Only the snapshots of this pulled server (tier remote)' })
      .option('app', { type: 'string', describe: 'Only the dumps of this app (tier local)' })
      .option('tier', { choices: ['local', 'remote'] as const, describe: 'Only dumps (local) or only snapshots (remote)' })
      .option('host', { type: 'string', describe: `The inventory server this machine is (else $${HOST_ENV}, else the host name)` })
      .option('json', jsonOption('The result as JSON'))
      .example('$0 prune --dry-run --explain', 'what would go, and why everything else stays')
      .example('$0 prune --server zg-3.softxs.ch', 'prune the snapshots of zg-3 on this backup server')
      .example('$0 prune --app hydro --tier local', 'prune the Hydro database dumps on this app server')
      .example('TIERBACK_NOW=2026-01-01T00:00:00+01:00 $0 prune -n --host odin.softxs.ch', 'replay a prune at a given time on a given host')
      .epilog(`Policies, buckets and safety rules: docs/retention.md.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const now = resolveNow(argv.now);
    const dryRun = argv['dry-run'] ?? false;
    const report = await prune(site, { host: argv.host, tier: argv.tier, server: argv.server, app: argv.app, now, dryRun, log, signal: interruptSignal() });
    if (argv.json) printJson({ inventory: site.file, timeZone: site.timezone, now, dryRun, ...report });
    else out(`${inventoryLine(site)}\n${formatPruneReport(report, { explain: argv.explain ?? false, timeZone: site.timezone, now, dryRun })}`);
    if (report.interrupted) return ExitCode.INTERRUPTED;
    return report.results.some((r) => r.errors.length > 0) ? ExitCode.FAILED : ExitCode.OK;
  }),
};
