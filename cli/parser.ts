/** The yargs parser of `tierback`: global options, usage, strictness, the commands given. `--help` and `tierback man` both read it. */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { UsageError } from '../lib/base/errors.js';
import { resolveLogFormat } from '../lib/base/log-format.js';
import { EXIT_CODES_EPILOG, withGlobals, type GlobalArgs } from './globals.js';
import { tierbackVersion } from './version.js';

export const USAGE = '$0 <command> [options]\n\nTiered backups by directory convention. See README.md and docs/.';

/** `strict: false` for completion only: yargs' strict mode refuses the line being completed. */
export function buildParser(commands: readonly CommandModule<GlobalArgs, never>[], width: number, opts: { strict?: boolean } = {}): Argv<GlobalArgs> {
  let parser = withGlobals(yargs())
    .scriptName('tierback')
    .version(tierbackVersion())
    .usage(USAGE)
    .strict(opts.strict ?? true)
    .demandCommand(1, 'give a command; `tierback --help` lists them')
    .recommendCommands()
    .epilog(EXIT_CODES_EPILOG)
    .wrap(width)
    // The readable log formats need pino-pretty: loaded here, before the command, only when used.
    .middleware(async (argv) => {
      const format = resolveLogFormat(argv['log-format'], process.env);
      if (format !== 'json') await (await import('../lib/base/log.js')).loadLogFormat(format);
    })
    .fail((msg, err) => {
      // An option's coerce (cli/int-option.ts) failing reaches here as yargs' YError: a usage error too.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(err?.message ?? msg, 'see `tierback --help` or `tierback <command> --help`');
    }) as unknown as Argv<GlobalArgs>;
  for (const c of commands) parser = parser.command(c as CommandModule<GlobalArgs, GlobalArgs>);
  skipHelpCache(parser);
  return parser;
}

/**
 * yargs renders a command's whole help before running it, so that a failure after an async handler
 * could still print it (its command.js, `cacheHelpMessage`): about 90 ms of text layout on every
 * run. Nothing here prints help after a handler started (`.fail()` above throws, no showHelp), and
 * `--help` renders it afresh, so that copy is never read: skipped (a pull's fixed cost, issue 17).
 */
function skipHelpCache(parser: Argv<GlobalArgs>): void {
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
