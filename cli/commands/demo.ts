/** `tierback demo`: the whole convention end to end on an embedded default site in a sandbox. */
import type { CommandModule } from 'yargs';
import { defaultDemoDir, runDemo } from '../../lib/demo.js';
import { EXIT_CODES_EPILOG, out, type GlobalArgs } from '../context.js';

interface Args extends GlobalArgs {
  dir?: string;
}

export const demoCommand: CommandModule<GlobalArgs, Args> = {
  command: 'demo',
  describe: 'Run the demo: a sandbox site with sample apps, their paths, jobs, a pull, history and status',
  builder: (y) =>
    y
      .option('dir', { type: 'string', describe: `Sandbox folder (default ${defaultDemoDir()}); re-created on each run` })
      .example('$0 demo', 'run the demo in the default sandbox')
      .example('$0 demo --dir /tmp/mydemo', 'somewhere else')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: async (argv) => {
    await runDemo({ dir: argv.dir, say: out });
  },
};
