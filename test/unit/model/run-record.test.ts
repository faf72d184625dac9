import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LockedError } from '../../../lib/base/errors.js';
import { historyFileName } from '../../../lib/model/convention.js';
import { dayOf, newRunId, parseRecord, type HistoryRecord } from '../../../lib/model/history.js';
import { acquireLock, isLocked } from '../../../lib/base/lock.js';
import { silentLogger } from '../../../lib/base/log.js';
import { ERROR_CAP, recordRun, type RunRecordSpec } from '../../../lib/model/run-record.js';
import { tempDir } from '../../helpers/tree.js';

const TZ = 'UTC';

describe('recordRun: the one lifecycle of a run (lib/model/run-record.ts)', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  let n = 0;
  const spec = (extra: Partial<RunRecordSpec> = {}): RunRecordSpec => {
    const start = new Date();
    const i = ++n;
    const base: HistoryRecord = { run: newRunId(start), name: `app${i}`, kind: 'job', tier: 'local', status: 'running', start, host: 'h', extra: { pid: String(process.pid) } };
    return { base, historyDir: path.join(dir, `h${i}`), timezone: TZ, lock: { path: path.join(dir, `l${i}.lock`), what: `app${i}` }, log: silentLogger(), what: 'job', ...extra };
  };
  const lines = async (s: RunRecordSpec) => {
    const file = path.join(s.historyDir, (await import('node:fs/promises').then((f) => f.readdir(s.historyDir)))[0]!);
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')).map(parseRecord);
  };

  it('writes a start line and a final line with the body\'s fields, and releases the lock', async () => {
    const s = spec();
    const r = await recordRun(s, async () => {
      assert.equal(await isLocked(s.lock!.path), true, 'the body runs under the lock');
      return { status: 'warning', fields: { files: 3, warning: 'w' }, value: 42 };
    });
    assert.equal(r.status, 'warning');
    assert.equal(r.value, 42);
    const [first, last] = await lines(s);
    assert.equal(first!.status, 'running');
    assert.equal(last!.status, 'warning');
    assert.equal(last!.files, 3);
    assert.equal(last!.run, s.base.run);
    assert.equal(await isLocked(s.lock!.path), false);
  });

  it('writes a failed final line, error capped, when the body throws', async () => {
    const s = spec({ onError: async () => ({ files: 7 }) });
    const r = await recordRun(s, async () => {
      throw new Error(`boom ${'x'.repeat(5000)}`);
    });
    assert.equal(r.status, 'failed');
    assert.match(r.error!.message, /^boom/);
    const runs = await lines(s);
    assert.equal(runs.length, 2);
    assert.equal(runs[1]!.status, 'failed');
    assert.equal(runs[1]!.files, 7, 'the onError fields are on the final line');
    assert.equal(runs[1]!.error!.length, ERROR_CAP);
    assert.equal(await isLocked(s.lock!.path), false);
  });

  it('writes error=interrupted when the run\'s signal was aborted (SIGTERM/SIGINT), never ok', async () => {
    const ac = new AbortController();
    const s = spec({ signal: ac.signal });
    const r = await recordRun(s, async () => {
      ac.abort();
      throw new Error('killed child');
    });
    assert.equal(r.status, 'failed');
    const runs = await lines(s);
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.equal(runs.at(-1)!.error, 'interrupted');
  });

  it('hooks that throw never fail the run', async () => {
    const seen: string[] = [];
    const s = spec({
      onStarted: async (rec) => {
        seen.push(`started ${rec.status}`);
        throw new Error('ping down');
      },
      onFinished: async (rec) => {
        seen.push(`finished ${rec.status}`);
        throw new Error('export down');
      },
    });
    const r = await recordRun(s, async () => ({ status: 'ok', value: undefined }));
    assert.equal(r.status, 'ok');
    assert.deepEqual(seen, ['started running', 'finished ok']);
    assert.equal((await lines(s)).at(-1)!.status, 'ok');
  });

  it('a held lock gives "locked": nothing written, the body not run', async () => {
    const s = spec();
    const held = await acquireLock(s.lock!.path, 'other');
    let ran = false;
    const r = await recordRun(s, async () => {
      ran = true;
      return { status: 'ok', value: undefined };
    });
    await held.release();
    assert.equal(r.status, 'locked');
    assert.ok(r.error instanceof LockedError);
    assert.equal(ran, false);
    await assert.rejects(readFile(path.join(s.historyDir, 'x')), { code: 'ENOENT' });
  });

  it('writes the final line before it releases the lock: whoever takes the lock next finds the run ended', async () => {
    // The history file is a FIFO: each write blocks until the test reads, so the test can look at
    // the lock exactly while the final line is being written.
    const s = spec();
    await mkdir(s.historyDir, { recursive: true });
    const fifo = path.join(s.historyDir, historyFileName(s.base.name, dayOf(s.base.start, TZ)));
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const run = recordRun(s, async () => ({ status: 'ok', value: undefined }));
    assert.match(await readFile(fifo, 'utf8'), /status=running/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the run is now blocked writing its final line
    assert.equal(await isLocked(s.lock!.path), true, 'the lock is held while the final line is written');
    assert.match(await readFile(fifo, 'utf8'), /status=ok/);
    assert.equal((await run).status, 'ok');
    assert.equal(await isLocked(s.lock!.path), false);
  });
});
