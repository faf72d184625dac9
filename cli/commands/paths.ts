/** `tierback paths APP`: every path of an app on every tier. */
import type { CommandModule } from 'yargs';
import { findApp } from '../../lib/model/inventory/model.js';
import { appPaths } from '../../lib/model/paths.js';
import { EXIT_CODES_EPILOG, inventoryLine, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { ExitCode } from '../../lib/base/errors.js';
import { jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  app: string;
  json?: boolean;
}

export const pathsCommand: CommandModule<GlobalArgs, Args> = {
  command: 'paths <app>',
  describe: 'Every path of an app on every tier (local, inside the VM, remote, snapshots, history)',
  builder: (y) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'App name from the inventory' })
      .option('json', jsonOption())
      .example('$0 paths hydro -i inventory/example.yaml', 'where the Hydro demo is backed up')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site) => {
    const app = findApp(site, argv.app);
    const paths = appPaths(site, app);
    if (argv.json) {
      printJson({ app: app.name, server: app.server, vm: app.vm, relpath: app.relpath, paths });
      return ExitCode.OK;
    }
    out(`${inventoryLine(site)}\napp ${app.name}: ${app.relpath} on ${app.vm} of ${app.server} (${app.type})\n`);
    out(table(['TIER', 'HOST', 'PATH', 'WHAT'], paths.map((p) => [p.kind, p.host, p.path, p.description])));
    return ExitCode.OK;
  }),
};
