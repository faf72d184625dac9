/**
 * Many real processes race for one lock, started together by a FIFO barrier: never two holders at
 * once, whether the lock is free, or left behind by a dead process (or half-written by an old
 * tierback) and taken over by the racers.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { open, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { deadPid } from '../../helpers/procs.js';
import { tempDir } from '../../helpers/tree.js';

const RACER = fileURLToPath(new URL('../../helpers/lock-racer.js', import.meta.url));
const RACERS = 24;

interface Hold {
  round: number;
  pid: number;
  enter: number;
  exit: number;
  overlap: boolean;
}

/** Runs RACERS processes for `stale.length` rounds; before round r, `stale[r]` (if any) is written as the lock's content. */
async function race(dir: string, stale: (string | undefined)[]): Promise<Hold[]> {
  const lockFile = path.join(dir, '.app.example.com.lock');
  const inside = path.join(dir, 'inside');
  for (let r = 0; r < stale.length; r++) await execa('mkfifo', [path.join(dir, `go-${r}`)]);
  const holds: Hold[] = [];
  const ready = new Map<number, number>();
  const children = Array.from({ length: RACERS }, () => {
    const c = spawn(process.execPath, [RACER, lockFile, dir, String(stale.length), inside], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += String(d)));
    createInterface({ input: c.stdout }).on('line', (line) => {
      const m = /^ready (\d+)$/.exec(line);
      if (m) ready.set(Number(m[1]), (ready.get(Number(m[1])) ?? 0) + 1);
      else holds.push(JSON.parse(line) as Hold);
    });
    const done = new Promise<void>((resolve, reject) =>
      c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`racer ${c.pid} exited ${code}: ${stderr}`)))),
    );
    return done;
  });
  const all = Promise.all(children);
  all.catch(() => undefined);
  for (let r = 0; r < stale.length; r++) {
    while ((ready.get(r) ?? 0) < RACERS) {
      await Promise.race([sleep(5), all]);
    }
    if (stale[r] !== undefined) await writeFile(lockFile, stale[r]!, { mode: 0o600 });
    await sleep(20); // every racer is blocked in open() of the FIFO by now
    const go = await open(path.join(dir, `go-${r}`), 'w'); // releases them all at once
    await sleep(150); // a late racer still finds the writer open
    await go.close();
  }
  await all;
  return holds;
}

function assertExclusive(holds: Hold[], rounds: number): void {
  for (let r = 0; r < rounds; r++) {
    const inRound = holds.filter((h) => h.round === r).sort((a, b) => a.enter - b.enter || a.exit - b.exit);
    assert.equal(inRound.length, RACERS, `round ${r}: every racer held the lock once`);
    assert.equal(new Set(inRound.map((h) => h.pid)).size, RACERS);
    assert.deepEqual(inRound.filter((h) => h.overlap).map((h) => h.pid), [], `round ${r}: a holder found another one inside`);
    for (let i = 1; i < inRound.length; i++) {
      const [a, b] = [inRound[i - 1]!, inRound[i]!];
      assert.ok(b.enter >= a.exit, `round ${r}: ${b.pid} entered at ${b.enter} while ${a.pid} held the lock until ${a.exit}`);
    }
  }
}

describe('lock race: many processes, one lock', { timeout: 120_000 }, async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);

  it('24 processes started together, 6 rounds: never two holders at once', async () => {
    const d = path.join(dir, 'free');
    await execa('mkdir', [d]);
    const rounds = 6;
    assertExclusive(await race(d, Array.from({ length: rounds }, () => undefined)), rounds);
    assert.deepEqual((await readdir(d)).filter((n) => n.endsWith('.lock')), [], 'no lock or temp file left behind');
  });

  it('a stale lock (dead pid, reused pid, half-written) taken over by 24 racers, 12 rounds: one at a time', async () => {
    const d = path.join(dir, 'stale');
    await execa('mkdir', [d]);
    const host = os.hostname();
    const dead = await deadPid();
    const kinds = [`${dead} 12345 ${host}\n`, `${dead} - ${host}\n`, `${process.pid} 1 ${host}\n`, ''];
    const stale = Array.from({ length: 12 }, (_, i) => kinds[i % kinds.length]!);
    assertExclusive(await race(d, stale), stale.length);
    assert.deepEqual((await readdir(d)).filter((n) => n.endsWith('.lock')), [], 'no lock or temp file left behind');
  });
});
