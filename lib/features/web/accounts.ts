/**
 * Accounts of the web interface, in their own file apart from the inventory (JSON, 0600, replaced
 * atomically): a scrypt hash per account and the apps it may see ("*" for all). Managed by
 * `tierback users ...`; read by `tierback serve` on each sign-in (so changes need no restart).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { ensureDir, writeFileAtomic } from '../../base/fsutil.js';

export const USERS_ENV = 'TIERBACK_USERS';
export const DEFAULT_USERS_FILE = '/etc/tierback/web-users.json';

export interface Account {
  /** `scrypt$N$r$p$<salt b64>$<hash b64>` */
  hash: string;
  /** App names, or "*" for every app. */
  apps: '*' | string[];
}

export interface Accounts {
  version: 1;
  users: Record<string, Account>;
}

const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/i;
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEYLEN = 32;

export function usersFile(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(given ?? env[USERS_ENV] ?? DEFAULT_USERS_FILE);
}

function scrypt(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, KEYLEN, { ...opts, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Compares in constant time; a malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A hash to compare against when the account does not exist, so both cases take the same time. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  return (dummy ??= hashPassword(randomBytes(12).toString('hex')));
}

export async function readAccounts(file: string): Promise<Accounts> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: {} };
    throw err;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not a tierback accounts file (${(err as Error).message})`, 'manage it with `tierback users ...` only');
  }
  const d = data as Partial<Accounts>;
  if (d.version !== 1 || typeof d.users !== 'object' || d.users === null) throw new UsageError(`${file}: not a tierback accounts file (version 1 expected)`, 'manage it with `tierback users ...` only');
  for (const [name, a] of Object.entries(d.users)) {
    if (typeof a?.hash !== 'string' || !(a.apps === '*' || (Array.isArray(a.apps) && a.apps.every((x) => typeof x === 'string')))) {
      throw new UsageError(`${file}: users.${name}: needs "hash" and "apps" ("*" or a list of app names)`, 'set it again with `tierback users add`');
    }
  }
  return d as Accounts;
}

async function writeAccounts(file: string, accounts: Accounts): Promise<void> {
  await ensureDir(path.dirname(file));
  await writeFileAtomic(file, `${JSON.stringify(accounts, null, 2)}\n`, 0o600);
}

export function checkWebUserName(name: string): void {
  if (!NAME.test(name)) throw new UsageError(`user name "${name}" is not allowed`, 'letters, digits, . _ @ - (up to 64), starting with a letter or digit');
}

/** Adds or replaces an account. */
export async function setUser(file: string, name: string, password: string, apps: '*' | string[]): Promise<void> {
  checkWebUserName(name);
  if (password.length < 8) throw new UsageError(`the password of "${name}" is shorter than 8 characters`, 'use a longer one (or --generate)');
  const accounts = await readAccounts(file);
  accounts.users[name] = { hash: await hashPassword(password), apps };
  await writeAccounts(file, accounts);
}

export async function removeUser(file: string, name: string): Promise<void> {
  const accounts = await readAccounts(file);
  if (!accounts.users[name]) throw new NotFoundError(`no user "${name}" in ${file}`, '`tierback users list` shows them');
  delete accounts.users[name];
  await writeAccounts(file, accounts);
}

/** Whether `account` may see `app`. */
export function maysee(account: Account, app: string): boolean {
  return account.apps === '*' || account.apps.includes(app);
}
