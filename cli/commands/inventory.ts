/** `tierback inventory check|show|schema`. */
import type { CommandModule } from 'yargs';
import { HOST_VM } from '../../lib/names.js';
import { ExitCode, InventoryError } from '../../lib/errors.js';
import { inventoryDiffCommand } from './inventory-diff.js';
import { inventoryJsonSchema } from '../../lib/inventory/schema.js';
import { inventoryReferenceMarkdown } from '../../lib/inventory/reference.js';
import { pullersOf } from '../../lib/inventory/model.js';
import { EXIT_CODES_EPILOG, inventoryLine, loadSite, makeLogger, out, printJson, table, type GlobalArgs } from '../context.js';
import { run } from '../lifecycle.js';

interface Args extends GlobalArgs {
  json?: boolean;
}

const check: CommandModule<GlobalArgs, Args> = {
  command: 'check',
  describe: 'Validate the inventory and print every problem',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', describe: 'Problems as JSON' })
      .example('$0 inventory check -i inventory/example.yaml', 'validate a file')
      .example('TIERBACK_INVENTORY=site.yaml $0 inventory check', 'validate the file named in the environment')
      .epilog(EXIT_CODES_EPILOG),
  handler: run(async (argv) => {
    try {
      const site = await loadSite(argv, makeLogger(argv));
      if (argv.json) {
        printJson({ valid: true, file: site.file, source: site.source, problems: [] });
        return ExitCode.OK;
      }
      out(`${inventoryLine(site)}\nOK: ${site.servers.length} servers, ${site.vms.length} VMs, ${site.apps.length} apps, ${site.backupServers.length} backup servers`);
    } catch (err) {
      if (argv.json && err instanceof InventoryError) {
        printJson({ valid: false, file: err.file, problems: err.problems });
        return err.exitCode;
      }
      throw err;
    }
    return ExitCode.OK;
  }),
};

const show: CommandModule<GlobalArgs, Args> = {
  command: 'show',
  describe: 'The site as tables: apps (the seed\'s "Summary of Backup Systems"), servers, VMs, pulls',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'The resolved site as JSON' }).example('$0 inventory show -i inventory/example.yaml', '').epilog(EXIT_CODES_EPILOG),
  handler: run(async (argv) => {
    const site = await loadSite(argv, makeLogger(argv));
    if (argv.json) {
      printJson({ file: site.file, site: site.name, servers: site.servers, vms: site.vms, apps: site.apps, backupServers: site.backupServers });
      return ExitCode.OK;
    }
    const lines = [inventoryLine(site), '', `Site ${site.name}: applications`];
    lines.push(
      table(
        ['NAME', 'DESCRIPTION', 'SERVER', 'VM', 'LOCAL PATH', 'RELPATH', 'TYPE', 'STATUS'],
        site.apps.map((a) => [a.name, a.description ?? '', a.server, a.vm === HOST_VM ? `n/a (${HOST_VM})` : a.vm, a.path, a.relpath, a.type, a.status]),
      ),
      '',
      'Servers',
      table(
        ['FQDN', 'ROLE', 'PARTITION', 'VMS', 'APPS', 'PULLED BY'],
        site.servers.map((s) => [
          s.fqdn,
          s.role,
          s.partition,
          site.vms.filter((v) => v.server === s.fqdn).map((v) => v.name).join(',') || '-',
          site.apps.filter((a) => a.server === s.fqdn).length,
          pullersOf(site, s.fqdn).map((b) => b.server).join(',') || '-',
        ]),
      ),
      '',
      'VMs',
      table(['NAME', 'SERVER', 'MOUNT', 'APPS'], site.vms.map((v) => [v.name, v.server, v.mount, site.apps.filter((a) => a.vm === v.name).length])),
      '',
      'Backup servers',
      table(
        ['SERVER', 'PULLS', 'SCHEDULE', 'CONCURRENCY'],
        site.backupServers.map((b) => [b.server, b.pulls.map((p) => (p.transport === 'local' ? `${p.server} (local)` : p.server)).join(', '), b.schedule, b.concurrency]),
      ),
    );
    out(lines.join('\n'));
    return ExitCode.OK;
  }),
};

const schema: CommandModule<GlobalArgs, GlobalArgs & { markdown?: boolean }> = {
  command: 'schema',
  describe: 'Print the inventory\'s JSON Schema (for editors and CI checks), or the reference as Markdown',
  builder: (y) =>
    y
      .option('markdown', { type: 'boolean', describe: 'The key reference (docs/inventory.md) instead of JSON Schema' })
      .example('$0 inventory schema > inventory.schema.json', 'for editors with YAML language servers')
      .example('$0 inventory schema --markdown > docs/inventory.md', 'regenerate the reference')
      .epilog(EXIT_CODES_EPILOG),
  handler: run((argv) => {
    if (argv.markdown) out(inventoryReferenceMarkdown());
    else printJson(inventoryJsonSchema());
    return ExitCode.OK;
  }),
};

export const inventoryCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'inventory <command>',
  describe: 'Check and show the inventory',
  builder: (y) => y.command(check).command(show).command(schema).command(inventoryDiffCommand as never).demandCommand(1).epilog(EXIT_CODES_EPILOG),
  handler: () => undefined,
};
