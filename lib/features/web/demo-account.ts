/** The demo's web account: a random password in a 0600 file, the account in the sandbox's accounts file. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { writeFileAtomic } from '../../base/fsutil.js';
import { setUser } from './accounts.js';

export const DEMO_USER = 'demo';

export interface DemoAccount {
  user: string;
  usersFile: string;
  passwordFile: string;
}

export async function createDemoAccount(dir: string): Promise<DemoAccount> {
  const usersFile = path.join(dir, 'web-users.json');
  const passwordFile = path.join(dir, 'demo-password');
  const password = randomBytes(15).toString('base64url');
  await writeFileAtomic(passwordFile, `${password}\n`, 0o600);
  await setUser(usersFile, DEMO_USER, password, '*');
  return { user: DEMO_USER, usersFile, passwordFile };
}

/** The one command that serves the sandbox (argv-safe: paths only, never the password). */
export function serveCommandLine(inventory: string, usersFile: string, bin = 'node build/cli/tierback.js'): string {
  const q = (s: string) => (/^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `${bin} serve --inventory ${q(inventory)} --users ${q(usersFile)}`;
}
