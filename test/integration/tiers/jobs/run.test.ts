import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, stat, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { lockPath, retiredPath } from '../../../../lib/model/convention.js';
import { acquireLock } from '../../../../lib/base/lock.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { formatPlan, jobTarget, runJob, runJobs } from '../../../../lib/tiers/jobs/run.js';
import { makeTree, useTempDir } from '../../../helpers/tree.js';
import { appOf, historyOf, jobSite, treeDiff } from '../../../helpers/jobsite.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();

describe('job runner: atomic, locked, recorded', () => {
  const tmp = useTempDir('tierback-run-');
  let site: Site;
  before(async () => {
    await makeTree(path.join(tmp.dir, 'src'), { 'a.txt': 'alpha\n', sub: { 'b.txt': 'beta\n' } });
    site = await jobSite(tmp.dir, [
      { name: 'docs', type: 'files', path: path.join(tmp.dir, 'src'), relpath: 'docs.example.com' },
      { name: 'gone', type: 'files', path: path.join(tmp.dir, 'nowhere'), relpath: 'gone.example.com' },
    ]);
  });

  it('writes the backup into <mount>/<relpath> with 0700 folders and a running + ok history pair', async () => {
    const app = appOf(site, 'docs');
    const o = await runJob(site, app, { log });
    assert.equal(o.status, 'ok', o.error?.message);
    assert.equal(o.target, path.join(tmp.dir, 'backup', 'docs.example.com'));
    assert.equal(await treeDiff(path.join(tmp.dir, 'src'), path.join(o.target, 'files')), '');
    assert.equal((await stat(o.target)).mode & 0o777, 0o700);
    const runs = await historyOf(site, 'docs');
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'ok');
    assert.equal(runs[0]!.files, 2);
    assert.equal(runs[0]!.type, 'files');
    const histFile = runs[0]!.file;
    assert.equal((await stat(histFile)).mode & 0o777, 0o600);
    const lines = (await readFile(histFile, 'utf8')).split('\n').filter((l) => l.startsWith('v=1'));
    assert.match(lines[0]!, /status=running/);
    assert.match(lines[1]!, new RegExp(`run=${runs[0]!.run}.*status=ok`));
    // nothing but the app folder, the lock-free parent and history
    assert.deepEqual((await readdir(path.join(tmp.dir, 'backup'))).sort(), ['_history', 'docs.example.com']);
  });

  it('a failing job (source missing) records the failure, names the inventory path and leaves the previous backup untouched', async () => {
    const good = appOf(site, 'docs');
    const before = await readFile(path.join(jobTarget(good), 'files', 'a.txt'), 'utf8');
    // make the good app fail by removing its source temporarily
    await rename(path.join(tmp.dir, 'src'), path.join(tmp.dir, 'src.away'));
    try {
      const o = await runJob(site, good, { log });
      assert.equal(o.status, 'failed');
      assert.match(o.error!.message, /source folder .* does not exist/);
      assert.match(o.record!.error!, /apps\[0\]\.path/);
    } finally {
      await rename(path.join(tmp.dir, 'src.away'), path.join(tmp.dir, 'src'));
    }
    assert.equal(await readFile(path.join(jobTarget(good), 'files', 'a.txt'), 'utf8'), before);
    const runs = await historyOf(site, 'docs');
    assert.equal(runs.at(-1)!.status, 'failed');
    const left = (await readdir(path.join(tmp.dir, 'backup'))).filter((n) => n.startsWith('.'));
    assert.deepEqual(left, [], 'no staging leftovers');
  });

  it('a second run while one holds the lock reports "locked" and writes nothing', async () => {
    const app = appOf(site, 'docs');
    const target = jobTarget(app);
    // a live process (this one) holds the lock: simulate another run by writing a lock of our parent pid
    const lockFile = lockPath(target);
    const holder = `${process.ppid} - ${(await import('node:os')).hostname()}\n`;
    await writeFile(lockFile, holder);
    // a change in the source that a run which ignored the lock would copy
    const marker = path.join(tmp.dir, 'src', 'while-locked.txt');
    await writeFile(marker, 'new\n');
    try {
      const backupBefore = (await readdir(path.join(tmp.dir, 'backup'))).sort();
      const before = (await historyOf(site, 'docs')).length;
      const o = await runJob(site, app, { log });
      assert.equal(o.status, 'locked');
      assert.match(o.error!.message, /locked by process/);
      assert.equal((await historyOf(site, 'docs')).length, before);
      assert.deepEqual((await readdir(path.join(tmp.dir, 'backup'))).sort(), backupBefore, 'no staging folder, no other entry');
      await assert.rejects(stat(path.join(target, 'files', 'while-locked.txt')), { code: 'ENOENT' }, 'the backup was not touched');
      assert.equal(await readFile(lockFile, 'utf8'), holder, "the holder's lock is left as it was");
    } finally {
      await rm(lockFile, { force: true });
      await rm(marker, { force: true });
    }
    // the refused run left no lock of its own behind
    const lock = await acquireLock(lockFile, 'test');
    assert.match(await readFile(lockFile, 'utf8'), new RegExp(`^${process.pid} `));
    await lock.release();
  });

  it('puts back a backup parked by a run that crashed between the two renames', async () => {
    const app = appOf(site, 'docs');
    const target = jobTarget(app);
    await rename(target, retiredPath(target, '20260101T000000-abcdef'));
    await mkdir(path.join(path.dirname(target), '.docs.example.com.partial-20260101T000000-abcdef'));
    const o = await runJob(site, app, { log });
    assert.equal(o.status, 'ok', o.error?.message);
    assert.equal(await treeDiff(path.join(tmp.dir, 'src'), path.join(target, 'files')), '');
    assert.deepEqual((await readdir(path.dirname(target))).filter((n) => n.startsWith('.')), []);
  });

  it('runJobs goes on after a failure; --dry-run plans without writing', async () => {
    const outcomes = await runJobs(site, [appOf(site, 'gone'), appOf(site, 'docs')], { log });
    assert.deepEqual(outcomes.map((o) => o.status), ['failed', 'ok']);
    const plans = await runJobs(site, [appOf(site, 'docs')], { log, dryRun: true });
    assert.equal(plans[0]!.status, 'planned');
    const text = formatPlan(plans[0]!.plan!);
    assert.match(text, /rsync -a --numeric-ids/);
    assert.match(text, /--link-dest=/);
    assert.deepEqual((await readdir(path.join(tmp.dir, 'backup'))).filter((n) => n.startsWith('.')), []);
  });
});
