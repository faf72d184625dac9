/**
 * SIGTERM/SIGINT and kill -9 of real runs, with real rsync, real sshd, real
 * signals. A job or a pull told to stop exits 130, writes `status=failed error=interrupted`, leaves
 * no staging folder (a pull keeps its `.partial` to resume, docs/remote.md) and no child behind;
 * after kill -9 of tierback, its rsync children are gone within two seconds.
 * The copy is made slow with a `rsync` first on PATH that runs the real rsync with --bwlimit.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { remoteServerDir, serverHistoryDir, snapshotsDir, vmHistoryDir } from '../../../lib/model/convention.js';
import { authorizedKeysLine } from '../../../lib/tiers/pull/ssh.js';
import { CLI } from '../../helpers/cli.js';
import { appOf, jobSite } from '../../helpers/jobsite.js';
import { waitFor } from '../../helpers/net.js';
import { processesWith } from '../../helpers/procs.js';
import { generateKey, sshEntry, startSshd, type Sshd } from '../../helpers/sshd.js';
import { tempDir } from '../../helpers/tree.js';

async function lastLine(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.startsWith('backup-')).sort();
  const text = await readFile(path.join(dir, files.at(-1)!), 'utf8');
  return text.trim().split('\n').at(-1)!;
}

let root: string;
let cleanup: () => Promise<void>;
let bin: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-signals-'));
  bin = path.join(root, 'bin');
  await mkdir(bin);
  // The real rsync, throttled: a slow disk or link, so the run is still copying when the signal comes.
  await writeFile(path.join(bin, 'rsync'), '#!/bin/sh\nexec /usr/bin/rsync --bwlimit=300 "$@"\n');
  await chmod(path.join(bin, 'rsync'), 0o755);
});

after(async () => {
  await cleanup?.();
});

describe('a job stopped by a signal', () => {
  async function startSlowJob(name: string): Promise<{ child: ResultPromise; parent: string; mount: string; inv: string }> {
    const src = path.join(root, `src-${name}`);
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, 'big.bin'), randomBytes(6_000_000));
    const site = await jobSite(path.join(root, name), [{ name, type: 'files', path: src, relpath: `${name}.example.org` }]);
    const app = appOf(site, name);
    const parent = app.mount;
    const child = execa(process.execPath, [CLI, 'job', name, '-i', site.file], { reject: false, env: { TIERBACK_INVENTORY: '', PATH: `${bin}:${process.env['PATH']}` } });
    await waitFor(async () => (await readdir(parent)).some((n) => n.startsWith(`.${name}.example.org.partial-`)) && (await processesWith(path.join(root, name))).some((p) => p.cmd.includes('rsync')), 'the job to be copying', 20_000, 50);
    await new Promise((r) => setTimeout(r, 500));
    return { child, parent, mount: app.mount, inv: site.file };
  }

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} mid-copy: exit 130, history status=failed error=interrupted, no staging folder, no rsync left`, async () => {
      const name = sig === 'SIGTERM' ? 'termed' : 'inted';
      const { child, parent, mount } = await startSlowJob(name);
      child.kill(sig);
      const r = await child;
      assert.equal(r.exitCode, 130, `exit ${r.exitCode} (signal ${r.signal}): ${r.stderr}`);
      const line = await lastLine(vmHistoryDir(mount));
      assert.match(line, /status=failed/);
      assert.match(line, /error=interrupted(\s|$)/);
      assert.deepEqual((await readdir(parent)).filter((n) => n.includes('.partial-')), [], 'the staging folder was removed');
      assert.ok(!existsSync(path.join(parent, `${name}.example.org`)), 'no backup looks complete');
      assert.deepEqual(await processesWith(path.join(root, name)), [], 'no child of the job is left');
    });
  }

  it('kill -9 of tierback mid-copy: its rsync processes are gone within two seconds', async () => {
    const { child } = await startSlowJob('killed');
    assert.ok((await processesWith(path.join(root, 'killed'))).length >= 1);
    child.kill('SIGKILL');
    await child;
    await waitFor(async () => (await processesWith(path.join(root, 'killed'))).length === 0, 'the rsync children of the killed job to die', 2_000, 50).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await processesWith(path.join(root, 'killed')))}`);
    });
  });
});

describe('a pull over SSH stopped by a signal', () => {
  let sshd: Sshd;
  let inv: string;
  let backup: string;
  const SRC = 'src.test';
  const BK = 'bk.test';

  before(async () => {
    const src = path.join(root, 'pullsrc');
    backup = path.join(root, 'pullbk');
    const key = await generateKey(path.join(root, 'keys'), 'backup_key');
    await mkdir(path.join(src, 'local/web/a.example.org'), { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(path.join(src, 'local/web/a.example.org', `f${i}.bin`), randomBytes(100_000));
    sshd = await startSshd({ authorizedKeys: [authorizedKeysLine({ publicKey: key.public, sourcePartition: src })] });
    inv = path.join(root, 'pull.yaml');
    await writeFile(
      inv,
      `version: 1
servers:
  - fqdn: ${SRC}
    partition: ${src}
    ssh: ${JSON.stringify(sshEntry(sshd, key.private, { rrsync: true }))}
  - fqdn: ${BK}
    partition: ${backup}
    role: backup
backup_servers:
  - server: ${BK}
    pulls: [{ server: ${SRC}, bwlimit: "300" }]
`,
    );
  });

  after(async () => {
    await sshd?.cleanup();
  });

  it('SIGTERM mid-transfer: exit 130, history status=failed error=interrupted, .partial kept to resume, no rsync or ssh left', async () => {
    const child = execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', BK, '--retries', '0'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    const partials = async () => (await readdir(snapshotsDir(backup, SRC)).catch(() => [] as string[])).filter((n) => n.endsWith('.partial'));
    await waitFor(async () => (await partials()).length === 1 && (await processesWith(backup)).some((p) => p.cmd.includes('rsync')), 'the pull to be copying', 30_000, 50);
    await new Promise((r) => setTimeout(r, 1000));
    const clientSide = await processesWith(root);
    assert.ok(clientSide.some((p) => p.cmd.includes('ssh ')), `rsync's ssh is running: ${JSON.stringify(clientSide)}`);
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 130, `exit ${r.exitCode} (signal ${r.signal}): ${r.stderr}`);
    const line = await lastLine(serverHistoryDir(backup));
    assert.match(line, /status=failed/);
    assert.match(line, /error=interrupted(\s|$)/);
    assert.equal((await partials()).length, 1, 'the .partial is kept: the next pull resumes it');
    assert.ok(!existsSync(remoteServerDir(backup, SRC)), 'nothing was made current');
    await waitFor(async () => (await processesWith(backup)).length === 0 && !(await processesWith(path.join(root, 'keys'))).some((p) => p.cmd.startsWith('ssh ')), 'rsync and ssh to be gone', 2_000, 50).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await processesWith(root))}`);
    });
  });

  it('kill -9 of tierback mid-transfer: its rsync and ssh processes are gone within two seconds', async () => {
    const child = execa(process.execPath, [CLI, 'pull', '-i', inv, '--backup-server', BK, '--retries', '0'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    await waitFor(async () => (await processesWith(backup)).some((p) => p.cmd.includes('rsync')), 'the pull to be copying', 30_000, 50);
    await new Promise((r) => setTimeout(r, 500));
    child.kill('SIGKILL');
    await child;
    await waitFor(async () => (await processesWith(backup)).length === 0 && !(await processesWith(path.join(root, 'keys'))).some((p) => p.cmd.startsWith('ssh ')), 'rsync and ssh of the killed pull to die', 2_000, 50).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await processesWith(root))}`);
    });
  });
});
