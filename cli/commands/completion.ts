/** `tierback completion`: the bash or zsh completion script (yargs' own); the answers come from cli/completion.ts. */
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../lib/base/errors.js';
import { EXIT_CODES_EPILOG, type GlobalArgs } from '../globals.js';
import { run } from '../lifecycle.js';

interface Args extends GlobalArgs {
  shell?: 'bash' | 'zsh';
}

export const completionCommand: CommandModule<GlobalArgs, Args> = {
  command: 'completion',
  describe: 'Print the shell completion script: commands, options, and app, server and backup-server names from the inventory',
  builder: (y) =>
    y
      .option('shell', { choices: ['bash', 'zsh'] as const, describe: 'Which shell (default: zsh when $SHELL is zsh, else bash)' })
      .example('$0 completion > /etc/bash_completion.d/tierback', 'bash, for every user (docs/install.md)')
      .example('$0 completion --shell zsh > /usr/local/share/zsh/site-functions/_tierback', 'zsh')
      .example('source <($0 completion)', 'try it in this shell')
      .epilog(`Names come from -i on the line, else $TIERBACK_INVENTORY, else the default inventory.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: run(async (argv) => {
    // yargs picks the template from $SHELL when the instance is made.
    const zsh = argv.shell ? argv.shell === 'zsh' : /zsh/.test(process.env['SHELL'] ?? '');
    process.env['SHELL'] = zsh ? '/bin/zsh' : '/bin/bash';
    delete process.env['ZSH_NAME'];
    const { default: yargs } = await import('yargs');
    yargs().scriptName('tierback').completion('completion', false).showCompletionScript();
    return ExitCode.OK;
  }),
};
