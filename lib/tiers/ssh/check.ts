/**
 * `tierback ssh check`: connects to a source server with ssh2, verifies its host key against the
 * pin, logs in with the backup server's key, and checks that the local tier is there and readable,
 * with its size and free space. The target and the pins come from the one transport
 * (lib/tiers/pull/ssh.ts), and the rrsync dry-run goes through it; why the first steps use ssh2 and not
 * `ssh` through lib/base/exec.ts: docs/decisions.md, "ssh check speaks SSH itself".
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'ssh2';
import { createExec, type Exec } from '../../base/exec.js';
import { UsageError } from '../../base/errors.js';
import { findServer, type Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { parseRsyncStats } from '../pull/rsync.js';
import { openSshTransport, parseHostKey, remoteSource, sshTarget, type SshTarget } from '../pull/ssh.js';

export interface SshCheckResult {
  server: string;
  ok: boolean;
  /** Each step: connect, host key, login, partition, size. */
  steps: { step: string; ok: boolean; detail: string }[];
  hostKeyType?: string | undefined;
  /** `<partition>/local` on the server. */
  path: string;
  sizeBytes?: number | undefined;
  files?: number | undefined;
  freeBytes?: number | undefined;
}

/** The keys (raw blobs) a known_hosts file lists for this target (plain and hashed entries). */
export async function knownHostKeys(file: string, names: string[]): Promise<Buffer[]> {
  const text = await readFile(file, 'utf8');
  const out: Buffer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@revoked')) continue;
    const parts = line.replace(/^@cert-authority\s+/, '').split(/\s+/);
    const [hosts, , key] = parts;
    if (!hosts || !key) continue;
    const match = hosts.split(',').some((h) => {
      if (h.startsWith('|1|')) {
        const [, , salt, hash] = h.split('|');
        return names.some((n) => createHmac('sha1', Buffer.from(salt ?? '', 'base64')).update(n).digest('base64') === hash);
      }
      return names.includes(h);
    });
    if (match) out.push(Buffer.from(key, 'base64'));
  }
  return out;
}

async function pinnedKeys(t: SshTarget): Promise<Buffer[]> {
  if (t.hostKey) return [Buffer.from(parseHostKey(t.hostKey, `ssh.host_key of ${t.server}`).key, 'base64')];
  const file = t.knownHostsFile ?? path.join(os.homedir(), '.ssh', 'known_hosts');
  const names = t.port === 22 ? [t.host, t.server] : [`[${t.host}]:${t.port}`, `[${t.server}]:${t.port}`];
  try {
    return await knownHostKeys(file, names);
  } catch {
    return [];
  }
}

function connect(t: SshTarget, pinned: Buffer[], privateKey: Buffer | undefined, timeoutMs: number): Promise<{ client: Client; keyType: string }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen: Buffer | undefined;
    client.on('ready', () => resolve({ client, keyType: seen ? seen.subarray(4, 4 + seen.readUInt32BE(0)).toString() : '?' }));
    client.on('error', (err) => {
      client.end();
      if (seen && !pinned.some((k) => k.equals(seen!))) {
        reject(new Error(pinned.length === 0 ? `no pinned host key for ${t.server}: set servers[].ssh.host_key or known_hosts` : `the host key of ${t.server} does not match the pinned key (possible man-in-the-middle, or the server was reinstalled)`));
      } else reject(err);
    });
    client.connect({
      host: t.host,
      port: t.port,
      username: t.user,
      ...(privateKey ? { privateKey } : { agent: process.env['SSH_AUTH_SOCK'] }),
      readyTimeout: timeoutMs,
      hostVerifier: (key: Buffer) => {
        seen = key;
        return pinned.some((k) => k.equals(key));
      },
    });
  });
}

function execRemote(client: Client, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      stream.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-65536)));
      stream.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-65536)));
      stream.on('close', (code: number | null) => resolve({ code, stdout, stderr }));
    });
  });
}

export async function sshCheck(site: Site, serverFqdn: string, opts: { log: Logger; exec?: Exec; timeoutMs?: number }): Promise<SshCheckResult> {
  const server = findServer(site, serverFqdn);
  const t = sshTarget(server);
  const res: SshCheckResult = { server: t.server, ok: false, steps: [], path: t.localRoot };
  const step = (s: string, ok: boolean, detail: string) => res.steps.push({ step: s, ok, detail });
  let privateKey: Buffer | undefined;
  if (t.identity) {
    try {
      privateKey = await readFile(t.identity);
    } catch (err) {
      throw new UsageError(`cannot read ${t.identity} (servers[${server.index}].ssh.identity): ${(err as Error).message}`, 'give the private key the backup server logs in with');
    }
  }
  const pinned = await pinnedKeys(t);
  let client: Client;
  try {
    const c = await connect(t, pinned, privateKey, opts.timeoutMs ?? 15_000);
    client = c.client;
    res.hostKeyType = c.keyType;
    step('host key', true, `${c.keyType} matches the pin`);
    step('login', true, `${t.user}@${t.host}:${t.port}`);
  } catch (err) {
    const msg = (err as Error).message;
    step(/host key/.test(msg) ? 'host key' : 'connect', false, msg);
    return res;
  }
  try {
    if (!t.rrsync) {
      const q = `'${t.localRoot}'`;
      const r = await execRemote(client, `test -d ${q} -a -r ${q} -a -x ${q} && df -Pk ${q} && du -sk ${q}`);
      if (r.code !== 0) {
        step('partition', false, `${t.localRoot} is missing or unreadable: ${r.stderr.trim() || `exit ${r.code}`}`);
        return res;
      }
      const lines = r.stdout.trim().split('\n');
      const df = lines[1]?.split(/\s+/);
      const du = lines[2]?.split(/\s+/);
      res.freeBytes = df?.[3] ? Number(df[3]) * 1024 : undefined;
      res.sizeBytes = du?.[0] ? Number(du[0]) * 1024 : undefined;
      step('partition', true, `${t.localRoot} is readable`);
      res.ok = true;
      return res;
    }
  } finally {
    client.end();
  }
  // Key restricted by rrsync -ro: only rsync may run. A dry-run pull proves the folder is readable and sizes it.
  const exec = opts.exec ?? createExec(opts.log);
  const transport = await openSshTransport(server);
  const empty = await mkdtemp(path.join(os.tmpdir(), 'tierback-check-'));
  try {
    const r = await exec.run({ argv: ['rsync', '-a', '--dry-run', '--stats', '-e', transport.rsh, '--', remoteSource(t), `${empty}/`], env: { LC_ALL: 'C' }, okCodes: [0, 24] });
    const stats = parseRsyncStats(r.stdout);
    res.sizeBytes = stats?.totalBytes;
    res.files = stats?.files;
    step('partition', true, `${t.localRoot} is readable through rrsync -ro (free space is not visible to a restricted key)`);
    res.ok = true;
  } catch (err) {
    step('partition', false, `${t.localRoot} is missing or unreadable: ${(err as Error).message}`);
  } finally {
    await transport.cleanup();
    await rm(empty, { recursive: true, force: true });
  }
  return res;
}
