/**
 * What this machine sees of the site: which servers' local tiers and which backup servers'
 * remote tiers exist here, under an optional root prefix (`--root DIR` / $TIERBACK_ROOT) so
 * tests and the sandbox demo can work in a temporary folder. The single helper every
 * command that reads trees on "this machine" uses.
 */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as C from './layout.js';
import * as N from './names.js';
import { NotFoundError, UsageError } from '../base/errors.js';
import { exists } from '../base/fsutil.js';
import { suggest, type ResolvedBackupServer, type ResolvedServer, type Site } from './inventory/model.js';

export const ROOT_ENV = 'TIERBACK_ROOT';
export const HOST_ENV = 'TIERBACK_HOST';

export interface MachineOptions {
  /** Prefix of every path (default: $TIERBACK_ROOT, else none). */
  root?: string | undefined;
  /** Which inventory server this machine is (default: $TIERBACK_HOST, else the host name, else detected from the trees). */
  host?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** The root prefix to use: '' (none) or an absolute folder. */
export function resolveRoot(opts: Pick<MachineOptions, 'root' | 'env'> = {}): string {
  const r = opts.root ?? (opts.env ?? process.env)[ROOT_ENV] ?? '';
  if (r === '' || r === '/') return '';
  if (!path.isAbsolute(r)) throw new UsageError(`root "${r}" is not an absolute path`, 'give --root (or $TIERBACK_ROOT) as an absolute folder, e.g. /tmp/sandbox');
  return path.resolve(r);
}

/** `p` (an absolute path of the convention) as seen under `root`. */
export function rooted(root: string, p: string): string {
  return root === '' ? p : path.join(root, p);
}

export interface MachineView {
  root: string;
  /** How the servers were chosen: named (--host/$TIERBACK_HOST), hostname, or detected from the trees. */
  identity: 'named' | 'hostname' | 'detected';
  /** Servers whose local tier lives on this machine. */
  localServers: ResolvedServer[];
  /** Backup servers whose remote tier lives on this machine. */
  backupServers: ResolvedBackupServer[];
}

/**
 * The inventory server a host name names: its exact fqdn, else, for a bare name ("odin"), the one
 * server whose first DNS label it is; none when that is ambiguous (or a dotted name is not an fqdn).
 */
export function matchServer(site: Site, name: string): ResolvedServer | undefined {
  const n = name.toLowerCase();
  const exact = site.servers.find((s) => s.fqdn === n);
  if (exact) return exact;
  if (n.includes('.')) return undefined;
  const byLabel = site.servers.filter((s) => s.fqdn.split('.')[0] === n);
  return byLabel.length === 1 ? byLabel[0] : undefined;
}

/**
 * The name this machine goes by, and where it came from: `given` (--host, --backup-server), else
 * $TIERBACK_HOST, else the system's host name. Every command that asks "which host is this?"
 * starts here (resolveHost, scanMachine, pull's resolveBackupServer, schedule's host).
 */
export function ownHostName(given: string | undefined, env: NodeJS.ProcessEnv = process.env, hostname: string = os.hostname()): { name: string; from: 'option' | 'env' | 'hostname' } {
  if (given) return { name: given, from: 'option' };
  const fromEnv = env[HOST_ENV];
  if (fromEnv) return { name: fromEnv, from: 'env' };
  return { name: hostname, from: 'hostname' };
}

/** Which inventory server this machine is (ownHostName matched by matchServer); throws naming where the name came from. */
export function resolveHost(site: Site, given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const { name, from } = ownHostName(given, env);
  const server = matchServer(site, name);
  if (server) return server.fqdn;
  throw new NotFoundError(
    `this machine ("${name}"${from === 'option' ? '' : from === 'env' ? ` from $${HOST_ENV}` : ', its host name'}) is not a server of ${site.file}`,
    `give the server it is with --host FQDN or $${HOST_ENV}; ${suggest(name, site.servers.map((s) => s.fqdn), 'servers')}`,
  );
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/**
 * Finds which tiers this machine holds. A named host (or a host name matching an inventory
 * server) decides; otherwise every server whose trees are found under the root is taken:
 * a server's local tier when one of its VM folders, or a history file of one of its apps,
 * exists; a backup server's remote tier when a remote tree, snapshots or pull history of a
 * server it pulls exists.
 */
export async function scanMachine(site: Site, opts: MachineOptions = {}): Promise<MachineView> {
  const root = resolveRoot(opts);
  const me = ownHostName(opts.host, opts.env ?? process.env);
  if (me.from !== 'hostname') {
    const s = matchServer(site, me.name);
    if (!s) throw new UsageError(`host "${me.name}" is not a server of ${site.file}`, `give one of: ${site.servers.map((x) => x.fqdn).join(', ')}`);
    return viewOf(site, root, s, 'named');
  }
  const byName = matchServer(site, me.name);
  if (byName && root === '') return viewOf(site, root, byName, 'hostname');

  const localServers: ResolvedServer[] = [];
  for (const s of site.servers) {
    if (s.role === 'backup') continue;
    const local = rooted(root, C.localRoot(s.partition));
    const entries = new Set(await listDir(local));
    if (entries.size === 0) continue;
    const vms = site.vms.filter((v) => v.server === s.fqdn).map((v) => v.name);
    let seen = vms.some((v) => entries.has(v));
    if (!seen && entries.has(N.HOST_VM)) {
      const hist = await listDir(rooted(root, C.jobHistoryDir(s.partition, N.HOST_VM)));
      const apps = new Set(site.apps.filter((a) => a.server === s.fqdn && a.vm === N.HOST_VM).map((a) => a.name));
      seen = hist.some((f) => apps.has(N.parseHistoryFileName(f)?.name ?? ''));
    }
    if (seen) localServers.push(s);
  }
  const backupServers: ResolvedBackupServer[] = [];
  for (const b of site.backupServers) {
    const hist = await listDir(rooted(root, C.serverHistoryDir(b.partition)));
    let seen = false;
    for (const p of b.pulls) {
      if (
        (await exists(rooted(root, C.remoteServerDir(b.partition, p.server)))) ||
        (await exists(rooted(root, C.snapshotsDir(b.partition, p.server)))) ||
        hist.some((f) => N.parseHistoryFileName(f)?.name === N.pullHistoryName(p.server))
      ) {
        seen = true;
        break;
      }
    }
    if (seen) backupServers.push(b);
  }
  return { root, identity: 'detected', localServers, backupServers };
}

function viewOf(site: Site, root: string, s: ResolvedServer, identity: MachineView['identity']): MachineView {
  return {
    root,
    identity,
    localServers: s.role === 'backup' ? [] : [s],
    backupServers: site.backupServers.filter((b) => b.server === s.fqdn),
  };
}

/** The on-disk location of an inventory path under `root` (undefined or "/": the path itself). */
export function diskPath(root: string | undefined, logical: string): string {
  return rooted(root ?? '/', logical);
}
