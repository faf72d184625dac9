/** What every command shares: global options, the logger, the inventory, output helpers. */
import { createLogger, type Logger } from '../lib/base/log.js';
import { resolveLogFormat } from '../lib/base/log-format.js';
import { describeSource, loadInventory } from '../lib/site/load.js';
import type { Site } from '../lib/model/inventory/model.js';
import { clockFrom, givenNow } from '../lib/base/clock.js';
import type { GlobalArgs } from './globals.js';
import { run } from './lifecycle.js';

export { EXIT_CODES_EPILOG, withGlobals, type GlobalArgs } from './globals.js';

/** `{ now }` for commands that read the time, from --now / $TIERBACK_NOW (empty: the real clock). */
export function nowOf(argv: GlobalArgs): { now?: Date } {
  const now = givenNow(argv.now);
  return now ? { now } : {};
}

/** `{ now: clock }` for commands that write stamps: starts at --now / $TIERBACK_NOW and advances (empty: the real clock). */
export function clockOf(argv: GlobalArgs): { now?: () => Date } {
  const now = givenNow(argv.now);
  return now ? { now: clockFrom(now) } : {};
}

export function makeLogger(argv: GlobalArgs): Logger {
  return createLogger({ level: argv.debug ? 'debug' : argv.verbose ? 'info' : 'warn', format: resolveLogFormat(argv['log-format'], process.env) });
}

export async function loadSite(argv: GlobalArgs, log?: Logger): Promise<Site> {
  const site = await loadInventory({ file: argv.inventory, env: process.env });
  log?.info({ file: site.file, source: site.source }, 'inventory loaded');
  return site;
}

/** `run` for a handler that starts by loading the inventory: the loaded site and the logger are handed in. */
export function runOnSite<A extends GlobalArgs>(handler: (argv: A, site: Site, log: Logger) => Promise<number> | number): (argv: A) => Promise<void> {
  return run(async (argv: A) => {
    const log = makeLogger(argv);
    return handler(argv, await loadSite(argv, log), log);
  });
}

export function inventoryLine(site: Site): string {
  return `inventory: ${site.file} (${describeSource(site.source)})`;
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** Plain-text table with a header row; columns padded, last column free. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
