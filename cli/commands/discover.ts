/** `tierback discover`: apps on this machine that the inventory does not list yet, as inventory YAML. */
import type { CommandModule } from 'yargs';
import { discover, discoveredYaml, DEFAULT_SEARCH } from '../../lib/features/discover/index.js';
import { ExitCode, NotFoundError } from '../../lib/base/errors.js';
import type { Site } from '../../lib/model/inventory/model.js';
import { resolveScheduleHost } from '../../lib/features/schedule/index.js';
import { EXIT_CODES_EPILOG, loadSite, makeLogger, out, printJson, type GlobalArgs } from '../context.js';
import { intOption } from '../int-option.js';
import { run } from '../lifecycle.js';
import { jsonOption, rootOption } from '../options.js';

interface Args extends GlobalArgs {
  root: string;
  under?: string[];
  depth: number;
  host?: string;
  json?: boolean;
}

export const discoverCommand: CommandModule<GlobalArgs, Args> = {
  command: 'discover',
  describe: 'Find Capistrano apps, WordPress, MoinMoin wikis, bare git and CVS repositories and Maildirs not in the inventory',
  builder: (y) =>
    y
      .option('root', rootOption('Folder standing for / (a mounted VM image, a test tree; $TIERBACK_ROOT)'))
      .option('under', { type: 'string', array: true, describe: `Folders to search, relative to the root (default: ${DEFAULT_SEARCH.join(', ')})` })
      .option('depth', intOption('depth', { min: 1, max: 64 }, { default: 6, describe: 'Folder depth searched below each of them' }))
      .option('host', { type: 'string', describe: 'This machine in the inventory: a VM name or server fqdn (default: from the host name)' })
      .option('json', jsonOption('Everything found, as JSON (also apps already in the inventory)'))
      .example('$0 discover >> new-apps.yaml', 'on a VM: entries to review and paste into the inventory')
      .example('$0 discover --root /mnt/web-image --host web', 'a VM disk mounted elsewhere')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: run(async (argv) => {
    const log = makeLogger(argv);
    let site: Site | undefined;
    try {
      site = await loadSite(argv, log);
    } catch (err) {
      // A fresh VM may have no inventory yet: discover everything. A file named explicitly must exist.
      if (!(err instanceof NotFoundError) || argv.inventory || process.env['TIERBACK_INVENTORY']) throw err;
    }
    let where: { server: string | undefined; vm: string | undefined } = { server: undefined, vm: undefined };
    if (site) {
      try {
        const h = resolveScheduleHost(site, argv.host);
        where = { server: h.server, vm: h.kind === 'vm' ? h.name : undefined };
      } catch (err) {
        if (argv.host) throw err;
      }
    }
    const found = await discover(site, { root: argv.root, maxDepth: argv.depth, ...(argv.under ? { under: argv.under } : {}), ...(where.server ? { host: where.server } : {}) });
    if (argv.json) printJson({ ...where, found });
    else out(discoveredYaml(found, where));
    return ExitCode.OK;
  }),
};
