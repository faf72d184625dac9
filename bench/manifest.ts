/**
 * What the manifest adds to every job: writeManifest (walk + checksums of dumps and a
 * 32-file sample) against measure() (the walk every job already does for its history line), on a
 * tree of 2,000 and one of 20,000 files plus a 20 MB dump, each run in a fresh process on a fresh
 * folder, alternating. Prints median milliseconds, the manifest/measure ratio, and median peak RSS
 * (flat memory: the 20k tree's RSS near the 2k tree's).
 * Usage: npx tsc -p . && node build/bench/manifest.js [runs]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

function buildTree(dir: string, files: number): void {
  const per = 100;
  for (let i = 0; i < files; i++) {
    const d = path.join(dir, 'files', `d${Math.floor(i / per)}`);
    if (i % per === 0) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, `f${i}.txt`), randomBytes(1024));
  }
  mkdirSync(path.join(dir, 'db'));
  // 20 MB of incompressible bytes named like a dump: checksummed, not parsed (no known format).
  writeFileSync(path.join(dir, 'db', 'big-2026-02-01T010000Z.bin.gz'), randomBytes(20_000_000));
}

async function child(what: 'manifest' | 'measure', dir: string): Promise<void> {
  const { writeManifest } = await import('../lib/tiers/jobs/manifest.js');
  const { measure } = await import('../lib/tiers/jobs/run.js');
  const { createExec } = await import('../lib/base/exec.js');
  const { silentLogger } = await import('../lib/base/log.js');
  const t0 = performance.now();
  if (what === 'manifest') await writeManifest(dir, createExec(silentLogger()));
  else await measure(dir);
  const ms = performance.now() - t0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  process.stdout.write(`${ms.toFixed(1)} ${hwm}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3] as 'manifest' | 'measure', process.argv[4]!);
  const runs = Number(process.argv[2] ?? 3);
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { ms: number[]; kb: number[] }> = {};
  for (const files of [2000, 20000]) {
    for (let r = 0; r < runs; r++) {
      // A fresh tree per run (the disk is slow to re-use freed inodes); both contenders read the same tree, alternating first.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tierback-bench-manifest-'));
      try {
        buildTree(dir, files);
        const order: ('manifest' | 'measure')[] = r % 2 ? ['measure', 'manifest'] : ['manifest', 'measure'];
        for (const what of order) {
          const [ms, kb] = execFileSync(process.execPath, [self, '--child', what, dir], { encoding: 'utf8' }).trim().split(' ').map(Number);
          const key = `${what} ${files}`;
          results[key] ??= { ms: [], kb: [] };
          results[key].ms.push(ms!);
          results[key].kb.push(kb!);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  process.stdout.write(`runs: ${runs} per case (median)\n`);
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(16)} ${median(v.ms).toFixed(0).padStart(7)} ms   peak RSS ${(median(v.kb) / 1024).toFixed(1)} MB\n`);
  for (const files of [2000, 20000]) {
    const m = results[`manifest ${files}`]!;
    const w = results[`measure ${files}`]!;
    process.stdout.write(`ratio manifest/measure at ${files} files: ${(median(m.ms) / median(w.ms)).toFixed(2)}\n`);
  }
  const rss = median(results['manifest 20000']!.kb) / median(results['manifest 2000']!.kb);
  process.stdout.write(`peak RSS 20k/2k files (manifest): ${rss.toFixed(2)}\n`);
}

await main();
