/** `tierback report --html FILE`: a self-contained static status page. */
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { renderReportHtml, writeHtmlReport } from '../../lib/features/report/index.js';
import { planHtmlReport } from '../../lib/features/report/plan.js';
import { siteReportData, siteViewStatus } from '../../lib/features/siteview/index.js';
import { writeFileAtomic } from '../../lib/base/fsutil.js';
import { EXIT_CODES_EPILOG, nowOf, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { machineOptions, withMachineOptions, type MachineArgs } from '../machine-options.js';
import { intOption } from '../int-option.js';
import { dryRunOption, jsonOption } from '../options.js';
import { ExitCode, UsageError } from '../../lib/base/errors.js';

interface Args extends GlobalArgs, MachineArgs {
  html?: string;
  days?: number;
  'dry-run'?: boolean;
  json?: boolean;
  site?: boolean;
}

export const reportCommand: CommandModule<GlobalArgs, Args> = {
  command: 'report',
  describe: 'Write a static HTML page: status, apps x last 30 days per tier, sizes, failures',
  builder: (y) =>
    withMachineOptions(y)
      .option('html', { type: 'string', describe: 'File to write (replaced atomically); required, but with --site the page goes to stdout without it' })
      .option('days', intOption('days', { min: 1, max: 3660 }, { default: 30, describe: 'Days shown in the grid' }))
      .option('dry-run', dryRunOption('Build the page and print what would be written where; write nothing'))
      .option('json', jsonOption('The result (or with --dry-run the plan) as JSON'))
      .option('site', { type: 'boolean', describe: 'The whole site, merged from every backup server (as `status --site`); the grid shows today only' })
      .example('$0 report --html /var/www/backups/index.html', 'from cron, after the pulls')
      .example('$0 report --html /var/www/backups/index.html --dry-run', 'the file it would replace and its size; nothing written')
      .example('$0 report --site --html /var/www/backups/site.html', 'one page for every backup server')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site, log) => {
    if (argv.site) {
      const status = await siteViewStatus(site, { ...machineOptions(argv), ...nowOf(argv), log });
      const data = siteReportData(site, status);
      if (argv.html === undefined) {
        out(renderReportHtml(data));
        return ExitCode.OK;
      }
      const file = path.resolve(argv.html);
      const html = renderReportHtml(data);
      if (argv['dry-run']) {
        const plan = { file, bytes: Buffer.byteLength(html), rows: data.rows.length, failures: data.failures.length };
        if (argv.json) printJson(plan);
        else out(`would write ${file} (${plan.bytes} bytes, atomically): ${plan.rows} rows, ${plan.failures} failures`);
        return ExitCode.OK;
      }
      await writeFileAtomic(file, html, 0o644);
      out(`wrote ${file}: ${data.rows.length} rows, ${data.failures.length} failures, ${status.feeds.filter((f) => !f.ok).length} backup server(s) unreachable`);
      return ExitCode.OK;
    }
    if (argv.html === undefined) throw new UsageError('Missing required argument: html', 'give --html FILE, the page to write');
    const file = path.resolve(argv.html);
    const opts = { ...machineOptions(argv), ...nowOf(argv), days: argv.days ?? 30 };
    if (argv['dry-run']) {
      const plan = await planHtmlReport(site, file, opts);
      if (argv.json) printJson(plan);
      else out(`would ${plan.replaces ? 'replace' : 'write'} ${plan.file} (mode ${plan.mode}, ${plan.bytes} bytes, atomically through ${plan.temp}): ${plan.rows} rows, ${plan.failures} failures in ${plan.days} days`);
      return ExitCode.OK;
    }
    const data = await writeHtmlReport(site, file, opts);
    if (argv.json) printJson({ file, rows: data.rows.length, failures: data.failures.length, days: data.days.length });
    else out(`wrote ${file}: ${data.rows.length} rows, ${data.failures.length} failures in ${data.days.length} days`);
    return ExitCode.OK;
  }),
};
