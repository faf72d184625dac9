/**
 * What `rsync -H` costs a job: the files job's rsync (lib/tiers/jobs/common.ts RSYNC_BASE) on a generated
 * app of FILES files (default 100,000; 1 % of them hardlinked in pairs), with and without -H, for a
 * first run (empty destination) and a nightly run (--link-dest to the previous copy, nothing
 * changed). Fresh destination folders per run, cold cache when allowed (drop_caches), contenders
 * alternated, each run started once the machine is quiet (1-minute load at most 1.2), load average
 * printed before and after each run; medians at the end.
 * Usage: npx tsc -p . && node build/bench/job-hardlinks.js [files=100000] [reps=5] [bytes=2048]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RSYNC_BASE, copyArgv } from '../lib/tiers/jobs/common.js';

const FILES = Number(process.argv[2] ?? 100_000);
const REPS = Number(process.argv[3] ?? 5);
const SIZE = Number(process.argv[4] ?? 2048);
const PER_DIR = 200;

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Waits (up to 4 min) until the 1-minute load average is at most QUIET: the previous run's own load has decayed. */
const QUIET = 1.2;
async function quiet(): Promise<void> {
  for (let i = 0; i < 120 && os.loadavg()[0]! > QUIET; i++) await new Promise((r) => setTimeout(r, 2000));
}

async function dropCaches(): Promise<void> {
  spawnSync('sync');
  await writeFile('/proc/sys/vm/drop_caches', '3').catch(() => undefined);
}

/** The app: FILES files in folders of PER_DIR; every 100th file gets a second name (a hardlink) in the next folder. */
async function generate(root: string): Promise<{ links: number }> {
  const body = Buffer.alloc(SIZE, 'x');
  let links = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `d${Math.floor(i / PER_DIR / 50)}`, `e${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `f${i}.dat`), body);
    if (i % 100 === 0) {
      const other = path.join(root, 'linked', `l${i}.dat`);
      if (links === 0) await mkdir(path.dirname(other), { recursive: true });
      await link(path.join(dir, `f${i}.dat`), other);
      links++;
    }
  }
  return { links };
}

/** Seconds and peak RSS (kB, from /usr/bin/time when present) of one rsync. */
function timeRsync(argv: string[]): { s: number; rssKb: number | undefined } {
  const useTime = spawnSync('/usr/bin/time', ['--version']).status === 0;
  const t0 = process.hrtime.bigint();
  const r = useTime ? spawnSync('/usr/bin/time', ['-f', '%M', ...argv], { encoding: 'utf8' }) : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  const rss = useTime ? Number(/(\d+)\s*$/.exec(r.stderr.trim())?.[1]) : undefined;
  return { s, rssKb: rss };
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'tierback-bench-hardlinks-'));
  try {
    const src = path.join(work, 'app');
    const t0 = Date.now();
    const { links } = await generate(src);
    const load0 = load();
    console.error(`generated ${FILES} files (${links} with a second name) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const contenders = [
      { name: 'with -H', base: [...RSYNC_BASE] },
      { name: 'without -H', base: RSYNC_BASE.filter((a) => a !== '-H') },
    ];
    const times: Record<string, Record<string, number[]>> = {};
    const rss: Record<string, Record<string, number[]>> = {};
    for (let rep = 0; rep < REPS; rep++) {
      for (const c of rep % 2 ? [...contenders].reverse() : contenders) {
        const prev = path.join(work, `prev-${rep}-${c.name.replace(/\W+/g, '')}`);
        const dest = path.join(work, `dest-${rep}-${c.name.replace(/\W+/g, '')}`);
        for (const phase of ['first', 'nightly'] as const) {
          const to = phase === 'first' ? prev : dest;
          await mkdir(to);
          // The job's own argv (lib/tiers/jobs/common.ts), with the contender's base options.
          const argv = copyArgv({ source: src, dest: to, linkDest: phase === 'nightly' ? prev : undefined });
          const full = ['rsync', ...c.base, ...argv.slice(1 + RSYNC_BASE.length)];
          await dropCaches();
          await quiet();
          const before = load();
          const counts = os.loadavg()[0]! <= 1.5;
          const r = timeRsync(full);
          if (counts) ((times[c.name] ??= {})[phase] ??= []).push(r.s);
          if (counts && r.rssKb) ((rss[c.name] ??= {})[phase] ??= []).push(r.rssKb / 1024);
          process.stderr.write(`rep ${rep + 1} ${phase.padEnd(8)} ${c.name.padEnd(11)} ${r.s.toFixed(2)} s${r.rssKb ? `, rsync peak RSS ${(r.rssKb / 1024).toFixed(1)} MB` : ''} (load before ${before}, after ${load()})${counts ? '' : ' (load above 1.5 before the run: does not count)'}\n`);
        }
        await rm(prev, { recursive: true, force: true });
        await rm(dest, { recursive: true, force: true });
      }
    }
    const rsyncVersion = execFileSync('rsync', ['--version'], { encoding: 'utf8' }).split('\n')[0];
    console.log(`machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.release()}, ${rsyncVersion}; load average at start ${load0}, at end ${load()}`);
    console.log(`app: ${FILES} files x ${SIZE} bytes, ${links} hardlinked pairs; ${REPS} reps, cold cache when allowed, contenders alternated, fresh folders per rep; each run starts once the 1-minute load average is at most ${QUIET} (a run starting above 1.5 does not count; the load printed after a run includes that run's own rsync)`);
    for (const phase of ['first', 'nightly']) {
      const ws = times['with -H']?.[phase] ?? [];
      const wos = times['without -H']?.[phase] ?? [];
      if (!ws.length || !wos.length) {
        console.log(`${phase.padEnd(8)} no run counted (the load average stayed above 1.5)`);
        continue;
      }
      const w = median(ws);
      const wo = median(wos);
      const mem = (n: string) => (rss[n]?.[phase] ? `, rsync peak RSS ${median(rss[n]![phase]!).toFixed(1)} MB` : '');
      console.log(`${phase.padEnd(8)} with -H ${w.toFixed(2)} s${mem('with -H')}; without -H ${wo.toFixed(2)} s${mem('without -H')}; ratio ${(w / wo).toFixed(2)}`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
