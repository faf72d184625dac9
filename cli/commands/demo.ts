/** `tierback demo`: the whole convention end to end on an embedded default site in a sandbox. */
import type { CommandModule } from 'yargs';
import { defaultDemoDir, runDemo } from '../../lib/demo.js';
import { ExitCode } from '../../lib/errors.js';
import { EXIT_CODES_EPILOG, makeLogger, out, type GlobalArgs } from '../context.js';

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
    const r = await runDemo({ dir: argv.dir, say: out, log: makeLogger(argv) });
    const ok = (s: string) => s === 'ok' || s === 'warning';
    if (![...r.jobs.flat().map((j) => j.status), ...r.pulls.flat().map((p) => p.status)].every(ok)) process.exitCode = ExitCode.FAILED;
  },
};
