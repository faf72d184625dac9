/**
 * The transfer budget and interrupted batches with real processes: several servers pulled over
 * loopback SSH (one real sshd, each server its own partition), the copies slowed by the pulls'
 * `bwlimit`. The rsync processes of `tierback pull` are counted in /proc while it runs; a real
 * SIGTERM stops a batch.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { execa } from 'execa';
import { hungSourceBoundS, largeFileStreams } from '../../../../lib/tiers/pull/budget.js';
import { writeManifest } from '../../../../lib/tiers/jobs/manifest.js';
import { createExec } from '../../../../lib/base/exec.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { serverHistoryDir } from '../../../../lib/model/layout.js';
import { readHistory } from '../../../../lib/model/history.js';
import { CLI } from '../../../helpers/cli.js';
import { waitFor } from '../../../helpers/net.js';
import { generateKey, sshEntry, startSshd, type Sshd } from '../../../helpers/sshd.js';
import { tempDir } from '../../../helpers/tree.js';

const SERVERS = Array.from({ length: 6 }, (_, i) => `s${i}.test`);
const FOLDERS = ['a', 'b', 'c'];
let root: string;
let cleanup: () => Promise<void>;
let sshd: Sshd;
let identity: string;

/** The site: every server behind the one sshd, three VM folders each; `backup` is the backup server's partition. */
function inventory(backup: string, settings: string, bwlimit: string): string {
  const ssh = JSON.stringify(sshEntry(sshd, identity));
  return `version: 1
servers:
${SERVERS.map((s) => `  - { fqdn: ${s}, partition: ${path.join(root, s)}, ssh: ${ssh} }`).join('\n')}
  - { fqdn: bk.test, role: backup, partition: ${backup} }
vms:
${SERVERS.flatMap((s, i) => FOLDERS.map((f) => `  - { name: ${f}${i}, server: ${s} }`)).join('\n')}
apps:
${SERVERS.flatMap((s, i) => FOLDERS.map((f) => `  - { name: ${f}${i}app, type: files, server: ${s}, vm: ${f}${i}, path: /srv, relpath: ${f}${i}.example.org }`)).join('\n')}
backup_servers:
  - server: bk.test
${settings}    pulls: [${SERVERS.map((s) => `{ server: ${s}, bwlimit: "${bwlimit}" }`).join(', ')}]
`;
}

/** rsync processes whose parent is `pid` (each stream's own rsync; its ssh and rsync's forks are not counted). */
async function rsyncChildren(pid: number): Promise<number> {
  let n = 0;
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const m = /^\d+ \((.*)\) (\S) (\d+) /.exec(stat);
    if (m && m[1] === 'rsync' && m[2] !== 'Z' && Number(m[3]) === pid) n++;
  }
  return n;
}

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-budget-'));
  const key = await generateKey(path.join(root, 'keys'), 'backup_key');
  identity = key.private;
  sshd = await startSshd({ authorizedKeys: [key.public] });
  for (const [i, s] of SERVERS.entries()) {
    for (const f of FOLDERS) {
      const dir = path.join(root, s, 'local', `${f}${i}`, `${f}${i}.example.org`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'data.bin'), randomBytes(150_000));
    }
  }
});

after(async () => {
  await sshd?.cleanup();
  await cleanup?.();
});

