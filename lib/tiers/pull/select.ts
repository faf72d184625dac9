/** Which pulls a run makes: the backup server this host is, and the servers named on the command line. */
import os from 'node:os';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { suggest, type ResolvedBackupServer, type ResolvedPull, type Site } from '../../model/inventory/model.js';
import { matchServer, ownHostName } from '../../model/machine.js';

/** Picks the pulls of a backup server named on the command line (all by default). */
export function selectPulls(site: Site, backupServer: ResolvedBackupServer, servers: readonly string[] | undefined): ResolvedPull[] {
  if (!servers || servers.length === 0) return backupServer.pulls;
  const known = backupServer.pulls.map((p) => p.server);
  return servers.map((s) => {
    const p = backupServer.pulls.find((x) => x.server === s);
    if (!p) {
      const inSite = site.servers.some((x) => x.fqdn === s);
      throw new NotFoundError(
        inSite ? `${backupServer.server} does not pull ${s} (backup_servers[${backupServer.index}].pulls)` : `no server "${s}" in ${site.file}`,
        inSite ? `add it to backup_servers[${backupServer.index}].pulls, or pull it from ${site.backupServers.filter((b) => b.pulls.some((x) => x.server === s)).map((b) => b.server).join(', ') || 'another backup server'}` : suggest(s, known, 'servers'),
      );
    }
    return p;
  });
}

/**
 * Which backup server this host is: `explicit`, else $TIERBACK_HOST, else the hostname (or its
 * short form) matched against backup_servers, else the only backup server.
 */
export function resolveBackupServer(site: Site, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, hostname = os.hostname()): ResolvedBackupServer {
  const names = site.backupServers.map((b) => b.server);
  const own = ownHostName(explicit, env, hostname);
  const want = own.from === 'hostname' ? undefined : own.name;
  if (want) {
    const b = site.backupServers.find((x) => x.server === want);
    if (!b) throw new NotFoundError(`"${want}" is not a backup server in ${site.file}`, suggest(want, names, 'backup servers'));
    return b;
  }
  const me = matchServer(site, hostname);
  const byHost = me && site.backupServers.find((b) => b.server === me.fqdn);
  if (byHost) return byHost;
  if (site.backupServers.length === 1) return site.backupServers[0]!;
  if (site.backupServers.length === 0) throw new NotFoundError(`${site.file} has no backup_servers`, 'add a backup_servers entry naming this host and the servers it pulls');
  throw new UsageError(`cannot tell which backup server this host (${hostname}) is: ${names.join(', ')}`, 'give --backup-server FQDN or set $TIERBACK_HOST');
}
