/**
 * Benchmark: removing a 100k-file hardlinked snapshot with tierback's removeSnapshot (rename to
 * .<stamp>.deleting, then rm -rf) against a plain `rm -rf` of the same tree.
 * Each run removes a fresh `cp -al` copy of one template tree (a snapshot as --link-dest makes it),
 * in a fresh folder; contenders alternate. Prints each run, the medians and the ratio.
 *
 *   npx tsc -p . && node build/bench/prune.js [--files 100000] [--runs 5] [--dir /var/tmp]
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as C from '../lib/model/convention.js';
import { createExec } from '../lib/base/exec.js';
import { silentLogger } from '../lib/base/log.js';
import { removeSnapshot } from '../lib/tiers/retention/snapshots.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const FILES = Number(arg('files', '100000'));
const RUNS = Number(arg('runs', '5'));
const BASE = arg('dir', os.tmpdir());
const SERVER = 'bench.example.ch';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(BASE, 'tierback-bench-prune-'));
  const exec = createExec(silentLogger());
  try {
    const template = path.join(root, 'template');
    process.stdout.write(`building a ${FILES}-file template tree in ${template} ...\n`);
    const perDir = 100;
    for (let d = 0; d * perDir < FILES; d++) {
      const dir = path.join(template, 'web', 'v2.example.ch', 'hydro', `d${Math.floor(d / 100)}`, `e${d % 100}`);
      await mkdir(dir, { recursive: true });
      const n = Math.min(perDir, FILES - d * perDir);
      await Promise.all(Array.from({ length: n }, (_, i) => writeFile(path.join(dir, `f${i}`), `file ${d}/${i}\n`)));
    }
    const times: Record<'rm -rf' | 'removeSnapshot', number[]> = { 'rm -rf': [], removeSnapshot: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const who of (run % 2 === 0 ? ['rm -rf', 'removeSnapshot'] : ['removeSnapshot', 'rm -rf']) as (keyof typeof times)[]) {
        const partition = path.join(root, `run${run}-${who === 'rm -rf' ? 'rm' : 'tierback'}`);
        const stamp = C.snapshotStamp(new Date(Date.UTC(2026, 0, 1 + run)));
        const snap = C.snapshotDir(partition, SERVER, stamp);
        await mkdir(path.dirname(snap), { recursive: true });
        await execa('cp', ['-al', template, snap]);
        await execa('sync');
        const t0 = process.hrtime.bigint();
        if (who === 'rm -rf') await execa('rm', ['-rf', snap]);
        else await removeSnapshot(partition, SERVER, stamp, exec);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        times[who].push(ms);
        process.stdout.write(`run ${run + 1}/${RUNS}  ${who.padEnd(14)} ${ms.toFixed(0).padStart(7)} ms\n`);
        await rm(partition, { recursive: true, force: true });
      }
    }
    const a = median(times['rm -rf']);
    const b = median(times.removeSnapshot);
    process.stdout.write(`\nfiles per snapshot: ${FILES}, runs: ${RUNS}\n`);
    process.stdout.write(`median rm -rf:          ${a.toFixed(0)} ms\n`);
    process.stdout.write(`median removeSnapshot:  ${b.toFixed(0)} ms\n`);
    process.stdout.write(`ratio removeSnapshot / rm -rf: ${(b / a).toFixed(3)} (target: <= 1.0 within noise)\n`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