describe('tierback pull: the transfer budget', () => {
  it('never runs more rsync processes than backup_servers[].transfers, and uses the budget', async () => {
    const backup = path.join(root, 'bk-pool');
    const inv = path.join(root, 'pool.yaml');
    // Before the budget: concurrency 2 (the old default) x 3 streams (one per folder) = 6 at once.
    await writeFile(inv, inventory(backup, '    transfers: 3\n', '400'));
    const child = execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', 'bk.test', '--retries', '0', '--json'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    let most = 0;
    let samples = 0;
    while (child.exitCode === null) {
      most = Math.max(most, await rsyncChildren(child.pid!));
      samples++;
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await child;
    assert.equal(r.exitCode, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { outcomes: { server: string; status: string }[] };
    assert.deepEqual(out.outcomes.map((o) => o.status), SERVERS.map(() => 'ok'));
    assert.ok(samples > 20, `${samples} samples`);
    assert.ok(most <= 3, `${most} rsync processes at once with transfers: 3`);
    assert.equal(most, 3, 'the budget is used: 3 rsync processes ran at once');
  });

  it('streams come from the pull history: one for a server whose last pull had 3 files, before the first one per top-level folder', async () => {
    const dryRun = async (backup: string) => {
      const inv = path.join(root, `dry-${path.basename(backup)}.yaml`);
      await writeFile(inv, inventory(backup, '', '400'));
      const r = await execa(process.execPath, [CLI, 'pull', SERVERS[0]!, '-i', inv, '--backup-server', 'bk.test', '--dry-run', '--json'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
      assert.equal(r.exitCode, 0, r.stderr);
      return (JSON.parse(r.stdout) as { plans: { streams: number; notes: string[] }[] }).plans[0]!;
    };
    const known = await dryRun(path.join(root, 'bk-pool')); // pulled by the first test
    assert.equal(known.streams, 1);
    assert.match(known.notes[0]!, /streams: 1 of a budget of 8 .*last pull: 3 files/);
    const fresh = await dryRun(path.join(root, 'bk-fresh'));
    // Before the first pull: one per top-level folder (the pull keeps fewer if its manifests show large files).
    assert.equal(fresh.streams, 3);
    assert.match(fresh.notes[0]!, /first pull: 3 top-level folders/);
  });

  it('a first pull of large files (by its manifests) uses one stream per 2 cores and gives the rest back; of small files one per folder', async () => {
    // Two servers whose folders their jobs' manifests describe (writeManifest walks them, as a job does).
    const exec = createExec(silentLogger());
    const sizes = { 'big.test': { files: 1, size: 150_000 }, 'tiny.test': { files: 200, size: 750 } } as const;
    for (const [s, { files, size }] of Object.entries(sizes)) {
      for (const f of FOLDERS) {
        const dir = path.join(root, s, 'local', `${f}-${s.split('.')[0]}`, `${f}.example.org`);
        await mkdir(dir, { recursive: true });
        for (let k = 0; k < files; k++) await writeFile(path.join(dir, `d${k}.bin`), randomBytes(size));
        await writeManifest(dir, exec, undefined, `run-${f}-${s}`);
      }
    }
    const ssh = JSON.stringify(sshEntry(sshd, identity));
    const run = async (backup: string, server: string) => {
      const servers = [server];
      const inv = path.join(root, `${path.basename(backup)}.yaml`);
      await writeFile(
        inv,
        `version: 1
servers:
${servers.map((s) => `  - { fqdn: ${s}, partition: ${path.join(root, s)}, ssh: ${ssh} }`).join('\n')}
  - { fqdn: bk.test, role: backup, partition: ${backup} }
vms:
${servers.flatMap((s) => FOLDERS.map((f) => `  - { name: ${f}-${s.split('.')[0]}, server: ${s} }`)).join('\n')}
apps:
${servers.flatMap((s) => FOLDERS.map((f) => `  - { name: ${f}-${s.split('.')[0]}-app, type: files, server: ${s}, vm: ${f}-${s.split('.')[0]}, path: /srv, relpath: ${f}.example.org }`)).join('\n')}
backup_servers:
  - server: bk.test
    pulls: [${servers.map((s) => `{ server: ${s}, bwlimit: "400" }`).join(', ')}]
`,
      );
      const child = execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', 'bk.test', '--retries', '0', '--json'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
      let most = 0;
      while (child.exitCode === null) {
        most = Math.max(most, await rsyncChildren(child.pid!));
        await new Promise((r) => setTimeout(r, 20));
      }
      const r = await child;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual((JSON.parse(r.stdout) as { outcomes: { status: string }[] }).outcomes.map((o) => o.status), servers.map(() => 'ok'));
      return most;
    };
    const byCores = Math.min(FOLDERS.length, largeFileStreams(availableParallelism()));
    // Large files: 3 streams held, 1 kept on 2 cores, 2 given back (the batch still ends: nothing waits on them).
    assert.equal(await run(path.join(root, 'bk-big'), 'big.test'), byCores, 'large files: one stream per 2 cores');
    assert.equal(await run(path.join(root, 'bk-tiny'), 'tiny.test'), FOLDERS.length, 'small files: one stream per top-level folder');
  });

  it('a source that accepts the connection and never answers fails the pull within attempts x (connect + I/O timeout) + waits', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((sock) => sockets.push(sock)); // a hung sshd: TCP accepted, not one byte sent
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const backup = path.join(root, 'bk-hung');
      const inv = path.join(root, 'hung.yaml');
      const ssh = JSON.stringify({ ...sshEntry(sshd, identity), port });
      await writeFile(inv, `version: 1\nservers:\n  - { fqdn: hung.test, partition: ${path.join(root, 'hung')}, ssh: ${ssh} }\n  - { fqdn: bk.test, role: backup, partition: ${backup} }\nbackup_servers:\n  - server: bk.test\n    timeout: 2s\n    pulls: [hung.test]\n`);
      const t0 = Date.now();
      const r = await execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', 'bk.test', '--connect-timeout', '1', '--retries', '1', '--retry-delay', '0.5', '--json'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
      const took = (Date.now() - t0) / 1000;
      assert.equal(r.exitCode, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { outcomes: { status: string; error?: string }[] };
      assert.equal(out.outcomes[0]!.status, 'failed');
      assert.ok(sockets.length >= 1, 'the pull did connect');
      const bound = hungSourceBoundS({ ioTimeoutS: 2, connectTimeoutS: 1, retries: 1, retryDelayS: 0.5 });
      assert.ok(took < bound + 5, `the hung source held the run ${took.toFixed(1)} s (bound ${bound} s + 5 s to start node)`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('SIGTERM mid-batch: only the pull in progress is interrupted; servers not started get nothing in history; exit 130', async () => {
    const backup = path.join(root, 'bk-term');
    const inv = path.join(root, 'term.yaml');
    // One server at a time, each slow enough to be caught mid-copy.
    await writeFile(inv, inventory(backup, '    transfers: 1\n', '100'));
    const child = execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', 'bk.test', '--retries', '0'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    await waitFor(async () => (await rsyncChildren(child.pid!)) > 0 && existsSync(path.join(backup, 'snapshots', SERVERS[0]!)), 'the first pull to be copying', 30_000, 20);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 130, `exit ${r.exitCode}: ${r.stderr}`);
    const hist = serverHistoryDir(backup);
    const first = await readHistory(hist, { name: `pull-${SERVERS[0]}` });
    assert.equal(first.runs.length, 1);
    assert.equal(first.runs[0]!.status, 'failed');
    assert.equal(first.runs[0]!.error, 'interrupted');
    for (const s of SERVERS.slice(1)) {
      const { runs } = await readHistory(hist, { name: `pull-${s}` });
      assert.deepEqual(runs, [], `${s} was not started: nothing in its history`);
      assert.ok(!existsSync(path.join(backup, 'snapshots', s)), `${s} was not contacted`);
    }
    assert.match(r.stderr, /interrupted before 5 server\(s\) started/);
  });
});
