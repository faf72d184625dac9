/** `tierback inventory diff [OLD] [NEW]`: which apps move where between two inventories. */
import type { CommandModule } from 'yargs';
import { ExitCode, NotFoundError } from '../../lib/base/errors.js';
import { loadInventory } from '../../lib/site/load.js';
import { loadOldSite } from '../../lib/features/move/apply.js';
import { diffInventories, localDirOf, type InventoryDiff } from '../../lib/features/move/index.js';
import { EXIT_CODES_EPILOG, loadSite, makeLogger, out, printJson, table, type GlobalArgs } from '../context.js';
import { run } from '../lifecycle.js';
import { jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  old?: string;
  new?: string;
  json?: boolean;
}

export function formatDiff(d: InventoryDiff, oldFile: string, newFile: string): string {
  const lines = [`--- ${oldFile}`, `+++ ${newFile}`];
  if (d.moves.length === 0 && d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0) return [...lines, 'no changes to apps'].join('\n');
  if (d.moves.length > 0) {
    lines.push('', 'Moves (run `tierback apply` on the old server, or `tierback move APP --from OLD`):');
    lines.push(
      table(
        ['APP', 'HOW', 'FROM', 'TO', 'CHANGES'],
        d.moves.map((m) => [m.app, m.how, `${m.from.server}:${localDirOf(m.from)}`, `${m.to.server}:${localDirOf(m.to)}`, m.changes.join(', ')]),
      ),
    );
  }
  if (d.added.length > 0) lines.push('', `Added (backed up from their first job): ${d.added.join(', ')}`);
  if (d.removed.length > 0) lines.push('', `Removed (their backups stay until you delete them; \`tierback orphans\` lists them): ${d.removed.join(', ')}`);
  for (const c of d.changed) lines.push(`Changed ${c.app}: ${c.keys.join(', ')}`);
  return lines.join('\n');
}

export const inventoryDiffCommand: CommandModule<GlobalArgs, Args> = {
  command: 'diff [old] [new]',
  describe: 'Which apps move where between two inventories (default: the applied inventory and the current one)',
  builder: (y) =>
    y
      .positional('old', { type: 'string', describe: 'Inventory before the edit (default: the last applied one, <partition>/.tierback/applied.yaml)' })
      .positional('new', { type: 'string', describe: 'Inventory after the edit (default: -i / $TIERBACK_INVENTORY)' })
      .option('json', jsonOption())
      .example('$0 inventory diff old.yaml new.yaml', 'compare two files')
      .example('git show HEAD~1:site.yaml > /tmp/old.yaml && $0 inventory diff /tmp/old.yaml -i site.yaml', 'compare with the previous commit')
      .example('$0 inventory diff', 'compare the applied inventory with the current one')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: run(async (argv) => {
    const log = makeLogger(argv);
    const next = argv.new ? await loadInventory({ file: argv.new }) : await loadSite(argv, log);
    const old = await loadOldSite(next, argv.old);
    if (!old) throw new NotFoundError('no applied inventory found on this machine', 'give the old inventory: `tierback inventory diff OLD NEW`');
    const d = diffInventories(old, next);
    if (argv.json) {
      printJson({ old: old.file, new: next.file, ...d });
      return ExitCode.OK;
    }
    out(formatDiff(d, old.file, next.file));
    return ExitCode.OK;
  }),
};
