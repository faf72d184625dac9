/**
 * The one SSH/rsync transport: how tierback reaches another server (pull, move, restore
 * --to-server, ssh check): the target from the inventory (`sshTarget`), host key pinning
 * (known_hosts from the inventory's `host_key`, or an operator's file; always strict), the OpenSSH
 * client argv and rsync's `-e` value (`openSshTransport`), and the `authorized_keys` line that
 * restricts the backup server's key to read-only rsync.
 */
import { readFileSync } from 'node:fs';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { localRoot } from '../../model/layout.js';
import { rshString } from './rsync.js';
import { FILE_MODE } from '../../base/fsutil.js';
import { UsageError } from '../../base/errors.js';
import type { ResolvedServer } from '../../model/inventory/model.js';
import type { Exec } from '../../base/exec.js';

export interface SshTarget {
  server: string;
  host: string;
  port: number;
  user: string;
  identity: string | undefined;
  /** Pinned key line ("ssh-ed25519 AAAA..."), when the inventory gives one. */
  hostKey: string | undefined;
  /** known_hosts file to verify against, when the inventory gives one. */
  knownHostsFile: string | undefined;
  /** The source server's key is restricted by `rrsync -ro <partition>/local`: remote paths are relative to it. */
  rrsync: boolean;
  /** `<partition>/local` on the source server. */
  localRoot: string;
}

export const DEFAULT_CONNECT_TIMEOUT_S = 30;

export function sshTarget(server: ResolvedServer): SshTarget {
  const s = server.ssh;
  return {
    server: server.fqdn,
    host: s?.host ?? server.fqdn,
    port: s?.port ?? 22,
    user: s?.user ?? 'root',
    identity: s?.identity,
    hostKey: s?.host_key?.trim(),
    knownHostsFile: s?.known_hosts,
    rrsync: s?.rrsync ?? false,
    localRoot: localRoot(server.partition),
  };
}

/** The host as rsync and scp want it before ":" (IPv6 addresses in brackets). */
export function rsyncHost(t: SshTarget): string {
  return t.host.includes(':') ? `[${t.host}]` : t.host;
}

/** The rsync source of a pull over SSH: `<partition>/local/`, or `/` (= that folder) under rrsync. */
export function remoteSource(t: SshTarget): string {
  return `${rsyncHost(t)}:${t.rrsync ? '/' : `${t.localRoot}/`}`;
}

/** Validates a pinned key line: "<type> <base64> [comment]". */
export function parseHostKey(line: string, where: string): { type: string; key: string } {
  const [type, key] = line.trim().split(/\s+/);
  if (!type || !key || !/^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+=*$/.test(key)) {
    throw new UsageError(`${where}: "${line.slice(0, 40)}..." is not a host key`, 'copy the server\'s /etc/ssh/ssh_host_ed25519_key.pub, e.g. "ssh-ed25519 AAAA..."');
  }
  return { type, key };
}

/** Host key alias used in generated known_hosts files: the server's fqdn, whatever host/port we connect to. */
export function hostKeyAlias(t: SshTarget): string {
  return t.server;
}

export interface KnownHosts {
  /** ssh -o options pinning the host key. */
  options: string[];
  cleanup(): Promise<void>;
}

/**
 * Prepares host key verification. A pinned `host_key` is written to a private known_hosts file
 * (0600 in a 0700 temp folder) under the server's fqdn, used with HostKeyAlias; a `known_hosts`
 * file is used as is. Never turns strict checking off.
 */
