/**
 * Progress of a job: on a terminal (under `script`, a real pseudo-terminal) a progress line with
 * the step; under cron (stderr not a terminal) exactly the one outcome line as before. The staging
 * walk measured on a real folder filling up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { formatJobProgress, watchJob, type JobProgress } from '../../../../lib/tiers/jobs/progress.js';
import { CLI, tierback } from '../../../helpers/cli.js';
import { jobSite } from '../../../helpers/jobsite.js';
import { tempDir } from '../../../helpers/tree.js';

let root: string;
let cleanup: () => Promise<void>;
let inv: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-job-progress-'));
  const src = path.join(root, 'src');
  await mkdir(src);
  for (let i = 0; i < 40; i++) await writeFile(path.join(src, `f${i}.bin`), Buffer.alloc(50_000, i));
  const site = await jobSite(root, [{ name: 'big', type: 'files', path: src, relpath: 'big' }]);
  inv = site.file;
});
after(() => cleanup());

describe('job progress', () => {
  it('under cron (not a terminal): one outcome line on stdout and nothing on stderr, as before', async () => {
    const r = await tierback(['job', 'big', '-i', inv]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^big: ok — 40 files, 2\.0 MB in \S+ -> \S+\/big$/);
  });

  it('on a terminal: a progress line naming the step, then the outcome on a cleared line', async () => {
    const cmd = [process.execPath, CLI, 'job', 'big', '-i', inv].map((a) => `'${a}'`).join(' ');
    const r = await execa('script', ['-qec', cmd, '/dev/null'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    assert.equal(r.exitCode, 0, String(r.stdout));
    const out = String(r.stdout);
    assert.match(out, /\r\x1b\[Kbig: step 1\/1 copy \S+ into files\/ — \d+ files [\d.]+ MB/);
    assert.match(out, /\r\x1b\[Kbig: ok — 40 files, 2\.0 MB/);
  });

  it('--json on a terminal prints no progress (machine output stays clean)', async () => {
    const cmd = [process.execPath, CLI, 'job', 'big', '-i', inv, '--json'].map((a) => `'${a}'`).join(' ');
    const r = await execa('script', ['-qec', cmd, '/dev/null'], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    assert.equal(r.exitCode, 0, String(r.stdout));
    assert.doesNotMatch(String(r.stdout), /step 1\/1/);
  });

  it('watchJob reports the step at once, then the files, bytes and rate of the staging folder as it fills', async () => {
    const staging = path.join(root, 'staging');
    const seen: JobProgress[] = [];
    const w = watchJob('app', staging, 2, (p) => seen.push(p), 50);
    w.step('copy files');
    assert.deepEqual(seen[0], { app: 'app', step: 1, steps: 2, title: 'copy files', files: 0, bytes: 0, bytesPerS: undefined });
    await mkdir(staging);
    for (let i = 0; i < 10; i++) {
      await writeFile(path.join(staging, `f${i}`), Buffer.alloc(100_000));
      await new Promise((r) => setTimeout(r, 40));
    }
    await new Promise((r) => setTimeout(r, 200));
    w.step('dump');
    w.stop();
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.length, n, 'nothing reported after stop');
    const last = seen.at(-1)!;
    assert.equal(last.step, 2);
    assert.equal(last.files, 10);
    assert.equal(last.bytes, 1_000_000);
    assert.ok(seen.some((p) => p.files > 0 && p.files < 10), 'counts while the folder fills');
    assert.ok(seen.some((p) => (p.bytesPerS ?? 0) > 0), 'a rate');
    assert.equal(formatJobProgress({ ...last, bytesPerS: 2_500_000 }), 'app: step 2/2 dump — 10 files 1.0 MB 2.5 MB/s');
  });
});
