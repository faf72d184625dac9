/** `tierback restore APP`: files or a database from any point in time, never over the live app unless asked. */
import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { ExitCode, UsageError } from '../../lib/base/errors.js';
import { findApp } from '../../lib/model/inventory/model.js';
import { readPasswordFile } from '../../lib/tiers/engines/common.js';
import { describePoint } from '../../lib/tiers/restore/points.js';
import { restoreDatabase, restoreFiles, type RestoreResult } from '../../lib/tiers/restore/restore.js';
import { EXIT_CODES_EPILOG, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { interruptSignal } from '../lifecycle.js';
import { backupServerOption, dbConnectionOptions, dryRunOption, jsonOption, rootOption } from '../options.js';

interface Args extends GlobalArgs {
  app: string;
  at?: string;
  tier?: 'local' | 'remote';
  'backup-server'?: string;
  path?: string;
  to?: string;
  'to-server'?: string;
  database?: string;
  db?: string;
  'db-host'?: string;
  'db-port'?: number;
  'db-socket'?: string;
  'db-user'?: string;
  'db-password-file'?: string;
  'in-place'?: boolean;
  yes?: boolean;
  overwrite?: boolean;
  'dry-run'?: boolean;
  root: string;
  json?: boolean;
}

/** Asks on the terminal; refuses (false) when stdin is not a terminal. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`${question} Type "yes" to go on: `)).trim() === 'yes';
  } finally {
    rl.close();
  }
}

export function formatRestore(r: RestoreResult): string {
  const lines = [
    `${r.dryRun ? 'would restore' : 'restored'} ${r.app} from ${describePoint(r.point)} (backed up ${r.point.at.toISOString()})${r.dump ? `, dump ${r.dump.file}` : ''}`,
    `  from: ${r.source}`,
    `  to:   ${r.to}`,
    '',
    `commands ${r.dryRun ? 'it would run' : 'run'} (the same by hand, without tierback: see docs/restore.md):`,
    ...r.commands.map((c) => `  ${c}`),
  ];
  if (r.guide.commands.length) lines.push('', `to put the whole app back by hand over the live app (docs/jobs/<type>.md; check the restored copy first), from ${r.point.dir}:`, ...r.guide.commands.map((c) => `  ${c}`));
  return lines.join('\n');
}

export const restoreCommand: CommandModule<GlobalArgs, Args> = {
  command: 'restore <app>',
  describe: 'Restore an app\'s files (or load its database dump) from any point in time, into a new place',
  builder: (y) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'App name from the inventory' })
      .option('at', { type: 'string', describe: 'latest (default); a day (2026-02-01: newest backup of that day or before); a time ("2026-02-01 14:05", in the site\'s timezone; or ending in Z or +01:00, as list prints); or a snapshot stamp (2026-02-01T030000Z)' })
      .option('tier', { choices: ['local', 'remote'] as const, describe: 'Only the local tier (the VM\'s folder) or remote snapshots' })
      .option('backup-server', backupServerOption('Only snapshots of this backup server'))
      .option('path', { type: 'string', describe: 'A file or folder inside the backup folder (e.g. files/reports/q1.txt); default all' })
      .option('to', { type: 'string', describe: 'Folder to restore into (must not hold the files already, unless --overwrite)' })
      .option('to-server', { type: 'string', describe: 'Restore over SSH to this server of the inventory (its ssh settings and pinned host key)' })
      .option('database', { type: 'string', describe: 'Load the dump into this NEW database (MySQL/PostgreSQL name, or SQLite file path)' })
      .option('db', { type: 'string', describe: 'Which database\'s dumps, when the app has several' })
      .options(
        dbConnectionOptions({
          host: 'Database host (default: the app\'s own settings)',
          port: 'Database port',
          socket: 'Database socket (MySQL) or socket folder (PostgreSQL)',
          user: 'Database user',
          passwordFile: 'File whose first line is the database password',
        }),
      )
      .option('in-place', { type: 'boolean', describe: 'Restore over the live app (files, maildir) or the live database; asks for confirmation' })
      .option('yes', { type: 'boolean', describe: 'Confirm --in-place without asking (scripts)' })
      .option('overwrite', { type: 'boolean', describe: 'Allow writing over files already in --to' })
      .option('dry-run', dryRunOption('Print the commands and do nothing'))
      .option('root', rootOption())
      .option('json', jsonOption('The result as JSON'))
      .example('$0 restore docs --path files/report.txt --to /tmp/r', 'one file, newest backup')
      .example('$0 restore shop --at 2026-02-01 --tier remote --to /tmp/shop', 'the whole app as it was on 1 February, from a snapshot')
      .example('$0 restore shop --database /tmp/shop.sqlite3', 'the newest SQLite dump into a new file')
      .example('$0 restore blog --database blog_restored --db-user root', 'a MySQL/PostgreSQL dump into a new database')
      .example('$0 restore docs --to /srv/restore --to-server app1.example.org', 'from a backup server to the app\'s server over SSH')
      .example('$0 restore docs --in-place --path files/a.txt', 'put one file back into the live app (asks first)')
      .epilog(`Every restore prints the plain commands it ran. The live app is never written unless --in-place is given and confirmed (exit 6 otherwise).\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const app = findApp(site, argv.app);
    if (argv.database && (argv.path || argv.to || argv['to-server'])) throw new UsageError('--database loads a dump; it does not go with --path, --to or --to-server');
    let confirmed = argv.yes ?? false;
    if (argv['in-place'] && !confirmed && !argv['dry-run']) {
      confirmed = await confirm(`This overwrites the live ${argv.database ? `database ${argv.database}` : `app at ${app.path}`} of "${app.name}".`);
    }
    const common = {
      log,
      signal: interruptSignal(),
      root: argv.root,
      at: argv.at,
      tier: argv.tier,
      backupServer: argv['backup-server'],
      inPlace: argv['in-place'] ?? false,
      confirmed: confirmed || (argv['dry-run'] ?? false),
      dryRun: argv['dry-run'] ?? false,
    };
    const r = argv.database
      ? await restoreDatabase(site, app, {
          ...common,
          database: argv.database,
          db: argv.db,
          connection: {
            host: argv['db-host'],
            port: argv['db-port'],
            socket: argv['db-socket'],
            user: argv['db-user'],
            password: argv['db-password-file'] ? readPasswordFile(argv['db-password-file'], app, '(--db-password-file)') : undefined,
          },
        })
      : await restoreFiles(site, app, { ...common, path: argv.path, to: argv.to, toServer: argv['to-server'], overwrite: argv.overwrite ?? false });
    if (argv.json) printJson(r);
    else out(formatRestore(r));
    return ExitCode.OK;
  }),
};