export async function prepareKnownHosts(t: SshTarget, where: string): Promise<KnownHosts> {
  const common = ['-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'UpdateHostKeys=no', '-o', 'CheckHostIP=no'];
  if (t.hostKey) {
    const { type, key } = parseHostKey(t.hostKey, where);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-kh-'));
    const file = path.join(dir, 'known_hosts');
    await writeFile(file, `${hostKeyAlias(t)} ${type} ${key}\n`, { mode: FILE_MODE });
    return {
      options: ['-o', `UserKnownHostsFile=${file}`, '-o', `HostKeyAlias=${hostKeyAlias(t)}`, ...common],
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  }
  if (t.knownHostsFile) {
    return { options: ['-o', `UserKnownHostsFile=${t.knownHostsFile}`, ...common], cleanup: async () => undefined };
  }
  // No pin in the inventory: the user's own ~/.ssh/known_hosts, still strict (unknown key = failure).
  return { options: ['-o', 'StrictHostKeyChecking=yes'], cleanup: async () => undefined };
}

/**
 * The ciphers offered, in order, when this machine's CPU has AES instructions: AES-GCM first. OpenSSH's
 * own order puts chacha20-poly1305 first, which is faster only without them; with them AES-GCM moved
 * 2 GB through ssh on loopback in 5.5 s against 8.7 s, and a first pull of 1.8 GB took about 7% less
 * (docs/decisions.md, "SSH ciphers"). The list holds every cipher of OpenSSH's default list, so any
 * server the default reaches is reached: the server's choice among them is the first it supports.
 */
export const AES_FIRST_CIPHERS = 'aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr';

let aesCpu: boolean | undefined;
/** Whether this machine's CPU has AES instructions (Linux: the `aes` flag of x86, or feature of arm64). */
export function cpuHasAes(cpuinfo?: string): boolean {
  if (cpuinfo !== undefined) return /^(flags|Features)\s*:.*\baes\b/m.test(cpuinfo);
  if (aesCpu === undefined) {
    let text = '';
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      // Not Linux, or no /proc: keep OpenSSH's own order.
    }
    aesCpu = cpuHasAes(text);
  }
  return aesCpu;
}

/** OpenSSH client argv for rsync -e: batch mode, pinned key, timeouts, no forwarding; AES-GCM first on a CPU with AES instructions. */
export function sshArgv(t: SshTarget, knownHostsOptions: readonly string[], connectTimeoutS = DEFAULT_CONNECT_TIMEOUT_S, aes = cpuHasAes()): string[] {
  const argv = [
    'ssh',
    '-p',
    String(t.port),
    '-l',
    t.user,
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${connectTimeoutS}`,
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ForwardX11=no',
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    'PasswordAuthentication=no',
    '-o',
    'KbdInteractiveAuthentication=no',
    ...knownHostsOptions,
  ];
  if (aes) argv.push('-o', `Ciphers=${AES_FIRST_CIPHERS}`);
  if (t.identity) argv.push('-i', t.identity, '-o', 'IdentitiesOnly=yes');
  return argv;
}

/** A connection to one server, ready to use: ssh's argv, rsync's -e value, and the pin files to clean up. */
export interface SshTransport {
  target: SshTarget;
  /** The full OpenSSH client argv up to (not including) the destination: `ssh -p .. -l .. -o ..`. */
  ssh: string[];
  /** The same as one rsync `-e` value. */
  rsh: string;
  /** `<host>:<path>` for rsync. */
  remote(p: string): string;
  /** Removes the temporary known_hosts file of a pinned key. */
  cleanup(): Promise<void>;
}

/**
 * Opens the transport to `server` as the inventory describes it (port, user, identity, pinned
 * host key with HostKeyAlias, batch mode, no forwarding). Host keys are always verified.
 * `where` names the inventory entry in errors about a bad pin.
 */
export async function openSshTransport(server: ResolvedServer, opts: { connectTimeoutS?: number; where?: string } = {}): Promise<SshTransport> {
  const target = sshTarget(server);
  const kh = await prepareKnownHosts(target, opts.where ?? `servers[${server.index}].ssh.host_key`);
  const ssh = sshArgv(target, kh.options, opts.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S);
  return { target, ssh, rsh: rshString(ssh), remote: (p) => `${rsyncHost(target)}:${p}`, cleanup: kh.cleanup };
}

/**
 * The `authorized_keys` line for a source server: the backup server's public key may only run
 * `rrsync -ro <partition>/local` (read-only rsync of the local tier), no pty, no forwarding.
 * `from` optionally limits the addresses it may connect from.
 */
export function authorizedKeysLine(opts: { publicKey: string; sourcePartition: string; comment?: string; from?: string; rrsyncPath?: string }): string {
  const { type, key } = parseHostKey(opts.publicKey, 'public key');
  const dir = localRoot(opts.sourcePartition);
  const rrsync = opts.rrsyncPath ?? '/usr/bin/rrsync';
  const restrictions = [`command="${rrsync} -ro ${dir}"`, 'restrict'];
  if (opts.from) {
    if (!/^[A-Za-z0-9.:*?,/!-]+$/.test(opts.from)) throw new UsageError(`--from "${opts.from}" is not an address pattern list`, 'e.g. "192.0.2.10" or "10.0.0.0/8,192.0.2.*"');
    restrictions.push(`from="${opts.from}"`);
  }
  const comment = (opts.comment ?? '').replace(/[^\x20-\x7e]/g, '').trim();
  return `${restrictions.join(',')} ${type} ${key}${comment ? ` ${comment}` : ''}`;
}

/** One SSH connection shared by the short rsyncs of a pull (docs/remote.md, "Change lists"). */
export interface SshMultiplex {
  /** The client argv for rsync -e: the transport's, plus the master's socket. */
  rsh: string[];
  /** Ends the master connection and removes its socket folder. Never throws. */
  close(): Promise<void>;
}

/**
 * Opens one OpenSSH master connection (`-M -N`: authenticated, host key verified, no session, so a
 * forced command such as `rrsync -ro` runs only for the sessions opened through it) in a private 0700
 * temp folder, and returns the argv with which every later ssh client opens its session over it
 * instead of paying a handshake of its own (`ControlMaster=no`: a client never becomes a master). The
 * master is tierback's own child (killed with it, like every child) and `close` ends it. If it
 * cannot connect, `undefined`: the clients then connect on their own and report the failure as usual.
 */
export async function openMultiplex(exec: Exec, ssh: readonly string[], host: string, opts: { waitMs: number; signal?: AbortSignal | undefined }): Promise<SshMultiplex | undefined> {
  if (exec.dryRun) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-ssh-'));
  const socket = path.join(dir, 'm');
  const removeDir = () => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  let master: ReturnType<Exec['spawn']>;
  try {
    master = exec.spawn({ argv: [...ssh, '-M', '-N', '-n', '-o', 'ControlPersist=no', '-o', `ControlPath=${socket}`, '--', host], stream: true });
  } catch {
    await removeDir();
    return undefined;
  }
  let ended = false;
  const exited = master.then(
    () => undefined,
    () => undefined,
  );
  void exited.then(() => (ended = true));
  const until = Date.now() + opts.waitMs;
  // The master creates its socket once it has authenticated: from then on, clients can use it.
  while (!ended && !opts.signal?.aborted && Date.now() < until && !(await isSocket(socket))) await new Promise((r) => setTimeout(r, 5));
  const close = async () => {
    if (!ended) master.kill('SIGTERM');
    await exited;
    await removeDir();
  };
  if (ended || !(await isSocket(socket))) {
    await close();
    return undefined;
  }
  return { rsh: [...ssh, '-o', 'ControlMaster=no', '-o', `ControlPath=${socket}`], close };
}

async function isSocket(p: string): Promise<boolean> {
  return lstat(p).then(
    (s) => s.isSocket(),
    () => false,
  );
}
