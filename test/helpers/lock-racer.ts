/**
 * One racer of the lock race test (test/unit/base/lock-race.test.ts), run as its own Node process:
 *   node lock-racer.js <lockFile> <barrierDir> <rounds> <insideFile>
 * For each round r it prints `ready <r>`, then blocks opening the FIFO `<barrierDir>/go-<r>` until
 * the test opens it for writing (all racers start together). It then tries to take the lock until
 * it has held it once: while holding, it creates `<insideFile>` with O_EXCL (failing means another
 * process holds the lock at the same time), waits a little, removes it and releases. It prints one
 * JSON line per hold: {round, enter, exit, overlap} (Date.now() times).
 */
import { closeSync, openSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../../lib/base/lock.js';
import { LockedError } from '../../lib/base/errors.js';

const [lockFile, barrierDir, roundsArg, insideFile] = process.argv.slice(2) as [string, string, string, string];

for (let round = 0; round < Number(roundsArg); round++) {
  process.stdout.write(`ready ${round}\n`);
  closeSync(openSync(path.join(barrierDir, `go-${round}`), 'r')); // blocks until the test opens the writer
  for (let attempt = 0; ; attempt++) {
    let lock;
    try {
      lock = await acquireLock(lockFile, 'race');
    } catch (err) {
      if (!(err instanceof LockedError) || attempt > 5000) throw err;
      await sleep(Math.random() * 3);
      continue;
    }
    const enter = Date.now();
    let overlap = false;
    try {
      closeSync(openSync(insideFile, 'wx'));
    } catch {
      overlap = true;
    }
    await sleep(2);
    if (!overlap) unlinkSync(insideFile);
    const exit = Date.now();
    await lock.release();
    process.stdout.write(`${JSON.stringify({ round, pid: process.pid, enter, exit, overlap })}\n`);
    break;
  }
}
