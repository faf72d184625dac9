/**
 * Remote pulls against real tools: rsync, OpenSSH's sshd (two instances on loopback ports, each
 * with its own host key) and Debian's rrsync, with the backup server's key restricted exactly as
 * `tierback ssh authorize` prints it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { currentLinkTarget, remoteServerDir, serverHistoryDir, snapshotDir, snapshotsDir } from '../../../../lib/model/convention.js';
import { readHistory } from '../../../../lib/model/history.js';
import { parseInventory } from '../../../../lib/site/load.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { resolveBackupServer, runPulls } from '../../../../lib/tiers/pull/pull.js';
import { authorizedKeysLine, prepareKnownHosts, sshArgv, sshTarget } from '../../../../lib/tiers/pull/ssh.js';
import { rshString } from '../../../../lib/tiers/pull/rsync.js';
import { CLI, tierback } from '../../../helpers/cli.js';
import { sshCheck, type SshCheckResult } from '../../../../lib/tiers/ssh/check.js';
import { waitFor } from '../../../helpers/net.js';
import { generateKey, sshEntry } from '../../../helpers/sshd.js';
import { startTwoServers, stopTwoServers, type TwoServers } from '../../../helpers/two-servers.js';

const A = 'srv-a.test';
const B = 'srv-b.test';
const BACKUP = 'backup.test';

const two = {} as TwoServers;
let invFile: string;
let slowInvFile: string;

function inventory(opts: { hostKeyA?: string; bwlimit?: string } = {}): string {
  const bw = opts.bwlimit ? `, bwlimit: "${opts.bwlimit}"` : '';
  return `version: 1
servers:
  - fqdn: ${A}
    partition: ${two.srcA}
    ssh: ${JSON.stringify(sshEntry(two.sshdA, two.key.private, { rrsync: true, ...(opts.hostKeyA ? { hostKey: opts.hostKeyA } : {}) }))}
  - fqdn: ${B}
    partition: ${two.srcB}
    ssh: ${JSON.stringify(sshEntry(two.sshdB, two.key.private, { rrsync: true }))}
  - fqdn: ${BACKUP}
    partition: ${two.backup}
    role: backup
backup_servers:
  - server: ${BACKUP}
    concurrency: 2
    pulls: [{ server: ${A}${bw} }, { server: ${B}${bw} }]
`;
}

async function writeFiles(dir: string, count: number, size: number, prefix = 'f'): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) await writeFile(path.join(dir, `${prefix}${String(i).padStart(4, '0')}.bin`), randomBytes(size));
}

async function duKb(...dirs: string[]): Promise<number> {
  const r = await execa('du', ['-sk', '-c', ...dirs]);
  const total = r.stdout.trim().split('\n').at(-1)!;
  return Number(total.split(/\s+/)[0]);
}

let clock = Date.parse('2026-03-01T02:00:00Z');
const now = () => new Date((clock += 60_000));

function site(text = inventory()): Site {
  return parseInventory(text, invFile);
}

async function pull(s: Site, servers?: string[]) {
  return runPulls(s, resolveBackupServer(s, BACKUP), { log: silentLogger(), now, retries: 0, ...(servers ? { servers } : {}) });
}

async function current(server: string): Promise<string> {
  return path.basename(await readlink(remoteServerDir(two.backup, server)));
}

async function countFiles(dir: string): Promise<number> {
  try {
    const r = await execa('find', [dir, '-type', 'f']);
    return r.stdout.trim() === '' ? 0 : r.stdout.trim().split('\n').length;
  } catch {
    return 0;
  }
}

before(async () => {
  Object.assign(two, await startTwoServers('tierback-pull-', 'backup_key', (key, sourcePartition) => authorizedKeysLine({ publicKey: key.public, sourcePartition })));
  await writeFiles(path.join(two.srcA, 'local/web/a.example.org/app'), 200, 20_000);
  await makeHistory(path.join(two.srcA, 'local/web/_history'));
  await writeFiles(path.join(two.srcB, 'local/_host/b.example.org'), 30, 10_000, 'b');
  invFile = path.join(two.root, 'inventory.yaml');
  slowInvFile = path.join(two.root, 'slow.yaml');
  await writeFile(invFile, inventory());
  await writeFile(slowInvFile, inventory({ bwlimit: '300' }));
});

async function makeHistory(dir: string) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'backup-www-20260301'), 'v=1 run=x name=www kind=job tier=local status=ok start=2026-03-01T01:30:00Z\n');
  // A job's hidden working file: must never reach a snapshot.
  await writeFile(path.join(two.srcA, 'local/web/a.example.org/.app.partial-20260301T013000-abc123'), 'half');
}

after(() => stopTwoServers(two));

describe('tierback pull over SSH (real sshd, rrsync -ro)', () => {
  let first: string;
  let second: string;

  it('first pull copies each server into a dated snapshot and makes it current', async () => {
    const out = await pull(site());
    assert.deepEqual(out.map((o) => [o.server, o.status]), [[A, 'ok'], [B, 'ok']]);
    first = await current(A);
    assert.equal(await readlink(remoteServerDir(two.backup, A)), currentLinkTarget(A, first));
    const snap = snapshotDir(two.backup, A, first);
    const src = path.join(two.srcA, 'local/web/a.example.org/app/f0007.bin');
    assert.deepEqual(await readFile(path.join(snap, 'web/a.example.org/app/f0007.bin')), await readFile(src));
    assert.ok(existsSync(path.join(snap, 'web/_history/backup-www-20260301')), 'history files travel with the tree');
    assert.ok(!existsSync(path.join(snap, 'web/a.example.org/.app.partial-20260301T013000-abc123')), 'jobs\' working files are excluded');
    assert.equal(await countFiles(snapshotDir(two.backup, B, await current(B))), 30);
    assert.equal(out[0]!.stats!.files, 201);
    const { runs } = await readHistory(serverHistoryDir(two.backup), { name: `pull-${A}` });
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'ok');
    assert.equal(runs[0]!.files, 201);
    assert.ok(runs[0]!.mb! > 3.9 && runs[0]!.mb! < 4.1, `mb=${runs[0]!.mb}`);
    assert.ok(runs[0]!.transferredMb! > 3.9, 'transferred MB from rsync --stats');
    assert.equal(runs[0]!.extra?.['snapshot'], first);
    const mode = (await stat(path.join(serverHistoryDir(two.backup), `backup-pull-${A}-20260301`))).mode & 0o777;
    assert.equal(mode, 0o600);
  });

  it('a pull with no change makes a new snapshot that uses no new space for files', async () => {
    const before = await duKb(snapshotsDir(two.backup, A));
    const out = await pull(site(), [A]);
    assert.equal(out[0]!.status, 'ok');
    second = await current(A);
    assert.notEqual(second, first);
    const grown = (await duKb(snapshotsDir(two.backup, A))) - before;
    assert.ok(grown < 100, `no-change pull used ${grown} KB (data is ~4000 KB)`);
    assert.equal(out[0]!.stats!.transferredFiles, 0);
    const s1 = await stat(path.join(snapshotDir(two.backup, A, first), 'web/a.example.org/app/f0001.bin'));
    const s2 = await stat(path.join(snapshotDir(two.backup, A, second), 'web/a.example.org/app/f0001.bin'));
    assert.equal(s1.ino, s2.ino, 'unchanged files are hardlinks to the previous snapshot');
  });

  it('a 1% change transfers only the changed files; deleted and old versions stay in older snapshots', async () => {
    const app = path.join(two.srcA, 'local/web/a.example.org/app');
    const oldContent = await readFile(path.join(app, 'f0010.bin'));
    await writeFile(path.join(app, 'f0010.bin'), randomBytes(20_000));
    await writeFile(path.join(app, 'f0011.bin'), randomBytes(20_000));
    await rm(path.join(app, 'f0012.bin'));
    const before = await duKb(snapshotsDir(two.backup, A));
    const out = await pull(site(), [A]);
    assert.equal(out[0]!.status, 'ok');
    assert.equal(out[0]!.stats!.transferredFiles, 2);
    const third = await current(A);
    const grown = (await duKb(snapshotsDir(two.backup, A))) - before;
    assert.ok(grown >= 40 && grown < 150, `1% change used ${grown} KB`);
    assert.ok(!existsSync(path.join(snapshotDir(two.backup, A, third), 'web/a.example.org/app/f0012.bin')));
    assert.ok(existsSync(path.join(snapshotDir(two.backup, A, second), 'web/a.example.org/app/f0012.bin')), 'deleted at the source, kept in the older snapshot');
    assert.deepEqual(await readFile(path.join(snapshotDir(two.backup, A, second), 'web/a.example.org/app/f0010.bin')), oldContent);
  });

  it('a metadata-only change does not leak into the older snapshot', async () => {
    const f = path.join(two.srcA, 'local/web/a.example.org/app/f0020.bin');
    await execa('chmod', ['600', f]);
    const prev = await current(A);
    const out = await pull(site(), [A]);
    assert.equal(out[0]!.status, 'ok');
    const oldMode = (await stat(path.join(snapshotDir(two.backup, A, prev), 'web/a.example.org/app/f0020.bin'))).mode & 0o777;
    const newMode = (await stat(path.join(snapshotDir(two.backup, A, await current(A)), 'web/a.example.org/app/f0020.bin'))).mode & 0o777;
    assert.equal(newMode, 0o600);
    assert.notEqual(oldMode, 0o600);
  });

  it('the restricted key cannot read outside <partition>/local nor write anything', async () => {
    const t = sshTarget(site().servers.find((s) => s.fqdn === A)!);
    const kh = await prepareKnownHosts(t, 'test');
    try {
      const rsh = rshString(sshArgv(t, kh.options, 5));
      const out = path.join(two.root, 'stolen');
      await mkdir(out, { recursive: true });
      for (const src of ['127.0.0.1:/etc/passwd', '127.0.0.1:../../../../etc/passwd', '127.0.0.1:/../../../../etc/passwd']) {
        const r = await execa('rsync', ['-a', '-e', rsh, src, `${out}/`], { reject: false });
        assert.notEqual(r.exitCode, 0, `${src} must fail`);
      }
      assert.deepEqual(await readdir(out), []);
      const cat = await execa(sshArgv(t, kh.options, 5)[0]!, [...sshArgv(t, kh.options, 5).slice(1), '127.0.0.1', 'cat', '/etc/passwd'], { reject: false });
      assert.notEqual(cat.exitCode, 0);
      assert.ok(!cat.stdout.includes('root:'), 'no shell commands');
      const evil = path.join(two.root, 'evil.txt');
      await writeFile(evil, 'x');
      const push = await execa('rsync', ['-a', '-e', rsh, evil, '127.0.0.1:/'], { reject: false });
      assert.notEqual(push.exitCode, 0);
      assert.match(push.stderr, /read-only/);
      assert.ok(!existsSync(path.join(two.srcA, 'local/evil.txt')));
      const del = await execa('rsync', ['-a', '--delete', '-e', rsh, `${path.join(two.root, 'keys')}/`, '127.0.0.1:/web/'], { reject: false });
      assert.notEqual(del.exitCode, 0);
      assert.ok(existsSync(path.join(two.srcA, 'local/web/a.example.org/app/f0001.bin')));
    } finally {
      await kh.cleanup();
    }
  });

  it('a wrong host key fails clearly, keeps the current snapshot and records the failure', async () => {
    const other = await generateKey(path.join(two.root, 'keys'), 'impostor');
    const keep = await current(A);
    const bad = site(inventory({ hostKeyA: other.public.split(' ').slice(0, 2).join(' ') }));
    const out = await runPulls(bad, resolveBackupServer(bad, BACKUP), { log: silentLogger(), now, servers: [A], retries: 2, retryDelayMs: 10 });
    assert.equal(out[0]!.status, 'failed');
    assert.match(out[0]!.error!, /host key/i);
    assert.equal(await current(A), keep);
    const { runs } = await readHistory(serverHistoryDir(two.backup), { name: `pull-${A}` });
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.match(runs.at(-1)!.error!, /Host key verification failed/);
    assert.equal(out[0]!.attempts, 1, 'a host key failure is not retried');
  });

  it('ssh authorize prints exactly the restricted lines the test servers use', async () => {
    const r = await tierback(['ssh', 'authorize', BACKUP, '-i', invFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = JSON.parse(r.stdout) as { server: string; line: string }[];
    assert.deepEqual(lines.map((l) => l.server), [A, B]);
    const installed = (await readFile(two.sshdA.authorizedKeysFile, 'utf8')).trim();
    const printed = lines[0]!.line;
    assert.equal(printed.replace(/ tierback-pull-by-\S+$/, ''), installed);
    assert.match(printed, /^command="\/usr\/bin\/rrsync -ro [^"]+\/srca\/local",restrict ssh-ed25519 /);
  });

  it('ssh check verifies the pinned key through ssh2 and sizes the restricted local tier', async () => {
    const r = await tierback(['ssh', 'check', B, '-i', invFile, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const [res] = JSON.parse(r.stdout) as SshCheckResult[];
    assert.equal(res!.ok, true);
    assert.equal(res!.files, 30);
    assert.equal(res!.sizeBytes, 300_000);
    assert.equal(res!.hostKeyType, 'ssh-ed25519');
    const other = await generateKey(path.join(two.root, 'keys'), 'impostor2');
    const bad = await sshCheck(site(inventory({ hostKeyA: other.public.split(' ').slice(0, 2).join(' ') })), A, { log: silentLogger() });
    assert.equal(bad.ok, false);
    assert.equal(bad.steps[0]!.step, 'host key');
    assert.match(bad.steps[0]!.detail, /does not match the pinned key/);
  });

  it('kill -9 mid-transfer leaves the current snapshot intact; the next pull resumes and completes', async () => {
    await writeFiles(path.join(two.srcA, 'local/web/a.example.org/new'), 60, 40_000, 'n');
    const keep = await current(A);
    const child = execa(process.execPath, [CLI, 'pull', A, '-i', slowInvFile, '--backup-server', BACKUP, '--retries', '0'], { reject: false, detached: true, env: { TIERBACK_INVENTORY: '' } });
    const partials = async () => (await readdir(snapshotsDir(two.backup, A))).filter((n) => n.endsWith('.partial'));
    await waitFor(async () => {
      const p = await partials();
      return p.length === 1 && (await countFiles(path.join(snapshotsDir(two.backup, A), p[0]!, 'web/a.example.org/new'))) >= 5;
    }, 'the slow pull to copy some files', 30_000, 50);
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    assert.equal(await current(A), keep, 'the current snapshot did not move');
    assert.ok(!existsSync(path.join(snapshotDir(two.backup, A, keep), 'web/a.example.org/new')));
    assert.equal((await partials()).length, 1, 'the interrupted pull left its .partial');
    const mid = await readHistory(serverHistoryDir(two.backup), { name: `pull-${A}` });
    assert.equal(mid.runs.at(-1)!.interrupted, true, 'the killed run reads back as interrupted (failed)');

    const out = await pull(site(), [A]);
    assert.equal(out[0]!.status, 'ok');
    assert.ok(out[0]!.resumed, 'resumed the .partial');
    assert.ok(out[0]!.stats!.transferredFiles < 60, `resumed transfer sent ${out[0]!.stats!.transferredFiles} of 60 new files`);
    assert.deepEqual(await partials(), []);
    assert.equal(await countFiles(path.join(snapshotDir(two.backup, A, await current(A)), 'web/a.example.org/new')), 60);
  });

  it('sshd stopped mid-run: that server fails (history, exit code), the other completes', async () => {
    await writeFiles(path.join(two.srcA, 'local/web/a.example.org/more'), 60, 40_000, 'm');
    await writeFile(path.join(two.srcB, 'local/_host/b.example.org/late.txt'), 'late');
    const keepA = await current(A);
    const keepB = await current(B);
    const child = execa(process.execPath, [CLI, 'pull', '-i', slowInvFile, '--backup-server', BACKUP, '--retries', '1', '--retry-delay', '0.2', '--json'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    await waitFor(async () => {
      const p = (await readdir(snapshotsDir(two.backup, A))).filter((n) => n.endsWith('.partial'));
      return p.length === 1 && (await countFiles(path.join(snapshotsDir(two.backup, A), p[0]!, 'web/a.example.org/more'))) >= 3;
    }, 'the pull of A to be under way', 30_000, 50);
    await two.sshdA.stop();
    const r = await child;
    assert.equal(r.exitCode, 5, `exit code ${r.exitCode}: ${r.stderr}`);
    const res = JSON.parse(r.stdout) as { outcomes: { server: string; status: string; attempts: number; error?: string }[] };
    const a = res.outcomes.find((o) => o.server === A)!;
    assert.equal(a.status, 'failed');
    assert.equal(a.attempts, 2, 'one retry');
    assert.equal(res.outcomes.find((o) => o.server === B)!.status, 'ok');
    assert.equal(await current(A), keepA);
    assert.notEqual(await current(B), keepB);
    assert.ok(existsSync(path.join(snapshotDir(two.backup, B, await current(B)), '_host/b.example.org/late.txt')));
    const { runs } = await readHistory(serverHistoryDir(two.backup), { name: `pull-${A}` });
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.ok(runs.at(-1)!.error);
  });
});
