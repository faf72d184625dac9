/** `tierback demo`: the whole convention end to end on an embedded default site in a sandbox. */
import type { CommandModule } from 'yargs';
import { defaultDemoDir, runDemo } from '../../lib/features/demo/index.js';
import { ExitCode } from '../../lib/base/errors.js';
import { createDemoAccount, serveCommandLine } from '../../lib/features/web/demo-account.js';
import { formatStatus } from './status.js';
import { EXIT_CODES_EPILOG, makeLogger, out, type GlobalArgs } from '../context.js';
import { run } from '../lifecycle.js';

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
  handler: run(async (argv) => {
    const r = await runDemo({ dir: argv.dir, say: out, log: makeLogger(argv) });
    out('');
    out('== 8. Status: is every app backed up, on every tier? (tierback status)');
    out(formatStatus(r.status, r.site.timezone));
    out('');
    out(`Try it yourself:  export TIERBACK_INVENTORY=${r.site.file}`);
    out('  node build/cli/tierback.js status        # the table above');
    out('  node build/cli/tierback.js history shop  # every run of one app');
    out('  node build/cli/tierback.js paths shop    # where it is, on every tier');
    out(`  ls -l ${r.dir}/partition/remote/ ${r.dir}/partition/snapshots/*/`);
    const web = await createDemoAccount(r.dir);
    out('');
    out(`== 9. The web interface: open http://127.0.0.1:8080/ and sign in as "${web.user}" with the password in ${web.passwordFile} (docs/web.md). Serve it with:`);
    out(serveCommandLine(r.site.file, web.usersFile));
    const ok = (s: string) => s === 'ok' || s === 'warning';
    const allOk = [...r.jobs.flat().map((j) => j.status), ...r.pulls.flat().map((p) => p.status)].every(ok) && r.status.rows.every((row) => row.state === 'OK');
    return allOk ? ExitCode.OK : ExitCode.FAILED;
  }),
};
