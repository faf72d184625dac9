import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createGunzip, createGzip } from 'node:zlib';
import { readFile, stat } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createExec, describeCommand } from '../../../lib/base/exec.js';
import { CommandError } from '../../../lib/base/errors.js';
import { REDACT_PATHS } from '../../../lib/base/log.js';
import { tempDir } from '../../helpers/tree.js';

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  return { log: pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream), lines };
}

describe('exec: the one place that runs subprocesses', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  void createGunzip;

  it('runs argv arrays without a shell', async () => {
    const { log } = captureLogger();
    const r = await createExec(log).run({ argv: ['printf', '%s|', 'a b', '$(id)', ';rm -rf /'] });
    assert.equal(r.stdout, 'a b|$(id)|;rm -rf /|');
  });
  it('feeds a command its stdin while it runs (runFed); a child that exits early never blocks the writer', async () => {
    const { log } = captureLogger();
    const exec = createExec(log);
    const fed = exec.runFed({ argv: ['wc', '-l'] });
    for (let i = 0; i < 1000; i++) fed.stdin.write(`line ${i}\n`);
    fed.stdin.end();
    assert.equal((await fed.done).stdout.trim(), '1000');
    // `true` reads nothing and exits: 8 MB written to it must not hang, and done says it succeeded.
    const early = exec.runFed({ argv: ['true'] });
    const chunk = 'x'.repeat(1 << 16);
    for (let i = 0; i < 128; i++) {
      if (early.stdin.destroyed) break;
      if (!early.stdin.write(chunk)) await new Promise((r) => { early.stdin.once('drain', r); early.stdin.once('close', r); early.stdin.once('error', r); });
    }
    early.stdin.end();
    assert.equal((await early.done).exitCode, 0);
    await assert.rejects(exec.runFed({ argv: ['false'] }).done, (err: Error) => err instanceof CommandError && err.code === 1);
    const dry = createExec(log, { dryRun: true }).runFed({ argv: ['rm', '-rf', '/nothing'] });
    dry.stdin.end('a\n');
    assert.equal((await dry.done).exitCode, 0);
  });
  it('passes secrets in the environment only and never logs them', async () => {
    const { log, lines } = captureLogger();
    const r = await createExec(log).run({ argv: ['sh', '-c', 'printf %s "$PGPASSWORD"'], secretEnv: { PGPASSWORD: 's3cret-pw' }, env: { PLAIN: 'x' } });
    assert.equal(r.stdout, 's3cret-pw');
    assert.ok(lines.length > 0);
    assert.ok(lines.every((l) => !l.includes('s3cret-pw')), lines.join(''));
  });
  it('turns a non-zero exit into CommandError with the code and the last stderr lines', async () => {
    const { log } = captureLogger();
    await assert.rejects(createExec(log).run({ argv: ['sh', '-c', 'echo boom >&2; exit 3'] }), (err: unknown) => {
      assert.ok(err instanceof CommandError);
      assert.equal(err.code, 3);
      assert.match(err.message, /exited with code 3: boom/);
      return true;
    });
  });
  it('counts warning codes as success with a warning (rsync 24)', async () => {
    const { log } = captureLogger();
    const r = await createExec(log).run({ argv: ['sh', '-c', 'exit 24'], warnCodes: [24] });
    assert.equal(r.warning, true);
  });
  it('names a missing program', async () => {
    const { log } = captureLogger();
    await assert.rejects(createExec(log).run({ argv: ['no-such-program-xyz'] }), /cannot run no-such-program-xyz/);
  });
  it('streams output through gzip into a 0600 file', async () => {
    const { log } = captureLogger();
    const file = path.join(dir, 'out.gz');
    await createExec(log).runToFile({ argv: ['seq', '1', '200000'] }, file, [createGzip()]);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const text = gunzipSync(await readFile(file)).toString();
    assert.equal(text.split('\n').length, 200001);
  });
  it('fails runToFile when the command fails, after writing', async () => {
    const { log } = captureLogger();
    await assert.rejects(createExec(log).runToFile({ argv: ['sh', '-c', 'echo partial; exit 2'] }, path.join(dir, 'bad.gz'), [createGzip()]), /exited with code 2/);
  });
  it('runs nothing in dry-run and records the plan', async () => {
    const { log } = captureLogger();
    const exec = createExec(log, { dryRun: true });
    await exec.run({ argv: ['touch', path.join(dir, 'never')] });
    await assert.rejects(stat(path.join(dir, 'never')));
    assert.deepEqual(exec.history, [['touch', path.join(dir, 'never')]]);
  });
  it('describes commands for people, quoting what a shell would split', () => {
    assert.equal(describeCommand(['rsync', '-a', 'a b/', "it's"]), `rsync -a 'a b/' 'it'\\''s'`);
  });
});
