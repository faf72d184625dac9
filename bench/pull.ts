/**
 * Bench (issue 17's Acceptance): the same local tier through plain rsync over SSH into a mirror,
 * `tierback pull` with the hardlink engine, with the btrfs engine with and without change lists, and
 * rsnapshot (default cp -al, link_dest 1, sync_first 1, and default with all 7 dailies rotating),
 * each on ext4 (the --dir folder) and on a btrfs loop file the bench makes (tierback btrfs runs on
 * btrfs only); cold cache, alternating contenders, each run into a fresh folder, load average
 * before and after each run. The source is a `files` app per VM folder whose tierback job writes the
 * local tier; the 1% change is made to the apps' sources and carried by their jobs (job time is not
 * part of any pull), and every contender pulls that same local tier. Prints median seconds, ratios
 * against each peer's faster filesystem, the time to delete a snapshot (btrfs subvolume delete vs
 * rm -rf of a hardlinked one), and the peak RSS of the `tierback pull` process (VmHWM) and its rsync;
 * writes all of it to the results file (--out, default bench/pull-results-<files>.txt).
 * Real sshd on loopback (unrestricted key so every contender sees the same server), its sessions run
 * with an empty HOME: the clean shell of a fresh machine or a backup user, not this user's ~/.bashrc.
 *
 * tierback runs as installed (docs/install.md): the bundle dist/tierback/tierback.mjs, rebuilt from the
 * source at the start, with its shebang's node options, as cron runs /usr/local/bin/tierback.
 * With --quiet-machine each timed run waits (after dropping the caches) until the 1-minute load average
 * is at most 1.5 (the project's rule for a figure that counts; at most --settle-max seconds, default
 * 150): a run that started above it is marked `*` and the summary says how many runs of each contender
 * count. The pulls' own load (8 rsync and ssh processes on 2 cores) is what the wait lets decay.
 *
 *   npx tsc -p . && node build/bench/pull.js [--files 100000] [--size 18000] [--reps 3] [--dir /var/tmp]
 *        [--fs ext4,btrfs] [--only "rsync mirror,tierback btrfs lists"] [--out FILE] [--quiet-machine] [--settle-max 150]
 *   node build/bench/pull.js --small        # 2,000 files of 4 KB, 1 rep: checks the harness works (figures do not count)
 *   node build/bench/pull.js --rss --files 1000000 --size 0 --per-dir 50   # RSS only: first and repeat pulls, both engines
 * `--first-only` times the first pulls only (no repeat pulls, no 1% change).
 * The results file is rewritten after every rep (an interrupted bench keeps its whole reps); its first
 * line names the commit. `--continue` adds reps to it: when its settings, machine and code are those of
 * this run (no code path changed since its commit, nothing uncommitted), it runs the reps after the
 * ones it holds, up to --reps (`--reps-now N`: at most N this time), and summarizes them all. So a
 * table whose reps take longer than one sitting is still the medians of reps of one code:
 *   node build/bench/pull.js --files 100000 --reps 3 --quiet-machine --continue --reps-now 1 --out FILE
 * `--only` also takes contenders left out of the table: 'rsnapshot link_dest', and 'tierback hardlink N streams' (--streams N).
 * A name in `--only` may carry its filesystem, 'rsnapshot sync_first [ext4]': that contender on that one only.
 * `--baseline DIR` adds 'tierback hardlink baseline': the same pull by an older tierback, a checkout of
 * another commit in DIR (with node_modules), bundled there at the start and run as installed then; e.g.
 *   git worktree add /tmp/old <commit> && ln -s $PWD/node_modules /tmp/old/ && node build/bench/pull.js \
 *     --baseline /tmp/old --only 'tierback hardlink,tierback hardlink baseline' --fs ext4 --quiet-machine
 * Full size from the issue: 100k files, ~1.8 GB, ~21k dirs (5 files per folder). Run it alone on the
 * machine (--quiet-machine records that you did). Interrupted (Ctrl-C, SIGTERM), it unmounts its btrfs
 * loop file and removes its folder.
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey, startSshd } from '../test/helpers/sshd.js';
import { deleteSnapshots } from '../lib/tiers/snapshots/engines/registry.js';
import { createExec } from '../lib/base/exec.js';
import { silentLogger } from '../lib/base/log.js';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  const doc = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  console.log(/\/\*\*([\s\S]*?)\*\//.exec(doc)?.[1]?.replace(/^ \* ?/gm, '').trim() ?? 'bench/pull.ts: see its source');
  process.exit(0);
}
const opt = (name: string, def: number | string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : String(def);
};
const SMALL = args.includes('--small');
const FILES = Number(opt('files', SMALL ? 2000 : 10000));
const SIZE = Number(opt('size', SMALL ? 4000 : 18000));
const REPS = Number(opt('reps', SMALL ? 1 : 3));
const FSES = opt('fs', 'ext4,btrfs').split(',').map((s) => s.trim()).filter(Boolean);
const OUT_RSS = opt('out', path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/pull-results-rss.txt'));
const OUT = opt('out', path.resolve(path.dirname(fileURLToPath(import.meta.url)), `../../bench/pull-results-${FILES}.txt`));
const QUIET = args.includes('--quiet-machine');
const VMS = 7;
const BASE = opt('dir', '/var/tmp');
const PER_DIR = Number(opt('per-dir', 5));
const ONLY = opt('only', '').split(',').map((s) => s.trim()).filter(Boolean);
const RSS_ONLY = args.includes('--rss');
const FIRST_ONLY = args.includes('--first-only');
/** --continue: add reps to the results file (--out) of the same settings, machine and code; --reps-now N: at most N this time. */
const CONTINUE = args.includes('--continue');
const REPS_NOW = Number(opt('reps-now', Number.POSITIVE_INFINITY));
const SETTLE_MAX_S = Number(opt('settle-max', 150));
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The installed form (docs/install.md), rebuilt from the source by main(). */
const CLI = path.join(ROOT, 'dist/tierback/tierback.mjs');

