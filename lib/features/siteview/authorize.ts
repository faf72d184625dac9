/**
 * The authorized_keys line that lets the site view's key read one backup server's feed, and
 * nothing else: `restrict,command="tierback status --feed --host B"`. sshd runs that command
 * whatever the client asks (SSH_ORIGINAL_COMMAND is ignored): no shell, no pty, no forwarding.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { findServer, suggest, type Site } from '../../model/inventory/model.js';
import { parseHostKey } from '../../tiers/pull/ssh.js';

export interface SiteViewKeyOptions {
  /** The program (and leading arguments, space-separated) that runs tierback on the backup server (default `tierback`). */
  command?: string | undefined;
  /** The inventory file on the backup server (default: none, tierback finds its own). */
  inventory?: string | undefined;
  /** `--root` for the feed (sandboxes and tests). */
  root?: string | undefined;
  /** Public key file of the machine that gathers (default: `<servers[B].ssh.identity>.pub`, else ~/.ssh/id_ed25519.pub). */
  keyFile?: string | undefined;
  from?: string | undefined;
}

export interface SiteViewKey {
  backupServer: string;
  user: string;
  keyFile: string;
  /** The forced command, as sshd will run it. */
  command: string;
  line: string;
}

/** A word of the forced command: plain words as they are, others single-quoted; no `"` or `\` (they would end the option). */
function word(w: string, what: string): string {
  if (/["\\\n\r]/.test(w) || w === '') throw new UsageError(`${what} "${w}" cannot go in an authorized_keys command`, 'use a path without quotes, backslashes or line breaks');
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

export async function siteViewKey(site: Site, backupServer: string, opts: SiteViewKeyOptions = {}): Promise<SiteViewKey> {
  const b = site.backupServers.find((x) => x.server === backupServer);
  if (!b) throw new NotFoundError(`"${backupServer}" is not a backup server in ${site.file}`, suggest(backupServer, site.backupServers.map((x) => x.server), 'backup servers'));
  const s = findServer(site, b.server);
  const program = (opts.command ?? 'tierback').trim().split(/\s+/).map((w) => word(w, '--command'));
  const args = ['status', '--feed', '--host', word(b.server, 'backup server')];
  if (opts.inventory) args.push('--inventory', word(opts.inventory, '--remote-inventory'));
  if (opts.root) args.push('--root', word(opts.root, '--root'));
  const command = [...program, ...args].join(' ');
  const keyFile = opts.keyFile ?? (s.ssh?.identity ? `${s.ssh.identity}.pub` : path.join(os.homedir(), '.ssh', 'id_ed25519.pub'));
  let publicKey: string;
  try {
    publicKey = (await readFile(keyFile, 'utf8')).trim();
  } catch (err) {
    throw new UsageError(`cannot read the site view's public key ${keyFile}: ${(err as Error).message}`, `create one with \`ssh-keygen -t ed25519 -N "" -f ${keyFile.replace(/\.pub$/, '')}\`, or give --key FILE.pub`);
  }
  const { type, key } = parseHostKey(publicKey, keyFile);
  const options = ['restrict', `command="${command}"`];
  if (opts.from) {
    if (!/^[A-Za-z0-9.:*?,/!-]+$/.test(opts.from)) throw new UsageError(`--from "${opts.from}" is not an address pattern list`, 'e.g. "192.0.2.10" or "10.0.0.0/8,192.0.2.*"');
    options.push(`from="${opts.from}"`);
  }
  return { backupServer: b.server, user: s.ssh?.user ?? 'root', keyFile, command, line: `${options.join(',')} ${type} ${key} tierback-site-view-of-${b.server}` };
}
