import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { acquireLock, isLocked } from '../../lib/lock.js';
import { LockedError, ExitCode } from '../../lib/errors.js';
import os from 'node:os';
import { tempDir } from '../helpers/tree.js';

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
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    await writeFile(file, `${pid} 12345 ${os.hostname()}\n`);
    assert.equal(await isLocked(file), false);
    const lock = await acquireLock(file, 'x');
    assert.match(await readFile(file, 'utf8'), new RegExp(`^${process.pid} `));
    await lock.release();
  });
  it('takes over a lock whose pid now belongs to another process (different start time)', async () => {
    const file = path.join(dir, 'c.lock');
    await writeFile(file, `${process.pid} 1 ${os.hostname()}\n`);
    const lock = await acquireLock(file, 'x');
    await lock.release();
  });
  it('never steals a lock held on another host', async () => {
    const file = path.join(dir, 'd.lock');
    await writeFile(file, `1 1 some-other-host.example\n`);
    await assert.rejects(acquireLock(file, 'x'), LockedError);
  });
});
