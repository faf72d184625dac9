/** `tierback verify [APP...|--all]`: restore drills, recorded in history. */
import { readFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { describePoint } from '../../lib/tiers/restore/points.js';
import { exitCodeFor } from '../../lib/model/outcome.js';
import { ExitCode } from '../../lib/base/errors.js';
import { countedDrills, drillApps, selectDrillApps, type DrillOutcome } from '../../lib/tiers/restore/verify.js';
import { EXIT_CODES_EPILOG, clockOf, nowOf, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { formatDrillPlan, planDrills } from '../../lib/tiers/restore/drill-plan.js';
import { interruptSignal } from '../lifecycle.js';
import { backupServerOption, dbConnectionOptions, dryRunOption, jsonOption, rootOption } from '../options.js';

interface Args extends GlobalArgs {
  apps: string[];
  all?: boolean;
  'backup-server'?: string;
  tier?: 'local' | 'remote';
  load?: boolean;
  'db-host'?: string;
  'db-port'?: number;
  'db-socket'?: string;
  'db-user'?: string;
  'db-password-file'?: string;
  scratch?: string;
  root: string;
  json?: boolean;
  'dry-run'?: boolean;
}

function formatOutcome(o: DrillOutcome): string {
  if (o.status === 'skipped') return `${o.app}: skipped — ${o.problems.join('; ')}`;
  const lines = [`${o.app}: ${o.status === 'failed' ? 'FAILED' : o.status} — drill of ${o.point ? describePoint(o.point) : '?'} (backed up ${o.point?.at.toISOString()})`];
  for (const c of o.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check}: ${c.detail}`);
  if (o.commands.length) lines.push('  commands run:', ...o.commands.map((c) => `    ${c}`));
  if (o.historyFile) lines.push(`  recorded in ${o.historyFile}`);
  return lines.join('\n');
}

export const verifyCommand: CommandModule<GlobalArgs, Args> = {
  command: 'verify [apps..]',
  describe: 'Restore drills: restore the newest backup into a scratch place and check it (manifest, fsck, dumps loaded and counted)',
  builder: (y) =>
    y
      .positional('apps', { type: 'string', array: true, default: [], describe: 'App names from the inventory' })
      .option('all', { type: 'boolean', describe: 'Every active app with a backup visible here' })
      .option('backup-server', backupServerOption('On a backup server: drill its snapshots of the servers it pulls'))
      .option('tier', { choices: ['local', 'remote'] as const, describe: 'Only the local tier or only snapshots' })
      .option('load', { type: 'boolean', default: true, describe: 'Load dumps into scratch databases (--no-load: checksums and completeness only)' })
      .options(
        dbConnectionOptions({
          host: 'Scratch database server for MySQL/PostgreSQL dumps (default: the app\'s own settings; snapshots: not loaded without it)',
          port: 'Its port',
          socket: 'Its socket (MySQL) or socket folder (PostgreSQL)',
          user: 'User allowed to create and drop tierback_drill_* databases',
          passwordFile: 'File whose first line is that user\'s password',
        }),
      )
      .option('scratch', { type: 'string', describe: 'Folder for scratch copies (default the temp folder)' })
      .option('root', rootOption())
      .option('json', jsonOption('Outcomes (or plans with --dry-run) as JSON'))
      .option('dry-run', dryRunOption('Print the plan (point, history file, scratch folder, the copy as argv, the checks and loads) and do nothing'))
      .example('$0 verify shop', 'drill one app')
      .example('$0 verify shop --dry-run', 'which backup it would drill, and how; nothing copied, loaded or recorded')
      .example('$0 verify --all', 'every app with a backup here (cron: weekly)')
      .example('$0 verify --all --backup-server backup1.example.org', 'what `tierback schedule` installs on a backup server')
      .epilog(`Results go to history (kind=verify tier=drill): a failed drill turns the app red in \`tierback status\`.\nExit 0 all passed, 1 failed, 5 some failed.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const apps = selectDrillApps(site, argv.apps, { all: argv.all ?? false, backupServer: argv['backup-server'] });
    const password = argv['db-password-file'] ? (await readFile(argv['db-password-file'], 'utf8')).split('\n')[0] : undefined;
    const connection = { host: argv['db-host'], port: argv['db-port'], socket: argv['db-socket'], user: argv['db-user'], password };
    if (argv['dry-run']) {
      const plans = await planDrills(site, apps, { root: argv.root, backupServer: argv['backup-server'], tier: argv.tier, load: argv.load ?? true, scratch: argv.scratch, connection, now: nowOf(argv).now ?? new Date() });
      if (argv.json) printJson(plans);
      else out(plans.length ? plans.map(formatDrillPlan).join('\n') : 'no apps to drill');
      return ExitCode.OK;
    }
    const outcomes = await drillApps(site, apps, { log, signal: interruptSignal(), ...clockOf(argv), root: argv.root, backupServer: argv['backup-server'], tier: argv.tier, load: argv.load ?? true, scratch: argv.scratch, connection });
    if (argv.json) printJson(outcomes);
    else out(outcomes.length ? outcomes.map(formatOutcome).join('\n') : 'no apps to drill');
    return exitCodeFor(countedDrills(outcomes, argv.apps.length > 0), { empty: ExitCode.FAILED });
  }),
};
