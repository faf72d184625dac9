/** Fault cases: killed mid-dump, disk full, password never in /proc, CVS write locks, failing dump command, CLI exit codes. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';
import { appOf, historyOf, jobSite, sh, treeDiff } from '../../../helpers/jobsite.js';
import { passwordFile, startMariaDb, type MariaDb } from '../../../helpers/mariadb.js';
import { CLI, tierback } from '../../../helpers/cli.js';
import { waitFor } from '../../../helpers/net.js';
import { processesWith } from '../../../helpers/procs.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();
const SECRET = 'Very-Secret-Pw-4711';

describe('job fault cases', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let my: MariaDb;
  let site: Site;
  let small: string;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir('tierback-faults-'));
    my = await startMariaDb();
    await my.createDb('big', 'bigu', SECRET);
    await my.sql("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(250)); INSERT INTO t(v) VALUES (REPEAT('x', 200));", 'big');
    for (let i = 0; i < 17; i++) await my.sql("INSERT INTO t(v) SELECT REPEAT('y', 200) FROM t", 'big');
    await makeTree(path.join(root, 'src'), { 'a.txt': 'a\n' });
    await sh(['cvs', '-Q', '-d', path.join(root, 'cvsroot'), 'init']);
    site = await jobSite(root, [
      { name: 'big', type: 'mysql', path: '/var/lib/mysql', relpath: 'big.example.com', options: { databases: ['big'], socket: my.socket, user: 'bigu', password_file: await passwordFile(root, 'pw', SECRET) } },
      { name: 'slow', type: 'command', path: root, relpath: 'slow.example.com', options: { argv: ['sh', '-c', 'echo dump-start; if [ -f "$0" ]; then sleep 4; fi; echo dump-end', path.join(root, 'slow.flag')] } },
      { name: 'broken', type: 'command', path: root, relpath: 'broken.example.com', options: { argv: ['sh', '-c', 'echo partial; exit 3'] } },
      { name: 'repo', type: 'cvs', path: path.join(root, 'cvsroot'), relpath: 'cvs.example.com', options: { wait_locks: 1 } },
      { name: 'docs', type: 'files', path: path.join(root, 'src'), relpath: 'docs.example.com' },
    ]);
  });
  after(async () => {
    await my?.stop();
    if (small) await execa('umount', [small], { reject: false });
    await cleanup();
  });

  it('while a MariaDB dump runs, no /proc/*/cmdline shows the password', async () => {
    const seen: string[] = [];
    let done = false;
    const watcher = (async () => {
      while (!done) {
        for (const p of await processesWith('mysqldump')) seen.push(p.cmd);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const o = await runJob(site, appOf(site, 'big'), { log });
    done = true;
    await watcher;
    assert.equal(o.status, 'ok', o.error?.message);
    assert.ok(seen.length > 0, 'the watcher saw mysqldump running');
    for (const c of seen) assert.ok(!c.includes(SECRET), c);
    assert.ok(seen.some((c) => c.includes('--defaults-extra-file=')));
    const hist = await readFile((await historyOf(site, 'big')).at(-1)!.file, 'utf8');
    assert.ok(!hist.includes(SECRET));
  });

  it('a job killed mid-dump leaves the previous backup, an interrupted run in history, and is cleaned up by the next run', async () => {
    const ok = await tierback(['job', 'slow', '-i', site.file]);
    assert.equal(ok.code, 0, ok.stderr);
    const target = path.join(root, 'backup', 'slow.example.com');
    const before = await readdir(path.join(target, 'db'));
    await writeFile(path.join(root, 'slow.flag'), '');
    const child = execa(process.execPath, [CLI, 'job', 'slow', '-i', site.file], { reject: false });
    await waitFor(async () => (await readdir(path.join(root, 'backup'))).some((n) => n.startsWith('.slow.example.com.partial-')), 'the staging folder');
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await child;
    await rm(path.join(root, 'slow.flag'));
    assert.deepEqual(await readdir(path.join(target, 'db')), before, 'previous backup untouched');
    const runs = await historyOf(site, 'slow');
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.equal(runs.at(-1)!.interrupted, true);
    await new Promise((r) => setTimeout(r, 4000)); // let the orphaned `sleep 4` of the killed run end
    const again = await runJob(site, appOf(site, 'slow'), { log });
    assert.equal(again.status, 'ok', again.error?.message);
    assert.deepEqual((await readdir(path.join(root, 'backup'))).filter((n) => n.startsWith('.slow')), []);
    assert.deepEqual((await readdir(os.tmpdir())).filter((n) => n.startsWith('tierback-job-slow-')), [], 'private temp folder of the killed run removed');
  });

  it('a dump command exiting non-zero fails with its code and leaves nothing that looks complete', async () => {
    const o = await runJob(site, appOf(site, 'broken'), { log });
    assert.equal(o.status, 'failed');
    assert.match(o.error!.message, /sh exited with code 3/);
    await assert.rejects(readdir(o.target));
    assert.deepEqual((await readdir(path.join(root, 'backup'))).filter((n) => n.startsWith('.broken')), []);
  });

  it('cvs: a write lock held by a commit makes the job wait, then fail clearly; its own read locks are removed', async () => {
    const wfl = path.join(root, 'cvsroot', 'CVSROOT', '#cvs.wfl.otherhost.4242');
    await writeFile(wfl, '');
    try {
      const o = await runJob(site, appOf(site, 'repo'), { log });
      assert.equal(o.status, 'failed');
      assert.match(o.error!.message, /stayed write-locked/);
    } finally {
      await rm(wfl);
    }
    assert.equal(await sh(['find', path.join(root, 'cvsroot'), '-name', '#cvs.rfl*']), '');
    const o2 = await runJob(site, appOf(site, 'repo'), { log });
    assert.equal(o2.status, 'ok', o2.error?.message);
    assert.equal(await sh(['find', path.join(root, 'cvsroot'), '-name', '#cvs.*']), '');
  });

  it('target disk full (a 2 MB tmpfs): the job fails, the previous backup stays whole', async () => {
    const r2 = path.join(root, 'small');
    await mkdir(path.join(r2, 'backup'), { recursive: true });
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', path.join(r2, 'backup')]);
    small = path.join(r2, 'backup');
    await makeTree(path.join(r2, 'src'), { 'a.txt': 'a'.repeat(500_000) });
    const s2 = await jobSite(r2, [{ name: 'tight', type: 'files', path: path.join(r2, 'src'), relpath: 'tight.example.com' }]);
    const o1 = await runJob(s2, appOf(s2, 'tight'), { log });
    assert.equal(o1.status, 'ok', o1.error?.message);
    await writeFile(path.join(r2, 'src', 'b.bin'), Buffer.alloc(1_800_000, 1));
    const o2 = await runJob(s2, appOf(s2, 'tight'), { log });
    assert.equal(o2.status, 'failed');
    assert.match(o2.error!.message, /rsync exited with code (11|23)/);
    assert.match(o2.error!.message, /No space left on device/);
    assert.equal(await treeDiff(path.join(r2, 'src'), path.join(o1.target, 'files'), ['b.bin']), '');
    assert.deepEqual((await readdir(small)).sort(), ['_history', 'tight.example.com']);
    assert.equal((await historyOf(s2, 'tight')).at(-1)!.status, 'failed');
  });

  it('CLI: job --all --vm web runs every app, exits 5 when some fail; --dry-run --json prints plans without secrets', async () => {
    const r = await tierback(['job', '--all', '--vm', 'web', '-i', site.file]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stdout, /docs: ok/);
    assert.match(r.stderr, /broken: error: sh exited with code 3/);
    const d = await tierback(['job', 'big', 'docs', '--dry-run', '--json', '-i', site.file]);
    assert.equal(d.code, 0, d.stderr);
    const plans = JSON.parse(d.stdout) as { app: string; status: string; plan: { steps: { argv?: string[] }[]; secretFiles: { content: string }[] } }[];
    assert.deepEqual(plans.map((p) => p.status), ['planned', 'planned']);
    assert.equal(plans[0]!.plan.secretFiles[0]!.content, '[redacted]');
    assert.ok(!d.stdout.includes(SECRET));
    const n = await tierback(['job', '--all', '-i', site.file], { env: { TIERBACK_VM: 'nosuchvm' } });
    assert.equal(n.code, 3);
    assert.match(n.stderr, /neither a VM nor a server/);
  });
});
