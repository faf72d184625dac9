/** `tierback serve`: the web interface to find, browse and download backups (docs/web.md). */
import path from 'node:path';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../../lib/base/errors.js';
import { usersFile } from '../../lib/features/web/accounts.js';
import { startServer } from '../../lib/features/web/server.js';
import { EXIT_CODES_EPILOG, nowOf, out, runOnSite, type GlobalArgs } from '../context.js';
import { intOption } from '../int-option.js';
import { interruptSignal } from '../lifecycle.js';
import { machineOptions, withMachineOptions, type MachineArgs } from '../machine-options.js';

interface Args extends GlobalArgs, MachineArgs {
  listen: string;
  port: number;
  users?: string;
  'audit-log'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'behind-proxy'?: boolean;
  'session-hours': number;
}

export const serveCommand: CommandModule<GlobalArgs, Args> = {
  command: 'serve',
  describe: 'Serve the web interface: status, points in time, browse, find and download (read-only)',
  builder: (y) =>
    withMachineOptions(y)
      .option('listen', { type: 'string', default: '127.0.0.1', describe: 'Address to bind; another than loopback needs --tls-cert/--tls-key' })
      .option('port', intOption('port', { min: 0, max: 65535 }, { default: 8080, describe: 'TCP port (0: any free one)' }))
      .option('users', { type: 'string', describe: 'Accounts file (else $TIERBACK_USERS, else /etc/tierback/web-users.json); `tierback users`' })
      .option('audit-log', { type: 'string', describe: 'Log of sign-ins, refusals and downloads (default: web-audit.log next to the accounts file)' })
      .option('tls-cert', { type: 'string', describe: 'TLS certificate file (PEM)' })
      .option('tls-key', { type: 'string', describe: 'TLS private key file (PEM)' })
      .option('behind-proxy', { type: 'boolean', describe: 'A reverse proxy on this machine terminates TLS (docs/web.md): Secure cookies, X-Forwarded-For from loopback trusted' })
      .option('session-hours', intOption('session-hours', { min: 1, max: 24 * 30 }, { default: 8, describe: 'Sessions expire after this many hours' }))
      .example('$0 serve', 'on http://127.0.0.1:8080, for an SSH tunnel or a reverse proxy')
      .example('$0 serve --behind-proxy', 'nginx or Caddy in front (docs/web.md)')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site) => {
    const users = usersFile(argv.users);
    const tls = argv['tls-cert'] || argv['tls-key'] ? { cert: path.resolve(argv['tls-cert'] ?? ''), key: path.resolve(argv['tls-key'] ?? '') } : undefined;
    const given = nowOf(argv).now;
    const server = await startServer({
      site,
      ...machineOptions(argv),
      usersFile: users,
      auditFile: path.resolve(argv['audit-log'] ?? path.join(path.dirname(users), 'web-audit.log')),
      listen: argv.listen,
      port: argv.port,
      tls,
      behindProxy: argv['behind-proxy'],
      sessionHours: argv['session-hours'],
      ...(given ? { now: () => given } : {}),
    });
    out(`tierback serve: ${server.url}/ (accounts: ${users}); stop with Ctrl-C`);
    const signal = interruptSignal();
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    await server.close();
    return ExitCode.OK;
  }),
};
