/** `tierback list APP`: every point in time of an app on every tier this machine sees. */
import type { CommandModule } from 'yargs';
import { findApp } from '../../lib/model/inventory/model.js';
import { describePlace } from '../../lib/model/places.js';
import { listPoints } from '../../lib/tiers/restore/points.js';
import { EXIT_CODES_EPILOG, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { ExitCode } from '../../lib/base/errors.js';
import { jsonOption, rootOption } from '../options.js';

interface Args extends GlobalArgs {
  app: string;
  root: string;
  json?: boolean;
}

const mb = (b: number | undefined) => (b === undefined ? '?' : (b / 1e6).toFixed(1));

export const listCommand: CommandModule<GlobalArgs, Args> = {
  command: 'list <app>',
  describe: 'Every point in time of an app this machine sees: local folder and dumps, remote snapshots (at every place it has lived)',
  builder: (y) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'App name from the inventory' })
      .option('root', rootOption())
      .option('json', jsonOption())
      .example('$0 list shop', 'on the VM (local tier) or on a backup server (snapshots)')
      .example('$0 list shop --json', '')
      .epilog(`Pick a point for \`tierback restore\` with --at (the day or time in the AT column) and --tier. WHERE is the server:vm/relpath the app had when the backup was made; "(old place)" marks snapshots from before a move.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site) => {
    const app = findApp(site, argv.app);
    const points = await listPoints(site, app, { root: argv.root });
    if (argv.json) {
      printJson(points);
      return ExitCode.OK;
    }
    if (points.length === 0) {
      out(`${app.name}: no backup visible on this machine (looked at ${app.mount} and the partitions of the inventory${argv.root !== '/' ? ` under ${argv.root}` : ''})`);
      return ExitCode.NOT_FOUND;
    }
    const rows: (string | undefined)[][] = [];
    for (const p of points) {
      const where = describePlace(p.place ?? app) + (p.moved ? ' (old place)' : '');
      rows.push([p.tier, p.id + (p.current ? ' (current)' : ''), p.at.toISOString(), 'files', String(p.files ?? '?'), mb(p.bytes), p.status + (p.lastFailure ? ` (a later job failed: ${p.lastFailure})` : ''), where, p.dir]);
      for (const d of p.dumps) rows.push(['', '', d.at.toISOString(), `dump ${d.db}`, '', mb(d.bytes), '', '', `${p.dir}/${d.file}`]);
    }
    out(table(['TIER', 'POINT', 'AT', 'WHAT', 'FILES', 'MB', 'STATUS', 'WHERE', 'PATH'], rows));
    return ExitCode.OK;
  }),
};
