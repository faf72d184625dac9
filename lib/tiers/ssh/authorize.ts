/** `tierback ssh authorize`: the authorized_keys lines a backup server's key needs on its source servers. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { localRoot } from '../../model/layout.js';
import { findServer, suggest, type Site } from '../../model/inventory/model.js';
import { authorizedKeysLine } from '../pull/ssh.js';

export interface AuthorizeOptions {
  /** Only this source server (default: every server the backup server pulls over SSH). */
  source?: string | undefined;
  /** Public key file of the backup server (default: `<servers[].ssh.identity>.pub`, else ~/.ssh/id_ed25519.pub). */
  keyFile?: string | undefined;
  /** Address patterns the key may connect from (authorized_keys from="..."). */
  from?: string | undefined;
}

export interface AuthorizeLine {
  /** The source server whose `~/.ssh/authorized_keys` gets the line. */
  server: string;
  user: string;
  /** The folder the key may read: `<partition>/local`. */
  readOnly: string;
  keyFile: string;
  line: string;
}

export async function authorizeLines(site: Site, backupServerFqdn: string, opts: AuthorizeOptions = {}): Promise<AuthorizeLine[]> {
  const b = site.backupServers.find((x) => x.server === backupServerFqdn);
  if (!b) throw new NotFoundError(`"${backupServerFqdn}" is not a backup server in ${site.file}`, suggest(backupServerFqdn, site.backupServers.map((x) => x.server), 'backup servers'));
  let pulls = b.pulls.filter((p) => p.transport === 'ssh');
  if (opts.source) {
    pulls = pulls.filter((p) => p.server === opts.source);
    if (pulls.length === 0) throw new NotFoundError(`${b.server} does not pull ${opts.source} over SSH (backup_servers[${b.index}].pulls)`, 'add it to the pulls first');
  }
  const out: AuthorizeLine[] = [];
  for (const p of pulls) {
    const s = findServer(site, p.server);
    const keyFile = opts.keyFile ?? (s.ssh?.identity ? `${s.ssh.identity}.pub` : path.join(os.homedir(), '.ssh', 'id_ed25519.pub'));
    let publicKey: string;
    try {
      publicKey = (await readFile(keyFile, 'utf8')).trim();
    } catch (err) {
      throw new UsageError(`cannot read the backup server's public key ${keyFile}: ${(err as Error).message}`, `create one on ${b.server} with \`ssh-keygen -t ed25519 -N "" -f ${keyFile.replace(/\.pub$/, '')}\`, or give --key FILE.pub`);
    }
    out.push({
      server: s.fqdn,
      user: s.ssh?.user ?? 'root',
      readOnly: localRoot(s.partition),
      keyFile,
      line: authorizedKeysLine({ publicKey, sourcePartition: s.partition, comment: `tierback-pull-by-${b.server}`, from: opts.from }),
    });
  }
  return out;
}
