/** `tierback which PATH`: the reverse lookup. */
import type { CommandModule } from 'yargs';
import { whichPathOrThrow, type PathOwner } from '../../lib/model/paths.js';
import { EXIT_CODES_EPILOG, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { ExitCode } from '../../lib/base/errors.js';
import { jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  path: string;
  json?: boolean;
}

export function describeOwner(o: PathOwner): string {
  const parts = [`tier=${o.tier}`];
  if (o.server) parts.push(`server=${o.server}`);
  if (o.backupServer) parts.push(`backup-server=${o.backupServer}`);
  if (o.vm) parts.push(`vm=${o.vm}`);
  if (o.app) parts.push(`app=${o.app}`);
  if (o.relpath) parts.push(`relpath=${o.relpath}`);
  if (o.snapshot) parts.push(`snapshot=${o.snapshot}`);
  if (o.inner) parts.push(`file=${o.inner}`);
  if (o.what) parts.push(`(${o.what})`);
  return parts.join(' ');
}

export const whichCommand: CommandModule<GlobalArgs, Args> = {
  command: 'which <path>',
  describe: 'Which server, VM, app and tier a path belongs to',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'An absolute path under a partition or a VM mount' })
      .option('json', jsonOption())
      .example('$0 which /v01/backup/local/web/v2.softxs.ch/hydro/db', '')
      .example('$0 which /v01/backup/remote/zg-3.softxs.ch/web/v2.softxs.ch/hydro', '')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site) => {
    const owners = whichPathOrThrow(site, argv.path);
    if (argv.json) {
      printJson(owners);
      return ExitCode.OK;
    }
    for (const o of owners) out(describeOwner(o));
    return ExitCode.OK;
  }),
};
