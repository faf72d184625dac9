/**
 * Checks of inventory values that end up as arguments of ssh, rsync, pg_dump, mysqldump, rclone
 * or a command job. None of them may start with "-" (a program would read it as an option:
 * `ssh.host: "-oProxyCommand=..."`), nor hold control characters. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { z } from 'zod';
import { checkHostname, type Violation } from '../names.js';

/** Where an ASCII control character (or NUL) sits in a value, if any. */
function controlChar(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  const m = /[\u0000-\u001f\u007f]/.exec(value);
  return m ? `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}

const NOT_AN_OPTION = 'a value starting with "-" would be read as an option of the program it is passed to';

/** A host to connect to: an RFC 1123 host name (a-z, 0-9, "-", dots) or an IPv4/IPv6 address (no brackets). */
export function checkNetworkHost(value: string): Violation | undefined {
  if (value.startsWith('-')) return { message: `"${value}" is not a host name or address`, hint: `${NOT_AN_OPTION}; write a host name such as "zg-3.softxs.ch" or an address such as "192.0.2.10"` };
  if (isIPv4(value) || isIPv6(value)) return undefined;
  if (value.startsWith('/')) return { message: `"${value}" is a path, not a host name or address`, hint: 'a database\'s Unix socket (or socket folder) goes in socket:, not host:' };
  if (value.startsWith('[') && isIPv6(value.slice(1, -1))) return { message: `"${value}" has brackets`, hint: `write the IPv6 address without them: "${value.slice(1, -1)}"` };
  const v = checkHostname(value);
  return v ? { message: `"${value}" is not a host name or address: it ${v.message}`, hint: `${v.hint}; or an IPv4/IPv6 address` } : undefined;
}

/** POSIX portable user names as useradd accepts them by default (what ssh -l and cron.d get). */
const POSIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export function checkUserName(value: string): Violation | undefined {
  if (POSIX_USER.test(value)) return undefined;
  return {
    message: `"${value}" is not a user name`,
    hint: value.startsWith('-') ? `${NOT_AN_OPTION}; a user name is a-z, 0-9, "_" and "-", starting with a letter or "_"` : 'a user name is a-z, 0-9, "_" and "-", starting with a letter or "_", at most 32 characters, e.g. "root" or "backup"',
  };
}

/** A database user (MySQL, PostgreSQL): letters, digits, "_", ".", "$", "-", not starting with "-". */
const DB_USER = /^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,79}$/;

export function checkDatabaseUser(value: string): Violation | undefined {
  if (DB_USER.test(value)) return undefined;
  return {
    message: `"${value}" is not a database user name`,
    hint: value.startsWith('-') ? `${NOT_AN_OPTION}; use letters, digits, "_", ".", "$" and "-"` : 'use letters, digits, "_", ".", "$" and "-", starting with a letter, digit or "_", at most 80 characters',
  };
}

/** An absolute path passed to ssh through `rsync -e` (identity, known_hosts): no quotes, no control characters. */
export function checkSshPath(value: string): Violation | undefined {
  const c = controlChar(value);
  if (c) return { message: `contains the control character ${c}`, hint: 'write the path on one line, without control characters' };
  if (/['"\\]/.test(value)) return { message: `"${value}" contains a quote or a backslash`, hint: 'rsync passes this path to ssh: rename the file or link it from a plain path' };
  return undefined;
}

/** A pinned host key line: "<type> <base64> [comment]" on one line. */
export function checkHostKey(value: string): Violation | undefined {
  const [type, key] = value.trim().split(/\s+/);
  const c = controlChar(value.trim());
  if (c || !type || !key || !/^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+=*$/.test(key)) {
    return { message: `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)} is not a host key`, hint: 'copy one line of the server\'s /etc/ssh/ssh_host_ed25519_key.pub, e.g. "ssh-ed25519 AAAA..."' };
  }
  return undefined;
}

/** The argv of a command job: a program (not an option, not empty) and arguments without NUL. */
export function checkCommandArgv(argv: readonly string[]): { index: number; violation: Violation } | undefined {
  const program = argv[0];
  if (program !== undefined && (program === '' || program.startsWith('-') || controlChar(program))) {
    return { index: 0, violation: { message: `"${program}" is not a program`, hint: 'the first word is the program to run: a name on PATH such as "mongodump" or an absolute path' } };
  }
  const nul = argv.findIndex((a) => a.includes('\u0000'));
  if (nul >= 0) return { index: nul, violation: { message: 'contains a NUL character', hint: 'no program argument can hold NUL; remove it' } };
  return undefined;
}

/** A zod refinement from a check: the violation's message, its hint in the issue's params (shown by `inventory check`). */
export function refineWith<T>(check: (v: T) => Violation | undefined) {
  return (value: T, ctx: z.RefinementCtx) => {
    const v = check(value);
    if (v) ctx.addIssue({ code: 'custom', message: v.message, params: { hint: v.hint } });
  };
}
