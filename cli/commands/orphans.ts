/** `tierback orphans`: backup folders no inventory entry owns, and apps with no backup folder. */
import type { CommandModule } from 'yargs';
import { findOrphans } from '../../lib/features/orphans/index.js';
import { EXIT_CODES_EPILOG, inventoryLine, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { ExitCode } from '../../lib/base/errors.js';
import { jsonOption, rootOption } from '../options.js';

interface Args extends GlobalArgs {
  root: string;
  server?: string;
  json?: boolean;
}

export const orphansCommand: CommandModule<GlobalArgs, Args> = {
  command: 'orphans',
  describe: 'Backup folders on this machine that no inventory entry owns, and active apps with no backup folder',
  builder: (y) =>
    y
      .option('root', rootOption())
      .option('server', { type: 'string', describe: 'This machine is this server: check only its partition, and every one of its apps' })
      .option('json', jsonOption())
      .example('$0 orphans', 'on a server or backup server')
      .example('$0 orphans --server zg-3.softxs.ch --json', '')
      .epilog(`Lists only; deletes nothing. Exit status 0 when nothing is found, 1 when something is.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site) => {
    const r = await findOrphans(site, { root: argv.root, server: argv.server });
    const found = r.orphans.length + r.missing.length > 0;
    if (argv.json) printJson(r);
    else {
      const lines = [inventoryLine(site), `partitions found: ${r.partitions.join(', ') || 'none'}`];
      lines.push('', r.orphans.length ? table(['KIND', 'TIER', 'PATH', 'WHY'], r.orphans.map((o) => [o.kind, o.tier, o.path, o.reason])) : 'no orphan folders');
      lines.push('', r.missing.length ? table(['APP', 'SERVER', 'VM', 'MISSING FOLDER', 'WHY'], r.missing.map((m) => [m.app, m.server, m.vm, m.path, m.reason])) : 'every active app has a backup folder');
      out(lines.join('\n'));
    }
    return found ? ExitCode.FAILED : ExitCode.OK;
  }),
};
