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
  return parser;
}
