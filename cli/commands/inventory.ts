/** `tierback inventory check|show|schema`. */
import type { CommandModule } from 'yargs';
import { HOST_VM } from '../../lib/model/names.js';
import { ExitCode, InventoryError } from '../../lib/base/errors.js';
import { inventoryDiffCommand } from './inventory-diff.js';
import { inventoryJsonSchema } from '../../lib/model/inventory/schema.js';
import { inventoryReferenceMarkdown } from '../../lib/site/reference.js';
import { APP_SIZE_ESTIMATE, placementWeight, pullersOf, type Site } from '../../lib/model/inventory/model.js';
import { scheduleSettings } from '../../lib/features/schedule/index.js';
import { lateJobWarnings } from '../../lib/features/schedule/fit.js';
import { EXIT_CODES_EPILOG, inventoryLine, loadSite, makeLogger, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { commandGroup } from '../command-group.js';
import { run } from '../lifecycle.js';
import { jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  json?: boolean;
}

/** "312 GB" (powers of 1000, like the sizes in the inventory). */
function formatSize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

/** How even the automatic placement is: the fullest backup server of the pool against its fair share. */
function placementLine(site: Site): string {
  const pool = site.backupServers.filter((b) => b.auto);
  const placed = site.backupServers.reduce((n, b) => n + b.pulls.filter((p) => p.placed).length, 0);
  const head = `* placed by pulls: auto; sizes from servers[].size, else ${formatSize(APP_SIZE_ESTIMATE)} per active app`;
  if (pool.length === 0) return `${head} (no backup server has pulls: auto)`;
  const weights = pool.map((b) => ({ b, w: placementWeight(site.backupServers, b) }));
  const bytes = pool.map((b) => site.placement.backupBytes.get(b.server) ?? 0);
  const total = bytes.reduce((n, x) => n + x, 0);
  const sumW = weights.reduce((n, x) => n + x.w, 0);
  const ratio = Math.max(...pool.map((b, i) => (total > 0 ? bytes[i]! / ((total * weights[i]!.w) / sumW) : 1)));
  return `${head}\nPlacement: ${placed} pull(s) placed on ${pool.length} backup server(s); the fullest holds ${ratio.toFixed(2)}x its fair share; ${site.placement.short.length} server(s) short of their copies`;
}

const check: CommandModule<GlobalArgs, Args> = {
  command: 'check',
  describe: 'Validate the inventory and print every problem',
  builder: (y) =>
    y
      .option('json', jsonOption('Problems as JSON'))
      .example('$0 inventory check -i inventory/example.yaml', 'validate a file')
      .example('TIERBACK_INVENTORY=site.yaml $0 inventory check', 'validate the file named in the environment')
      .epilog(EXIT_CODES_EPILOG),
  handler: run(async (argv) => {
    try {
      const site = await loadSite(argv, makeLogger(argv));
      // Schedules that will not fit before the pull, from apps[].duration or the estimate (no history read here).
      const warnings = [...site.warnings, ...lateJobWarnings(site, scheduleSettings(site))];
      if (argv.json) {
        printJson({ valid: true, file: site.file, source: site.source, problems: [], warnings });
        return ExitCode.OK;
      }
      out(`${inventoryLine(site)}\nOK: ${site.servers.length} servers, ${site.vms.length} VMs, ${site.apps.length} apps, ${site.backupServers.length} backup servers`);
      for (const w of warnings) out(`warning: ${w.path}: ${w.message}${'hint' in w && w.hint ? ` (${w.hint})` : ''}`);
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
  describe: 'The site as tables: apps (like a "Summary of Backup Systems" table), servers, VMs, pulls',
  builder: (y) => y.option('json', jsonOption('The resolved site as JSON')).example('$0 inventory show -i inventory/example.yaml', '').epilog(EXIT_CODES_EPILOG),
  handler: runOnSite(async (argv, site) => {
    if (argv.json) {
      const placement = { serverBytes: Object.fromEntries(site.placement.serverBytes), backupBytes: Object.fromEntries(site.placement.backupBytes), short: site.placement.short };
      printJson({ file: site.file, site: site.name, servers: site.servers, vms: site.vms, apps: site.apps, backupServers: site.backupServers, placement, warnings: site.warnings });
      return ExitCode.OK;
    }
    const totalPulled = [...site.placement.backupBytes.values()].reduce((n, b) => n + b, 0);
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
        ['SERVER', 'PULLS', 'EXPECTED', 'SHARE', 'SCHEDULE', 'CONCURRENCY'],
        site.backupServers.map((b) => {
          const bytes = site.placement.backupBytes.get(b.server) ?? 0;
          return [
            b.server,
            `${b.pulls.map((p) => `${p.server}${p.transport === 'local' ? ' (local)' : ''}${p.placed ? '*' : ''}`).join(', ')}${b.auto ? ' (pulls: auto)' : ''}` || '-',
            formatSize(bytes),
            totalPulled > 0 ? `${((100 * bytes) / totalPulled).toFixed(1)}%` : '-',
            b.schedule,
            b.concurrency,
          ];
        }),
      ),
      placementLine(site),
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

export const inventoryCommand = commandGroup({
  command: 'inventory <command>',
  describe: 'Check and show the inventory',
  subcommands: [check, show, schema, inventoryDiffCommand],
  examples: [
    ['$0 inventory check -i site.yaml', 'validate a file, every problem with its path (apps[3].relpath)'],
    ['$0 inventory show', 'the site as tables: apps, servers, VMs, pulls'],
    ['$0 inventory diff old.yaml site.yaml', 'which apps an edit moves, and where'],
    ['$0 inventory schema > inventory.schema.json', 'JSON Schema for editors'],
  ],
});
