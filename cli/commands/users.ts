/** `tierback users ...`: accounts of the web interface (docs/web.md), in their own 0600 file. */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { ExitCode, UsageError } from '../../lib/base/errors.js';
import { findApp } from '../../lib/model/inventory/model.js';
import { writeFileAtomic } from '../../lib/base/fsutil.js';
import { readAccounts, removeUser, setUser, usersFile } from '../../lib/features/web/accounts.js';
import { EXIT_CODES_EPILOG, loadSite, out, printJson, table, type GlobalArgs } from '../context.js';
import { run } from '../lifecycle.js';

interface Args extends GlobalArgs {
  action: 'add' | 'remove' | 'list';
  name?: string;
  users?: string;
  apps?: string;
  'password-file'?: string;
  generate?: string;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const usersCommand: CommandModule<GlobalArgs, Args> = {
  command: 'users <action> [name]',
  describe: 'Accounts of the web interface: add (or change), remove, list',
  builder: (y) =>
    y
      .positional('action', { choices: ['add', 'remove', 'list'] as const, demandOption: true })
      .positional('name', { type: 'string', describe: 'User name' })
      .option('users', { type: 'string', describe: 'Accounts file (else $TIERBACK_USERS, else /etc/tierback/web-users.json)' })
      .option('apps', { type: 'string', describe: 'add: comma-separated app names the account may see, or "*" for all (default *)' })
      .option('password-file', { type: 'string', describe: 'add: file whose first line is the password (else read from stdin)' })
      .option('generate', { type: 'string', describe: 'add: make a random password and write it to this new file (0600)' })
      .example('$0 users add drawmgt --apps drawmgt --generate /root/drawmgt.pw', 'a customer account that sees one app')
      .example('printf %s "$PW" | $0 users add ops', 'an account that sees every app, password on stdin')
      .example('$0 users list', 'who may sign in, and to which apps')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: run(async (argv) => {
    const file = usersFile(argv.users);
    if (argv.action === 'list') {
      const a = await readAccounts(file);
      const rows = Object.entries(a.users).map(([n, u]) => [n, u.apps === '*' ? '*' : u.apps.join(',')]);
      if (argv.json) printJson({ file, users: Object.fromEntries(Object.entries(a.users).map(([n, u]) => [n, { apps: u.apps }])) });
      else out(rows.length ? table(['USER', 'APPS'], rows) : `no accounts in ${file}`);
      return ExitCode.OK;
    }
    if (!argv.name) throw new UsageError(`users ${argv.action} needs a user name`, `tierback users ${argv.action} NAME`);
    if (argv.action === 'remove') {
      await removeUser(file, argv.name);
      out(`removed ${argv.name} from ${file}`);
      return ExitCode.OK;
    }
    let apps: '*' | string[] = '*';
    if (argv.apps && argv.apps.trim() !== '*') {
      apps = argv.apps.split(',').map((s) => s.trim()).filter(Boolean);
      const site = await loadSite(argv);
      for (const n of apps) findApp(site, n);
    }
    let password: string;
    if (argv.generate) {
      password = randomBytes(15).toString('base64url');
      await writeFileAtomic(argv.generate, `${password}\n`, 0o600);
    } else if (argv['password-file']) password = (await readFile(argv['password-file'], 'utf8')).split('\n')[0]!;
    else {
      if (process.stdin.isTTY) throw new UsageError('no password given', 'give --password-file FILE, --generate FILE, or pipe it on stdin');
      password = (await readStdin()).split('\n')[0]!;
    }
    await setUser(file, argv.name, password, apps);
    out(`${argv.name} may see ${apps === '*' ? 'every app' : apps.join(', ')} (${file})${argv.generate ? `; password in ${argv.generate}` : ''}`);
    return ExitCode.OK;
  }),
};
