/**
 * A real OpenSSH server for tests: its own config, host key and port on 127.0.0.1, its own
 * authorized_keys lines. Stop it in an after() hook; stop() also ends its connection processes.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';
import { descendants, killAll } from './procs.js';

export interface KeyPair {
  /** Private key file (0600). */
  private: string;
  /** Public key line "ssh-ed25519 AAAA... comment". */
  public: string;
}

/** Generates an ed25519 key pair with ssh-keygen (no passphrase). */
export async function generateKey(dir: string, name: string): Promise<KeyPair> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return { private: file, public: (await readFile(`${file}.pub`, 'utf8')).trim() };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 500);
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Sshd {
  port: number;
  host: '127.0.0.1';
  /** Host public key line "ssh-ed25519 AAAA...". */
  hostKey: string;
  /** The user sshd lets in: the one running the tests. */
  user: string;
  dir: string;
  authorizedKeysFile: string;
  /** A known_hosts file with the one line `[127.0.0.1]:port hostKey`. */
  knownHosts: string;
  /** Replaces the authorized_keys lines (sshd reads the file at each login). */
  setAuthorizedKeys(lines: string[]): Promise<void>;
  /** Stops the daemon and every session it started (a server going down mid-transfer). */
  stop(): Promise<void>;
  /** Stop, then remove the temp folder. */
  cleanup(): Promise<void>;
}

export interface SshdOptions {
  authorizedKeys: string[];
  /** Where config and keys live (default: a fresh temp folder). */
  dir?: string;
  /** sshd logs at INFO level to this file (one "Accepted publickey" line per connection) instead of errors only. */
  logFile?: string;
  /**
   * HOME of the sessions (sshd's `SetEnv`): the shell sshd runs each command with (`bash -c`) reads
   * `$HOME/.bashrc` for an SSH session. An empty folder gives a fresh machine's clean shell whatever
   * this user's startup files run (bench/pull.ts: this machine's root runs `pyenv init` there, 0.2 s
   * of CPU per session).
   */
  sessionHome?: string;
}

/** Starts `/usr/sbin/sshd -D` as the current user on a free loopback port. */
export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'tierback-sshd-')));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const host = await generateKey(dir, 'ssh_host_ed25519_key');
  const authorizedKeysFile = path.join(dir, 'authorized_keys');
  await writeFile(authorizedKeysFile, `${opts.authorizedKeys.join('\n')}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${host.private}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeysFile}`,
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PrintMotd no',
      `LogLevel ${opts.logFile ? 'INFO' : 'ERROR'}`,
      'MaxStartups 50',
      'Subsystem sftp internal-sftp',
      ...(opts.sessionHome ? [`SetEnv HOME=${opts.sessionHome}`] : []),
      '',
    ].join('\n'),
  );
  const child: ResultPromise = execa('/usr/sbin/sshd', ['-D', ...(opts.logFile ? ['-E', opts.logFile] : ['-e']), '-f', config], { reject: false, stdio: 'ignore' });
  const hostKey = host.public.split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`, { mode: 0o600 });
  await waitForPort(port, 10_000);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const pid = child.pid;
    if (pid !== undefined) {
      killAll([pid, ...(await descendants(pid))]);
    }
    await child;
  };
  return {
    port,
    host: '127.0.0.1',
    hostKey,
    user: os.userInfo().username,
    dir,
    authorizedKeysFile,
    knownHosts,
    setAuthorizedKeys: (lines) => writeFile(authorizedKeysFile, `${lines.join('\n')}\n`, { mode: 0o600 }),
    stop,
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An sshd that lets in one fresh client key, whose private key file is `identity`. */
export async function startSshdWithClient(dir?: string): Promise<Sshd & { identity: string }> {
  const base = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'tierback-sshd-')));
  const client = await generateKey(path.join(base, 'client'), 'client_ed25519');
  const sshd = await startSshd({ authorizedKeys: [client.public], dir: base });
  return { ...sshd, identity: client.private };
}

/**
 * The inventory's `ssh` entry of a server behind `d`: log in as `d.user` with `identity`, pinned to
 * d's host key unless `hostKey` says otherwise. In YAML text, write it with JSON.stringify.
 */
export function sshEntry(d: Sshd, identity: string, opts: { hostKey?: string; rrsync?: boolean } = {}): Record<string, string | number | boolean> {
  return { host: d.host, port: d.port, user: d.user, host_key: opts.hostKey ?? d.hostKey, identity, ...(opts.rrsync ? { rrsync: true } : {}) };
}
