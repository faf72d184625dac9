/** `tierback report --html FILE`: a self-contained static status page. */
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { writeHtmlReport } from '../../lib/features/report/index.js';
import { planHtmlReport } from '../../lib/features/report/plan.js';
import { EXIT_CODES_EPILOG, nowOf, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { machineOptions, withMachineOptions, type MachineArgs } from '../machine-options.js';
import { intOption } from '../int-option.js';
import { dryRunOption, jsonOption } from '../options.js';
import { ExitCode } from '../../lib/base/errors.js';

interface Args extends GlobalArgs, MachineArgs {
  html: string;
  days?: number;
  'dry-run'?: boolean;
  json?: boolean;
}

export const reportCommand: CommandModule<GlobalArgs, Args> = {
  command: 'report',
  describe: 'Write a static HTML page: status, apps x last 30 days per tier, sizes, failures',
  builder: (y) =>
    withMachineOptions(y)
      .option('html', { type: 'string', demandOption: true, describe: 'File to write (replaced atomically)' })
      .option('days', intOption('days', { min: 1, max: 3660 }, { default: 30, describe: 'Days shown in the grid' }))
      .option('dry-run', dryRunOption('Build the page and print what would be written where; write nothing'))
      .option('json', jsonOption('The result (or with --dry-run the plan) as JSON'))
      .example('$0 report --html /var/www/backups/index.html', 'from cron, after the pulls')
      .example('$0 report --html /var/www/backups/index.html --dry-run', 'the file it would replace and its size; nothing written')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site) => {
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
