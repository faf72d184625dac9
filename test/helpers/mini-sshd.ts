/**
 * A minimal real sshd for tests: own host key, own client key, loopback only, a free port,
 * StrictModes no (keys live under a world-writable temp dir). Stop it with `stop()` in after().
 * (The pull issue brings a fuller harness in test/helpers/sshd.ts; this one serves the move tests.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

export interface MiniSshd {
  port: number;
  host: string;
  user: string;
  identity: string;
  knownHosts: string;
  hostKey: string;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.end();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startMiniSshd(dir: string): Promise<MiniSshd> {
  await mkdir(dir, { recursive: true });
  await mkdir('/run/sshd', { recursive: true });
  const hostKeyFile = path.join(dir, 'host_ed25519');
  const identity = path.join(dir, 'client_ed25519');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKeyFile]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identity]);
  const authorized = path.join(dir, 'authorized_keys');
  await writeFile(authorized, await readFile(`${identity}.pub`, 'utf8'), { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${authorized}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const hostKey = (await readFile(`${hostKeyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
  const child: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, 5000);
  } catch (err) {
    child.kill('SIGTERM');
    throw new Error(`${(err as Error).message}: ${stderr}`);
  }
  return {
    port,
    host: '127.0.0.1',
    user: os.userInfo().username,
    identity,
    knownHosts,
    hostKey,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
