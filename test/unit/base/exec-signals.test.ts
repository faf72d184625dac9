/**
 * lib/base/exec.ts: a cancelled command is stopped with its whole process group (a
 * shell's own children too), children carry a parent-death signal, and a command that is not
 * installed is still reported as "cannot run" through the setpriv wrapper.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { createExec, spawnArgv } from '../../../lib/base/exec.js';
import { CommandError } from '../../../lib/base/errors.js';
import { silentLogger } from '../../../lib/base/log.js';
import { isAlive } from '../../helpers/procs.js';

describe('exec: stopping children', () => {
  it('an aborted command is stopped with its grandchildren (the whole process group)', async () => {
    const ac = new AbortController();
    const exec = createExec(silentLogger());
    // The shell starts a grandchild and waits: SIGTERM to the shell alone would leave `sleep` running.
    const running = exec.spawn({ argv: ['sh', '-c', 'sleep 300 & echo $!; wait'], stream: true }, ac.signal);
    const pid = await new Promise<number>((resolve) => running.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    assert.ok(await isAlive(pid), 'the grandchild runs');
    ac.abort();
    const r = await running;
    assert.ok(r.isCanceled, 'cancelled');
    const until = Date.now() + 2000;
    while ((await isAlive(pid)) && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    assert.equal(await isAlive(pid), false, `the grandchild ${pid} was stopped too`);
  });

  it('children carry the parent-death signal KILL (setpriv), so they die with a kill -9 of tierback', async () => {
    assert.match(spawnArgv(['true'])[0]!, /setpriv$/, 'setpriv is installed on Debian 12 (util-linux)');
    // The command run through exec reports its own state: the parent-death signal survives exec.
    const r = await createExec(silentLogger()).run({ argv: ['setpriv', '--dump'] });
    assert.match(r.stdout, /Parent death signal: KILL/i);
    const plain = await execa('setpriv', ['--dump']);
    assert.doesNotMatch(plain.stdout, /Parent death signal: KILL/i, 'not set without exec.ts');
  });

  it('a command that is not installed is still "cannot run X" with a hint', async () => {
    const exec = createExec(silentLogger());
    await assert.rejects(exec.run({ argv: ['tierback-no-such-tool', '--x'] }), (e: unknown) => e instanceof CommandError && /cannot run tierback-no-such-tool/.test(e.message) && /installed/.test(e.hint ?? ''));
  });
});
