import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, isLocked, takeoverPath } from '../../../lib/base/lock.js';
import { LockedError, ExitCode } from '../../../lib/base/errors.js';
import os from 'node:os';
import { deadPid } from '../../helpers/procs.js';
import { tempDir } from '../../helpers/tree.js';

describe('locks', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);

  it('refuses a second holder with LockedError (exit 4) naming the holder', async () => {
    const file = path.join(dir, 'a.lock');
    const lock = await acquireLock(file, 'app "hydro"');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await assert.rejects(acquireLock(file, 'app "hydro"'), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.equal(err.exitCode, ExitCode.LOCKED);
      assert.match(err.message, new RegExp(`locked by process ${process.pid}`));
      return true;
    });
    assert.equal(await isLocked(file), true);
    await lock.release();
    assert.equal(await isLocked(file), false);
    const again = await acquireLock(file, 'app "hydro"');
    await again.release();
  });
  it('takes over the lock of a dead process', async () => {
    const file = path.join(dir, 'b.lock');
    const pid = await deadPid();
    await writeFile(file, `${pid} 12345 ${os.hostname()}\n`);
    assert.equal(await isLocked(file), false);
    const lock = await acquireLock(file, 'x');
    assert.match(await readFile(file, 'utf8'), new RegExp(`^${process.pid} `));
    await lock.release();
  });
  it('takes over a lock whose pid now belongs to another process (different start time)', async () => {
    const file = path.join(dir, 'c.lock');
    // Our own pid, but a start time that is not ours: the process that wrote it is gone.
    await writeFile(file, `${process.pid} 1 ${os.hostname()}\n`);
    assert.equal(await isLocked(file), false);
    const lock = await acquireLock(file, 'x');
    const held = await readFile(file, 'utf8');
    assert.match(held, new RegExp(`^${process.pid} \\d+ ${os.hostname()}\n$`));
    assert.notEqual(held, `${process.pid} 1 ${os.hostname()}\n`);
    assert.equal(await isLocked(file), true);
    await lock.release();
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });
  it('takes over an empty (half-written) lock file, and leaves no temp file behind', async () => {
    const sub = path.join(dir, 'e');
    await mkdir(sub);
    const file = path.join(sub, '.app.example.com.lock');
    await writeFile(file, '');
    const lock = await acquireLock(file, 'x');
    assert.match(await readFile(file, 'utf8'), new RegExp(`^${process.pid} `));
    assert.deepEqual(await readdir(sub), ['.app.example.com.lock']);
    await lock.release();
    assert.deepEqual(await readdir(sub), []);
  });
  it('a live process taking over a stale lock wins: another run gets LockedError and removes nothing', async () => {
    const file = path.join(dir, 'f.lock');
    const stale = `${await deadPid()} 1 ${os.hostname()}\n`;
    await writeFile(file, stale);
    // Our parent (alive) holds the takeover lock: it is in the middle of taking over.
    await writeFile(takeoverPath(file), `${process.ppid} - ${os.hostname()}\n`);
    await assert.rejects(acquireLock(file, 'app "x"'), (err: unknown) => err instanceof LockedError && /being taken over/.test(err.message));
    assert.equal(await readFile(file, 'utf8'), stale);
    await rm(takeoverPath(file));
  });
  it('a takeover lock left by a dead process does not block the takeover forever', async () => {
    const file = path.join(dir, 'g.lock');
    await writeFile(file, `${await deadPid()} 1 ${os.hostname()}\n`);
    await writeFile(takeoverPath(file), `${await deadPid()} 1 ${os.hostname()}\n`);
    const lock = await acquireLock(file, 'x');
    assert.match(await readFile(file, 'utf8'), new RegExp(`^${process.pid} `));
    await assert.rejects(stat(takeoverPath(file)), { code: 'ENOENT' });
    await lock.release();
  });
  it('release removes only our own lock', async () => {
    const file = path.join(dir, 'h.lock');
    const lock = await acquireLock(file, 'x');
    await writeFile(file, `1 1 some-other-host.example\n`);
    await lock.release();
    assert.equal(await readFile(file, 'utf8'), `1 1 some-other-host.example\n`);
  });
  it('never steals a lock held on another host', async () => {
    const file = path.join(dir, 'd.lock');
    await writeFile(file, `1 1 some-other-host.example\n`);
    await assert.rejects(acquireLock(file, 'x'), LockedError);
    assert.equal(await readFile(file, 'utf8'), `1 1 some-other-host.example\n`);
  });
});