/** The node options of the CLI's shebang (`#!/usr/bin/env -S node OPTIONS`): installed, it runs with them. */
function shebangOptions(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}
/** How cron runs it (`/usr/local/bin/tierback pull`): through the shebang, with its node options (read once the bundle is built). */
let CLI_ARGV: string[] = [CLI];
/** An older checkout to compare with (--baseline DIR), and how its bundle runs. */
const BASELINE = opt('baseline', '');
let BASELINE_ARGV: string[] = [];

/** Waits until the 1-minute load average is at most 1.5 (at most SETTLE_MAX_S); true when it is. */
async function settle(): Promise<boolean> {
  const until = Date.now() + SETTLE_MAX_S * 1000;
  while (os.loadavg()[0]! > 1.5 && Date.now() < until) await new Promise((r) => setTimeout(r, 2000));
  return os.loadavg()[0]! <= 1.5;
}


async function dropCaches() {
  await execa('sync');
  await writeFile('/proc/sys/vm/drop_caches', '3').catch(() => undefined);
}

/** The apps' sources: `<appsrc>/vm<k>/d../e../f<i>.bin`; each vm<k> is the path of a `files` app whose job writes the local tier. */
const dirOf = (appsrc: string, i: number) =>
  path.join(appsrc, `vm${Math.floor(i / PER_DIR) % VMS}`, `d${Math.floor(i / PER_DIR / 50)}`, `e${Math.floor(i / PER_DIR)}`);

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function buildTree(root: string, files: number) {
  const blob = randomBytes(Math.max(1, SIZE * 2));
  let next = 0;
  const worker = async () => {
    while (next < files) {
      const i = next++;
      const d = dirOf(root, i);
      await mkdir(d, { recursive: true });
      const off = (i * 7919) % Math.max(1, SIZE);
      await writeFile(path.join(d, `f${i}.bin`), blob.subarray(off, off + SIZE));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function changeOnePercent(root: string, files: number, round: number) {
  for (let i = round; i < files; i += 100) await writeFile(path.join(dirOf(root, i), `f${i}.bin`), randomBytes(SIZE));
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The code the figures are of: the commit, and whether the code (not the results files) has uncommitted changes. */
const CODE_PATHS = ['lib', 'cli', 'bench', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', ':(exclude)bench/*.txt'];
async function codeState(): Promise<{ commit: string; subject: string; dirty: boolean }> {
  const git = (a: string[]) => execa('git', ['-C', ROOT, ...a], { reject: false }).then((r) => String(r.stdout).trim());
  return {
    commit: await git(['rev-parse', '--short=12', 'HEAD']),
    subject: (await git(['log', '-1', '--format=%s'])).replace(/^(.{70}).+/s, '$1...'),
    dirty: (await git(['status', '--porcelain', '--', ...CODE_PATHS])) !== '',
  };
}

/**
 * --continue: the whole reps already in the results file, when it was made by the same settings, on
 * the same machine, from the same code (its commit and HEAD differ in no code path, nothing uncommitted);
 * otherwise a clear refusal. Nothing at all: a fresh start.
 */
async function readPrior(file: string, same: string[], code: { commit: string; dirty: boolean }): Promise<{ body: string[]; repsDone: number; sessions: number }> {
  if (!existsSync(file)) return { body: [], repsDone: 0, sessions: 0 };
  const text = readFileSync(file, 'utf8').split('\n');
  const refuse = (why: string) => {
    throw new Error(`--continue: ${file} ${why}; its reps cannot be joined by this run. Start a new results file (another --out, or without --continue).`);
  };
  // Its "# code:" line: the first the bench wrote (comments may be put above it by hand).
  const codeLine = text.find((l) => l.startsWith('# code: ')) ?? '';
  const commit = /^# code: (\w+)/.exec(codeLine)?.[1];
  if (!commit) refuse('has no "# code:" line (it was not written by a bench that can continue)');
  for (const l of same) if (!text.includes(l)) refuse(`was made with other settings or on another machine (it lacks the line "${l}")`);
  if (codeLine.includes('WITH UNCOMMITTED CHANGES')) refuse('was made by code with uncommitted changes');
  if (code.dirty) refuse('must be joined by committed code, and the code here has uncommitted changes (commit them first)');
  const diff = await execa('git', ['-C', ROOT, 'diff', '--quiet', commit!, 'HEAD', '--', ...CODE_PATHS], { reject: false });
  if (diff.exitCode !== 0) refuse(`is of commit ${commit}, and the code changed since (git diff ${commit} HEAD -- lib cli bench scripts)`);
  // Its whole reps: from its first session line to its last "rep N/M done" (a rep cut short is dropped).
  const last = text.findLastIndex((l) => /^rep \d+\/\d+ done$/.test(l));
  const first = text.findIndex((l) => /^session \d+:/.test(l));
  const body = last < 0 || first < 0 ? [] : text.slice(first, last + 1);
  const { repsDone, sessions } = parseRuns(body);
  return { body, repsDone, sessions };
}

/** The figures of the run lines (this session's and those read back): seconds, the runs that count, deletes, peak RSS. */
function parseRuns(all: readonly string[]) {
  const times: Record<string, Record<string, number[]>> = {};
  const counted: Record<string, Record<string, number[]>> = {};
  const deletes: Record<string, number[]> = {};
  const peaks: Record<string, { tierback: number; rsync: number }> = {};
  let repsDone = 0;
  let sessions = 0;
  for (const l of all) {
    let m = /^ {2}rep \d+ (first|no-change|1% changed)\s+(.+?\])\s+([\d.]+) s {2}load .*?( {2}\* .*)?$/.exec(l);
    if (m) {
      ((times[m[2]!] ??= {})[m[1]!] ??= []).push(Number(m[3]));
      if (!m[4]) ((counted[m[2]!] ??= {})[m[1]!] ??= []).push(Number(m[3]));
      continue;
    }
    if ((m = /^ {2}rep \d+ delete\s+(.+?\])\s+([\d.]+) s$/.exec(l))) (deletes[m[1]!] ??= []).push(Number(m[2]));
    else if ((m = /^ {2}rep \d+ rss\s+(.+?\])\s+tierback ([\d.]+) MB, rsync ([\d.]+) MB$/.exec(l))) {
      const p = (peaks[m[1]!] ??= { tierback: 0, rsync: 0 });
      p.tierback = Math.max(p.tierback, Number(m[2]));
      p.rsync = Math.max(p.rsync, Number(m[3]));
    } else if ((m = /^rep (\d+)\/\d+ done$/.exec(l))) repsDone = Number(m[1]);
    else if (/^session \d+:/.test(l)) sessions++;
  }
  const m = (name: string, p: string) => (times[name]?.[p]?.length ? median(times[name]![p]!) : Number.NaN);
  const range = (name: string, p: string) => (times[name]?.[p]?.length ? `${Math.min(...times[name]![p]!).toFixed(1)}-${Math.max(...times[name]![p]!).toFixed(1)}` : '-');
  return { counted, deletes, peaks, repsDone, sessions, m, range };
}

const ratio = (x: number, y: number) => (Number.isFinite(x) && Number.isFinite(y) ? (x / y).toFixed(3) : '-');

/** The summary of every whole rep in `all`: medians, the runs that count, the ratios of the issue's targets. */
function summary(all: readonly string[], names: readonly string[], phases: readonly string[], wallMin: string): string[] {
  const { counted, deletes, peaks, repsDone, sessions, m, range } = parseRuns(all);
  const out: string[] = [];
  out.push(`summary of ${repsDone} of ${REPS} reps in ${sessions} session${sessions === 1 ? '' : 's'} (this session's wall time ${wallMin} min, load average now ${load()}); median seconds (min-max)`);
  if (repsDone < REPS) out.push(`PARTIAL: ${repsDone} of the ${REPS} reps asked for; --continue with the same settings and code adds the next ones`);
  out.push(['contender'.padEnd(36), ...phases.map((p) => p.padStart(18))].join(''));
  for (const c of names) out.push([c.padEnd(36), ...phases.map((p) => `${m(c, p).toFixed(2)} (${range(c, p)})`.padStart(18))].join(''));
  const nCounted = (name: string, p: string) => counted[name]?.[p]?.length ?? 0;
  out.push(names.every((c) => phases.every((p) => nCounted(c, p) === repsDone))
    ? 'every run started at a load average of at most 1.5: every figure above counts'
    : `runs that started at a load average of at most 1.5 (the figures that count), per phase: ${names.map((c) => `${c} ${phases.map((p) => `${nCounted(c, p)}/${repsDone}`).join(' ')}`).join('; ')}`);
  // Each peer's faster filesystem (NaN when not run).
  const best = (peer: string, p: string) => Math.min(...names.filter((c) => c.startsWith(`${peer} [`)).map((c) => m(c, p)).filter(Number.isFinite));
  const rsnapBest = (p: string) => Math.min(...['rsnapshot default', 'rsnapshot sync_first', 'rsnapshot link_dest'].map((n) => best(n, p)));
  for (const tb of names.filter((c) => c.startsWith('tierback'))) {
    out.push('', `${tb}:`);
    out.push(`  first pull: / rsync mirror (faster fs) = ${ratio(m(tb, 'first'), best('rsync mirror', 'first'))} (target <= 1.0)`);
    if (phases.includes('no-change')) out.push(`  no-change: / rsnapshot best mode = ${ratio(m(tb, 'no-change'), rsnapBest('no-change'))} (target <= 0.25); / rsnapshot 7 rotating = ${ratio(m(tb, 'no-change'), best('rsnapshot 7 rotating', 'no-change'))}`);
    if (phases.includes('1% changed')) out.push(`  1% changed: / rsnapshot best mode = ${ratio(m(tb, '1% changed'), rsnapBest('1% changed'))} (target <= 0.35); / rsnapshot 7 rotating = ${ratio(m(tb, '1% changed'), best('rsnapshot 7 rotating', '1% changed'))}`);
    if (deletes[tb]) out.push(`  deleting a snapshot: median ${median(deletes[tb]!).toFixed(2)} s (btrfs target < 1 s at 100k files)`);
    if (peaks[tb]) out.push(`  peak RSS of the tierback process (VmHWM, a separate process): ${peaks[tb]!.tierback.toFixed(1)} MB (target <= 80); its largest rsync: ${peaks[tb]!.rsync.toFixed(1)} MB`);
  }
  return out;
}

async function hwm(pid: number): Promise<{ comm: string; kb: number } | undefined> {
  try {
    const st = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmHWM:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    return { comm: /^Name:\s+(\S+)/m.exec(st)?.[1] ?? '?', kb };
  } catch {
    return undefined;
  }
}

async function descendants(pid: number): Promise<number[]> {
  const out: number[] = [];
  const walk = async (p: number) => {
    let kids: number[] = [];
    try {
      kids = (await readFile(`/proc/${p}/task/${p}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return;
    }
    for (const k of kids) {
      out.push(k);
      await walk(k);
    }
  };
  await walk(pid);
  return out;
}

interface Peak {
  /** The tierback (node) process itself, kB. */
  tierback: number;
  /** The largest rsync process it started (receiver side), kB. */
  rsync: number;
}

/** Runs `tierback pull` as its own process; polls VmHWM of it and its rsync children every 100 ms. */
async function runTierback(argv: string[], cli: string[] = CLI_ARGV): Promise<Peak> {
  const child = execa(process.execPath, [...cli, ...argv, ...(process.env.BENCH_TRACE ? ['-v'] : [])], { reject: false, env: { TIERBACK_INVENTORY: '' } });
  const peak: Peak = { tierback: 0, rsync: 0 };
  let done = false;
  const poll = (async () => {
    while (!done) {
      const me = await hwm(child.pid!);
      if (me) peak.tierback = Math.max(peak.tierback, me.kb);
      for (const k of await descendants(child.pid!)) {
        const h = await hwm(k);
        if (h && h.comm === 'rsync') peak.rsync = Math.max(peak.rsync, h.kb);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const r = await child;
  done = true;
  if (process.env.BENCH_TRACE) await writeFile(process.env.BENCH_TRACE, `${argv.join(' ')}\n${String(r.stderr)}\n`, { flag: 'a' });
  await poll;
  if (r.exitCode !== 0) throw new Error(`tierback pull exited ${r.exitCode}: ${String(r.stderr).slice(-2000)} ${String(r.stdout).slice(-2000)}`);
  const o = (JSON.parse(String(r.stdout)) as { outcomes: { status: string; error?: string; warning?: string }[] }).outcomes[0]!;
  if (o.status !== 'ok') throw new Error(`tierback pull: ${o.status} ${o.error ?? ''} ${o.warning ?? ''}`);
  return peak;
}

async function main() {
  const settingsLine = `settings: files ${FILES}, size ${SIZE}, per folder ${PER_DIR}, filesystems ${FSES.join(',')}, contenders ${ONLY.length ? ONLY.join(',') : 'all'}${FIRST_ONLY ? ', first pulls only' : ''}${BASELINE ? `, baseline ${path.resolve(BASELINE)}` : ''}`;
  const machineLine = `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.release()}; ${QUIET ? 'run alone on the machine (--quiet-machine)' : 'NOT declared quiet: other work may share the machine, figures are indicative only'}`;
  const code = await codeState();
  const prior = CONTINUE ? await readPrior(OUT, [settingsLine, machineLine], code) : { body: [] as string[], repsDone: 0, sessions: 0 };
  if (prior.repsDone >= REPS) {
    process.stderr.write(`${OUT} already holds ${prior.repsDone} of ${REPS} reps: nothing to run (raise --reps to add more)\n`);
    return;
  }
  await execa(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs')]);
  CLI_ARGV = [...shebangOptions(CLI), CLI];
  if (BASELINE) {
    const dir = path.resolve(BASELINE);
    // Its own bundle script, to its own default place: one folder (now) or one file (before issue 15).
    await execa(process.execPath, [path.join(dir, 'scripts/bundle.mjs')]);
    const cli = ['dist/tierback/tierback.mjs', 'dist/tierback.mjs'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (!cli) throw new Error(`--baseline ${dir}: its scripts/bundle.mjs made neither dist/tierback/tierback.mjs nor dist/tierback.mjs`);
    BASELINE_ARGV = [...shebangOptions(cli), cli];
  }
  const work = await mkdtemp(path.join(BASE, 'tierback-bench-'));
  const src = path.join(work, 'src');
  const key = await generateKey(path.join(work, 'keys'), 'bench');
  // The source's SSH sessions run a fresh machine's clean shell (HOME: an empty folder): sshd runs each
  // command with `bash -c`, which reads ~/.bashrc for an SSH session, and this machine's root runs
  // `pyenv init` there (0.2 s of CPU per session; a backup user's shell does not). Every contender
  // gets the same sshd.
  const sessionHome = path.join(work, 'session-home');
  await mkdir(sessionHome, { mode: 0o700 });
  const sshd = await startSshd({ authorizedKeys: [key.public], sessionHome });
  const kh = path.join(work, 'known_hosts');
  await writeFile(kh, `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
  const ssh = `ssh -p ${sshd.port} -i ${key.private} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${kh}`;
  const appsrc = path.join(work, 'appsrc');
  const apps = Array.from({ length: VMS }, (_, k) => `vm${k}`);
  const appsYaml = `vms:\n${apps.map((v) => `  - { name: ${v}, server: src.bench, mount: ${src}/local/${v} }\n`).join('')}apps:\n${apps.map((v) => `  - { name: app-${v}, server: src.bench, vm: ${v}, path: ${appsrc}/${v}, relpath: ${v}.example/data, type: files }\n`).join('')}`;
  const inventory = async (d: string, extra = '') => {
    const inv = path.join(d, 'inv.yaml');
    await writeFile(inv, `version: 1\nservers:\n  - { fqdn: src.bench, partition: ${src}, ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, identity: ${key.private}, host_key: "${sshd.hostKey}" } }\n  - { fqdn: bk.bench, partition: ${d}, role: backup }\n${appsYaml}backup_servers:\n  - { server: bk.bench, pulls: [src.bench]${extra} }\n`);
    return inv;
  };
  // The apps' jobs write the local tier every contender pulls (not timed).
  const runJobs = async () => {
    const inv = await inventory(work);
    const r = await execa(process.execPath, [...CLI_ARGV, 'job', ...apps.map((v) => `app-${v}`), '-i', inv], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    if (r.exitCode !== 0) throw new Error(`tierback job exited ${r.exitCode}: ${String(r.stderr).slice(-2000)}`);
  };
  let btrfsMount: string | undefined;
  const cleanupAll = async () => {
    if (btrfsMount) await execa('umount', [btrfsMount], { reject: false });
    await sshd.cleanup();
    await execa('rm', ['-rf', '--one-file-system', work]);
  };
  // Interrupted: unmount and remove before leaving (a loop mount left behind holds gigabytes).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`${sig}: cleaning up ${work}\n`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  const t0 = Date.now();
  try {
    process.stderr.write(`building ${FILES} files of ${SIZE} bytes, ${PER_DIR} per folder...\n`);
    await buildTree(appsrc, FILES);
    await mkdir(path.join(src, 'local'), { recursive: true });
    for (const v of apps) await mkdir(path.join(src, 'local', v), { recursive: true, mode: 0o700 });
    await runJobs();
    process.stderr.write(`built (sources and the apps' jobs) in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

    /** A sparse btrfs loop file for `copies` copies of the tree, made and mounted by the bench (removed with its folder). */
    const mountBtrfs = async (copies: number) => {
      // Every btrfs contender of a rep holds its own copy of the tree (a snapshot shares blocks only with
      // its own older ones), and btrfs keeps two copies of its metadata (about 4 KB per small file), so
      // 1.5x that per contender, plus 2 GB.
      const perCopy = FILES * (SIZE + 8192) * 1.5;
      const img = path.join(work, 'btrfs.img');
      await execa('truncate', ['-s', `${Math.ceil((copies * perCopy) / 2 ** 20) + 2048}M`, img]);
      await execa('mkfs.btrfs', ['-q', img]);
      btrfsMount = path.join(work, 'btrfs');
      await mkdir(btrfsMount);
      await execa('mount', ['-o', 'loop', img, btrfsMount]);
      return btrfsMount;
    };

    if (RSS_ONLY) {
      // Each engine: a first pull and a repeat pull (the btrfs engine's repeat pull goes by the lists).
      const engines = [
        { name: 'hardlink engine, ext4', root: work, extra: '' },
        ...(FSES.includes('btrfs') ? [{ name: 'btrfs engine with change lists, btrfs', root: await mountBtrfs(1), extra: ', snapshots: btrfs' }] : []),
      ];
      const out = [`RSS at ${FILES} files of ${SIZE} bytes (${PER_DIR} per folder), ssh transport, default streams, the bundle as installed (${CLI_ARGV.slice(0, -1).join(' ')}); ${new Date().toISOString().slice(0, 16)}Z, load ${load()}:`];
      for (const e of engines) {
        const d = path.join(e.root, `rss-${e.extra ? 'btrfs' : 'hardlink'}`);
        await mkdir(d);
        for (const what of ['first pull', 'repeat pull']) {
          await dropCaches();
          const t = Date.now();
          const p = await runTierback(['pull', '-i', await inventory(d, e.extra), '--backup-server', 'bk.bench', '--json', '--retries', '0']);
          const line = `  ${e.name}: ${what.padEnd(11)} ${((Date.now() - t) / 1000).toFixed(1).padStart(6)} s: tierback process peak RSS ${(p.tierback / 1024).toFixed(1)} MB (target <= 80); largest rsync ${(p.rsync / 1024).toFixed(1)} MB`;
          out.push(line);
          console.log(line);
        }
      }
      await writeFile(OUT_RSS, `${out.join('\n')}\n`, { flag: 'a' });
      process.stderr.write(`appended to ${OUT_RSS}\n`);
      return;
    }

    /** The peak RSS of each tierback contender in this rep (its `rss` line at the rep's end), and the run going on. */
    let repPeaks: Record<string, Peak> = {};
    let currentRun = '';

    type Contender = { name: string; run: (dest: string) => Promise<void>; afterFirst?: (dest: string) => Promise<void> };
    const rsnap = (linkDest: boolean, syncFirst: boolean): Contender['run'] => async (dest) => {
      const conf = path.join(dest, 'rsnapshot.conf');
      await writeFile(conf, [
        'config_version\t1.2', `snapshot_root\t${dest}/snap/`, 'cmd_rsync\t/usr/bin/rsync', 'cmd_ssh\t/usr/bin/ssh', 'cmd_cp\t/bin/cp', 'cmd_rm\t/bin/rm',
        'retain\tdaily\t7', `ssh_args\t-p ${sshd.port} -i ${key.private} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${kh}`,
        `lockfile\t${dest}/rsnapshot.pid`, `link_dest\t${linkDest ? 1 : 0}`, `sync_first\t${syncFirst ? 1 : 0}`, `backup\troot@127.0.0.1:${src}/local/\tsrv/`, '',
      ].join('\n'));
      if (syncFirst) await execa('rsnapshot', ['-c', conf, 'sync']);
      await execa('rsnapshot', ['-c', conf, 'daily']);
    };
    const tierback = (name: string, extra: string, argv: string[] = [], cli = CLI_ARGV): Contender => ({
      name,
      run: async (d) => {
        const p = await runTierback(['pull', '-i', await inventory(d, extra), '--backup-server', 'bk.bench', '--json', '--retries', '0', ...argv], cli);
        const q = (repPeaks[currentRun] ??= { tierback: 0, rsync: 0 });
        q.tierback = Math.max(q.tierback, p.tierback);
        q.rsync = Math.max(q.rsync, p.rsync);
      },
    });
    // Change lists are used by the btrfs engine only (a hardlinked snapshot needs a link per file, so
    // its pull walks the tree anyway): "tierback hardlink" is the same with or without them.
    const all: (Contender & { btrfsOnly?: boolean })[] = [
      { name: 'rsync mirror', run: (d) => execa('rsync', ['-a', '--numeric-ids', '--delete', '-e', ssh, `127.0.0.1:${src}/local/`, `${d}/mirror/`]).then(() => undefined) },
      tierback('tierback hardlink', ''),
      // The same pull by an older tierback (--baseline DIR): "the hardlink engine must not get slower".
      ...(BASELINE ? [tierback('tierback hardlink baseline', '', [], BASELINE_ARGV)] : []),
      // Other stream counts for the hardlink engine (not in the table): --only 'tierback hardlink 2 streams' adds it.
      ...ONLY.flatMap((o) => {
        const m = /^tierback hardlink (\d+) streams?$/.exec(o);
        return m ? [tierback(o, '', ['--streams', m[1]!])] : [];
      }),
      { ...tierback('tierback btrfs lists', ', snapshots: btrfs'), btrfsOnly: true },
      { ...tierback('tierback btrfs no lists', ', snapshots: btrfs', ['--no-change-lists']), btrfsOnly: true },
      { name: 'rsnapshot default', run: rsnap(false, false) },
      // rsnapshot's link_dest mode is not in the issue's table (it measured like the default): --only 'rsnapshot link_dest' adds it.
      ...(ONLY.includes('rsnapshot link_dest') ? [{ name: 'rsnapshot link_dest', run: rsnap(true, false) }] : []),
      { name: 'rsnapshot sync_first', run: rsnap(false, true) },
      {
        name: 'rsnapshot 7 rotating',
        run: rsnap(false, false),
        // Real life: 7 dailies exist, so each run removes daily.6 and cp -al's daily.0 (untimed setup).
        afterFirst: async (d) => {
          for (let k = 1; k <= 6; k++) await execa('cp', ['-al', `${d}/snap/daily.0`, `${d}/snap/daily.${k}`]);
        },
      },
    ];
    /** --only names a contender on every filesystem ('rsnapshot default') or on one ('rsnapshot default [ext4]'). */
    const picked = (name: string, f: string) => !ONLY.length || ONLY.includes(name) || ONLY.includes(`${name} [${f}]`);
    const roots: Record<string, string> = {};
    for (const f of FSES) {
      if (f === 'ext4') roots[f] = work;
      else if (f === 'btrfs') roots[f] = await mountBtrfs(all.filter((c) => picked(c.name, 'btrfs')).length);
      else throw new Error(`--fs: ext4 or btrfs, not ${f}`);
    }
    const runs = FSES.flatMap((f) => all.filter((c) => (!c.btrfsOnly || f === 'btrfs') && picked(c.name, f)).map((c) => ({ ...c, name: `${c.name} [${f}]`, fs: f })));
    const phases = FIRST_ONLY ? ['first'] : ['first', 'no-change', '1% changed'];
    // The results file is the record: every run's line is written as the rep ends, and --continue reads
    // them back. It holds only what the same machine, settings and code measured (checked below).
    say(`# code: ${code.commit} (${code.subject})${code.dirty ? ' WITH UNCOMMITTED CHANGES to the code (--continue refuses to add to it)' : ''}`);
    say(settingsLine);
    say(machineLine);
    say(`tree: ${FILES} files x ${SIZE} bytes = ${((FILES * SIZE) / 1e9).toFixed(2)} GB in ${VMS} apps (one per VM folder) written by their tierback jobs; ${REPS} reps, cold cache (drop_caches before every run), contenders alternated, fresh folder per rep; filesystems: ${FSES.join(', ')}`);
    say("source: sshd on loopback, each session's shell with an empty HOME (no ~/.bashrc: a fresh machine's or a backup user's clean shell)");
    say('per run: seconds, load average (1 5 15 min) before -> after');
    for (const l of prior.body) say(l);
    const session = prior.sessions + 1;
    say(`session ${session}: ${new Date().toISOString().slice(0, 16)}Z, load average ${load()}${prior.repsDone ? `, continuing after rep ${prior.repsDone} (--continue)` : ''}`);
    const lastRep = Math.min(REPS, prior.repsDone + REPS_NOW);
    for (let rep = prior.repsDone; rep < lastRep; rep++) {
      const order = rep % 2 ? [...runs].reverse() : runs;
      const dests = new Map<string, string>();
      repPeaks = {};
      for (const c of order) {
        const d = path.join(roots[c.fs]!, `r${rep}-${c.name.replace(/\W+/g, '_')}`);
        dests.set(c.name, d);
        await mkdir(d, { recursive: true });
      }
      for (const [pi, phase] of phases.entries()) {
        if (pi === 2) {
          await changeOnePercent(appsrc, FILES, rep);
          await runJobs(); // carried by the apps' jobs, as in production (not timed)
        }
        for (const c of order) {
          await dropCaches();
          const quiet = QUIET ? await settle() : os.loadavg()[0]! <= 1.5;
          const before = load();
          currentRun = c.name;
          const t = process.hrtime.bigint();
          await c.run(dests.get(c.name)!);
          const sec = Number(process.hrtime.bigint() - t) / 1e9;
          say(`  rep ${rep + 1} ${phase.padEnd(10)} ${c.name.padEnd(34)} ${sec.toFixed(2).padStart(7)} s  load ${before} -> ${load()}${quiet ? '' : '  * (started above 1.5: does not count)'}`);
          if (pi === 0 && c.afterFirst) await c.afterFirst(dests.get(c.name)!);
        }
      }
      // Deleting the oldest snapshot of each tierback contender: btrfs subvolume delete vs rm -rf of a hardlinked one.
      for (const c of order.filter((x) => x.name.startsWith('tierback'))) {
        const snaps = path.join(dests.get(c.name)!, 'snapshots', 'src.bench');
        const oldest = (await readdir(snaps)).filter((n) => /^\d{4}-/.test(n) && !n.endsWith('.partial')).sort()[0];
        if (!oldest) continue;
        await dropCaches();
        const t = process.hrtime.bigint();
        await deleteSnapshots([path.join(snaps, oldest)], createExec(silentLogger()));
        say(`  rep ${rep + 1} ${'delete'.padEnd(10)} ${c.name.padEnd(34)} ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(2).padStart(7)} s`);
      }
      for (const [name, p] of Object.entries(repPeaks)) say(`  rep ${rep + 1} ${'rss'.padEnd(10)} ${name.padEnd(34)} tierback ${(p.tierback / 1024).toFixed(1)} MB, rsync ${(p.rsync / 1024).toFixed(1)} MB`);
      for (const d of dests.values()) await deleteSnapshots((await readdir(path.join(d, 'snapshots', 'src.bench')).catch(() => [] as string[])).filter((n) => /^\d{4}-/.test(n)).map((n) => path.join(d, 'snapshots', 'src.bench', n)), createExec(silentLogger())).catch(() => undefined);
      await Promise.all([...dests.values()].map((d) => execa('rm', ['-rf', '--one-file-system', d], { reject: false })));
      say(`rep ${rep + 1}/${REPS} done`);
      // Written after every rep: an interrupted bench keeps its whole reps, and --continue goes on from them.
      await writeFile(OUT, `${[...lines, ...summary(lines, runs.map((c) => c.name), phases, ((Date.now() - t0) / 60000).toFixed(1))].join('\n')}\n`);
      process.stderr.write(`rep ${rep + 1}/${REPS} done: written to ${OUT}\n`);
    }
    for (const l of summary(lines, runs.map((c) => c.name), phases, ((Date.now() - t0) / 60000).toFixed(1))) console.log(l);
    if (BASELINE) {
      // "The hardlink engine must not get slower": this tierback against the older one, same filesystem, same runs.
      const rev = (await execa('git', ['-C', path.resolve(BASELINE), 'log', '-1', '--format=%h %s'], { reject: false })).stdout.slice(0, 80);
      const { m } = parseRuns(lines);
      const out = [`\ntierback hardlink / tierback hardlink baseline (${rev}), per filesystem:`];
      for (const f of FSES) {
        const a = `tierback hardlink [${f}]`;
        const b = `tierback hardlink baseline [${f}]`;
        if (runs.some((c) => c.name === a) && runs.some((c) => c.name === b)) out.push(`  [${f}] ${phases.map((p) => `${p} ${ratio(m(a, p), m(b, p))}`).join(', ')} (1.0 = as fast)`);
      }
      for (const l of out) console.log(l);
      await writeFile(OUT, `\n${out.join('\n')}\n`, { flag: 'a' });
    }
    process.stderr.write(`results written to ${OUT}\n`);
  } finally {
    await cleanupAll();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
