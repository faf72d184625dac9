/** `tierback exit-codes`: the exit codes, as text, JSON or docs/exit-codes.md. */
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../lib/base/errors.js';
import { EXIT_CODES, exitCodesMarkdown, exitCodesText } from '../../lib/base/exit-codes.js';
import { EXIT_CODES_EPILOG, out, printJson, type GlobalArgs } from '../context.js';
import { run } from '../lifecycle.js';
import { jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  json?: boolean;
  markdown?: boolean;
}

export const exitCodesCommand: CommandModule<GlobalArgs, Args> = {
  command: 'exit-codes',
  describe: 'The exit codes of every command (code, name, meaning, typical cause)',
  builder: (y) =>
    y
      .option('json', jsonOption('As JSON, for scripts'))
      .option('markdown', { type: 'boolean', describe: 'As docs/exit-codes.md' })
      .conflicts('json', 'markdown')
      .example('$0 exit-codes --json', 'code, name, meaning and typical cause of each')
      .example('$0 exit-codes --markdown > docs/exit-codes.md', 'regenerate the reference')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: run((argv) => {
    if (argv.json) printJson(EXIT_CODES);
    else if (argv.markdown) out(exitCodesMarkdown());
    else out(exitCodesText());
    return ExitCode.OK;
  }),
};
