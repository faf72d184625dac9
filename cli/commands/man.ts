/** `tierback man`: the manual page tierback(1), from the same definitions as `--help`. */
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../lib/base/errors.js';
import { EXIT_CODES_EPILOG, type GlobalArgs } from '../globals.js';
import { run } from '../lifecycle.js';

export const manCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'man',
  describe: 'Print the manual page tierback(1) (roff), generated from the same definitions as --help',
  builder: (y) =>
    y
      .example('$0 man > /usr/local/share/man/man1/tierback.1', 'install it (docs/install.md), then: man tierback')
      .example('$0 man | man -l -', 'read it without installing')
      .epilog(EXIT_CODES_EPILOG),
  handler: run(async () => {
    const [{ commands }, { manPage }] = await Promise.all([import('./index.js'), import('../man-page.js')]);
    process.stdout.write(await manPage(commands));
    return ExitCode.OK;
  }),
};
