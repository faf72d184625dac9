/** `tierback history APP`: every run of an app, for queries. */
import type { CommandModule } from 'yargs';
import { formatDuration } from '../../lib/base/duration.js';
import { appHistory } from '../../lib/model/runs.js';
import { EXIT_CODES_EPILOG, nowOf, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { machineOptions, withMachineOptions, type MachineArgs } from '../machine-options.js';
import { formatWhen } from './status.js';
import { ExitCode } from '../../lib/base/errors.js';
import { jsonOption } from '../options.js';

interface Args extends GlobalArgs, MachineArgs {
  app: string;
  since?: string;
  pulls?: boolean;
  json?: boolean;
}

export const historyCommand: CommandModule<GlobalArgs, Args> = {
  command: 'history <app>',
  describe: 'Every run of an app: jobs (local and as pulled) and the pulls of its server',
  builder: (y) =>
    withMachineOptions(y)
      .positional('app', { type: 'string', demandOption: true, describe: 'App name from the inventory' })
      .option('since', { type: 'string', describe: 'Only runs started within this duration, e.g. 30d, 12h, 2w' })
      .option('pulls', { type: 'boolean', default: true, describe: 'Include pulls of the app\'s server (--no-pulls to hide)' })
      .option('json', jsonOption())
      .example('$0 history hydro --since 30d', 'the last month of the Hydro demo')
      .example('$0 history hydro --json | jq \'[.entries[] | select(.status == "failed")]\'', 'its failures, for scripts')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site) => {
    const h = await appHistory(site, argv.app, { ...machineOptions(argv), ...nowOf(argv), since: argv.since, pulls: argv.pulls });
    if (argv.json) {
      printJson(h);
      return ExitCode.OK;
    }
    out(
      table(
        ['START', 'KIND', 'TIER', 'STATUS', 'DURATION', 'FILES', 'MB', 'SEEN IN', 'ERROR'],
        h.entries.map((e) => [
          formatWhen(e.start, site.timezone),
          e.kind,
          e.tier,
          e.interrupted ? 'failed (interrupted)' : e.status,
          e.durationS !== undefined ? formatDuration(e.durationS * 1000) : '-',
          e.files ?? '-',
          e.mb !== undefined ? e.mb.toFixed(1) : '-',
          e.seenIn.join(','),
          e.error ?? e.warning ?? '',
        ]),
      ),
    );
    out(`${h.entries.length} runs${h.since ? ` since ${h.since}` : ''}`);
    for (const p of h.problems) out(`warning: unreadable history ${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`);
    return ExitCode.OK;
  }),
};
