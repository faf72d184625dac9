/**
 * Bench (issue 14's Acceptance): the site as one system.
 * 1. Generates the 200-server / 600-VM / 4,000-app site on 4 backup servers (`pulls: auto`, a second
 *    copy of every tenth server, mixed app types) with a year of daily job and pull history in the real
 *    formats (bench/fleet-site.ts), into a fresh folder that stands for / (--root), and prints the wall
 *    time and peak RSS (VmHWM of the child process, polled) of `inventory check`, `inventory show`,
 *    `status` on one backup server, `status --site` (the merged view of the backup servers: "not
 *    available" when this build has none), `status` and `report --html` over every tree under the root
 *    (all 4,000 apps, local and remote tiers) and `monitor export`. Targets: 3 s and 200 MB each; the
 *    report at most 2 MB of HTML.
 * 2. Pulls 50 small servers, each behind its own sshd on loopback, from one backup server at the
 *    defaults (`tierback pull --backup-server X`, no flags) and at --concurrency C --streams S over a
 *    grid (and --transfers T when `tierback pull --help` lists it); then the same for one server of
 *    100,000 files (streams and transfers only: concurrency means nothing for one server). Median of the
 *    reps per setting, fresh destination per run, settings alternated; how far the defaults are from
 *    the best (target: within 1.2x).
 * Load average before and after every run; everything printed goes to the results file.
 *
 *   npx tsc -p . && node build/bench/fleet.js [--quiet-machine] [--runs 3] [--reps 3] [--only site,small,big]
 *        [--small-concurrency 2,4,8,16] [--small-streams 1,2,4] [--small-transfers 4,8,16] [--big-streams 2,4,8,16] [--big-transfers 4,8,16]
 *        [--servers 200] [--apps 4000] [--days 365] [--sources 50] [--big-files 100000] [--dir /var/tmp] [--out FILE] [--keep]
 *        [--site-cmd 'status --site --json']   # the merged view's command line, if it differs
 * Disk at full size: about 7 GB and 1.6 million inodes for the site, 2 GB for the big server plus 2 GB per run (removed after each).
 *   node build/bench/fleet.js --small   # 10 servers, 50 apps, 30 days; 3 sources; 5k files: checks the harness (figures do not count)
 * Run it alone on the machine (--quiet-machine records that you did): about 40 minutes at full size with the default grids.
 * Before each timed site command it waits (up to 3 minutes) for the 1-minute load average to fall
 * below 1.5, so that the generation's own load is not in the figures; the pulls are not waited for
 * (their load is the bench's own pulls: each setting's run raises it for the next).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FULL_FLEET, generateFleetSite, type FleetSize } from './fleet-site.js';
import { benchPulls, median, settingsFor, startSources, stopSources, timedRun, writeSourceTree, type PullBenchOptions } from './fleet-pulls.js';

const args = process.argv.slice(2);
const SMALL = args.includes('--small');
const opt = (name: string, def: number | string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : String(def);
};
const num = (name: string, full: number, small: number) => Number(opt(name, SMALL ? small : full));
const SIZE: FleetSize = {
  ...FULL_FLEET,
  servers: num('servers', FULL_FLEET.servers, 10),
  apps: num('apps', FULL_FLEET.apps, 50),
  days: num('days', FULL_FLEET.days, 30),
};
const RUNS = num('runs', 3, 1);
const REPS = num('reps', 3, 1);
const SOURCES = num('sources', 50, 3);
const BIG_FILES = num('big-files', 100_000, 5_000);
const ONLY = opt('only', 'site,small,big').split(',').map((s) => s.trim());
const QUIET = args.includes('--quiet-machine');
const list = (name: string, def: number[]) => opt(name, def.join(',')).split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
/** The grids of settings tried (besides the defaults). */
const GRID = {
  smallConcurrency: list('small-concurrency', [2, 4, 8, 16]),
  smallStreams: list('small-streams', [1, 2, 4]),
  smallTransfers: list('small-transfers', [4, 8, 16]),
  bigStreams: list('big-streams', [2, 4, 8, 16]),
  bigTransfers: list('big-transfers', [4, 8, 16]),
};
/** The merged view's command (issue 14, item 2), without -i/--root/--host, which the bench adds. */
const SITE_CMD = opt('site-cmd', 'status --site --json').split(/\s+/).filter(Boolean);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(HERE, '../cli/tierback.js');
const OUT = opt('out', SMALL ? path.join(os.tmpdir(), 'fleet-results-small.txt') : path.resolve(HERE, '../../bench/fleet-results.txt'));
const TIME_TARGET_S = 3;
const RSS_TARGET_MB = 200;
const HTML_TARGET_MB = 2;

const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
  if (!SMALL || args.includes('--out')) void flush(false);
};
let writing: Promise<void> = Promise.resolve();
/** Keeps the results file up to date as the bench goes (after every line), marked unfinished until the end. */
function flush(done: boolean): Promise<void> {
  const text = `${lines.join('\n')}\n${done ? '' : '(unfinished: the bench is still running or was stopped)\n'}`;
  writing = writing.then(() => writeFile(OUT, text)).catch(() => {});
  return writing;
}
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/** One CLI run as its own process: wall time, peak RSS (VmHWM polled every 20 ms), exit code, first error line. */
async function runCli(argv: string[]): Promise<{ s: number; kb: number; code: number; err: string }> {
  const { s, kb, r } = await timedRun([CLI, ...argv], { env: { TIERBACK_INVENTORY: '', TIERBACK_HOST: '', TIERBACK_LOG_FORMAT: 'json' }, stdout: 'ignore', pollMs: 20 });
  return { s, kb, code: r.exitCode ?? -1, err: String(r.stderr).split('\n').find((l) => /error|unknown/i.test(l)) ?? String(r.stderr).split('\n')[0] ?? '' };
}

/**
 * Times one command RUNS times. Exit 0 or 1 (1: problems found, e.g. a failed app) are normal for
 * these commands; anything else is printed as an error, or as "not available" when `optional`.
 */
async function measure(label: string, argv: string[], opts: { optional?: boolean; after?: () => Promise<string> } = {}): Promise<void> {
  const ss: number[] = [];
  let kb = 0;
  let code = 0;
  await settle();
  const before = load();
  for (let i = 0; i < RUNS; i++) {
    const r = await runCli(argv);
    if (r.code > 1) {
      say(`  ${label.padEnd(44)} ${opts.optional ? 'not available' : 'ERROR'} (exit ${r.code}: ${r.err.slice(0, 200)})  load ${before} -> ${load()}`);
      return;
    }
    ss.push(r.s);
    kb = Math.max(kb, r.kb);
    code = r.code;
  }
  const m = median(ss);
  const mb = kb / 1024;
  const extra = opts.after ? await opts.after() : '';
  say(
    `  ${label.padEnd(44)} ${m.toFixed(2).padStart(6)} s (${m <= TIME_TARGET_S ? 'met' : 'NOT met'})  peak RSS ${mb.toFixed(0).padStart(4)} MB (${mb <= RSS_TARGET_MB ? 'met' : 'NOT met'})` +
      `${extra}  exit ${code}  [${ss.map((x) => x.toFixed(2)).join(' ')}]  load ${before} -> ${load()}`,
  );
}

/** Waits (at most 3 minutes) for the 1-minute load average to fall below 1.5. */
async function settle(): Promise<void> {
  const until = Date.now() + 180_000;
  while (os.loadavg()[0]! >= 1.5 && Date.now() < until) await new Promise((r) => setTimeout(r, 2000));
}

async function benchSite(work: string): Promise<void> {
  const t0 = performance.now();
  const now = new Date();
  process.stderr.write(`generating ${SIZE.servers} servers, ${SIZE.servers * SIZE.vmsPerServer} VMs, ${SIZE.apps} apps, ${SIZE.backupServers} backup servers, ${SIZE.days} days of history...\n`);
  const fleet = await generateFleetSite(path.join(work, 'site'), SIZE, now, (m) => process.stderr.write(`${m}\n`));
  const pulled = fleet.site.backupServers.map((b) => `${b.server.split('.')[0]} ${b.pulls.length}`).join(', ');
  say(`\n## site: ${SIZE.servers} servers, ${SIZE.servers * SIZE.vmsPerServer} VMs, ${fleet.site.apps.length} apps, ${SIZE.days} days: ${fleet.files} history files generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  say(`placement (pulls: auto): servers per backup server: ${pulled}`);
  say(`median of ${RUNS} runs (seconds, target <= ${TIME_TARGET_S}), peak RSS over the runs (target <= ${RSS_TARGET_MB} MB), exit code (1: problems found), every run's seconds`);
  const inv = ['-i', fleet.inventory];
  const at = [...inv, '--root', fleet.root];
  const one = fleet.site.backupServers[0]!;
  const apps = (b: typeof one) => fleet.site.apps.filter((a) => b.pulls.some((p) => p.server === a.server)).length;
  const html = path.join(work, 'report.html');
  await measure('inventory check', ['inventory', 'check', ...inv]);
  await measure('inventory show', ['inventory', 'show', ...inv]);
  await measure(`status (one backup server: ${apps(one)} apps)`, ['status', '--json', ...at, '--host', one.server]);
  await measure(`${SITE_CMD.slice(0, 2).join(' ')} (merged, from ${one.server.split('.')[0]})`, [...SITE_CMD, ...at, '--host', one.server], { optional: true });
  // The whole site merged, every backup server's feed read in this process (what one host that reaches
  // all of them over SSH gathers, without the SSH): 4,000 apps.
  await measure(`${SITE_CMD.slice(0, 2).join(' ')} (merged, all ${fleet.site.backupServers.length} read here)`, [...SITE_CMD, ...at], { optional: true });
  await measure(`status (every tree under the root)`, ['status', '--json', ...at]);
  await measure('report --html (every tree under the root)', ['report', '--html', html, ...at], {
    after: async () => {
      const mb = (await stat(html)).size / 1e6;
      return `  html ${mb.toFixed(2)} MB (${mb <= HTML_TARGET_MB ? 'met' : 'NOT met'})`;
    },
  });
  await measure(`report --html (one backup server: ${apps(one)} apps, 30 days)`, ['report', '--html', html, ...at, '--host', one.server], {
    after: async () => {
      const mb = (await stat(html)).size / 1e6;
      return `  html ${mb.toFixed(2)} MB (${mb <= HTML_TARGET_MB ? 'met' : 'NOT met'})`;
    },
  });
  await measure('report --html --site (merged)', ['report', '--html', html, '--site', ...at, '--host', one.server], { optional: true });
  await measure(`report --html --site (merged, all ${fleet.site.backupServers.length} read here)`, ['report', '--html', html, '--site', ...at], {
    optional: true,
    after: async () => {
      const mb = (await stat(html)).size / 1e6;
      return `  html ${mb.toFixed(2)} MB (${mb <= HTML_TARGET_MB ? 'met' : 'NOT met'})`;
    },
  });
  await measure(`monitor export --site (merged, all ${fleet.site.backupServers.length} read here)`, ['monitor', 'export', '--site', ...at], { optional: true });
  await measure('monitor export (every tree under the root)', ['monitor', 'export', ...at]);
  await measure(`monitor export (one backup server)`, ['monitor', 'export', ...at, '--host', one.server]);
}

async function main() {
  const work = await mkdtemp(path.join(opt('dir', '/var/tmp'), 'tierback-bench-fleet-'));
  const load0 = load();
  const t0 = Date.now();
  say(`# node build/bench/fleet.js ${args.join(' ')}`.trimEnd());
  say(`# ${new Date().toISOString()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, node ${process.version}; ${QUIET ? 'run alone on the machine (--quiet-machine)' : 'NOT declared quiet: other work may share the machine, figures are indicative only'}${SMALL ? '; --small: checks the harness, figures do not count' : ''}`);
  const o: PullBenchOptions = { cli: CLI, work, reps: REPS, dropCaches: !SMALL, say };
  try {
    if (ONLY.includes('site')) await benchSite(work);
    if (ONLY.includes('small')) {
      process.stderr.write(`starting ${SOURCES} sshd with small trees...\n`);
      const { sources, identity } = await startSources(work, SOURCES, (i) => `src-${i + 1}.fleet.example`, (p) => writeSourceTree(p, 3, 300, 2000, 20));
      try {
        const settings = await settingsFor(CLI, GRID.smallConcurrency, GRID.smallStreams, GRID.smallTransfers);
        await benchPulls(o, `${SOURCES} small servers (3 VMs, 300 files of 2 KB each), one sshd per server`, sources, identity, settings);
      } finally {
        await stopSources(sources);
      }
    }
    if (ONLY.includes('big')) {
      process.stderr.write(`writing one server of ${BIG_FILES} files...\n`);
      const { sources, identity } = await startSources(work, 1, () => 'big.fleet.example', (p) => writeSourceTree(p, 7, BIG_FILES, 18000, 5));
      try {
        const settings = (await settingsFor(CLI, [1], GRID.bigStreams, GRID.bigTransfers)).map((s) => ({ ...s, name: s.name.replace('--concurrency 1 ', '') }));
        await benchPulls(o, `one server of ${BIG_FILES} files of 18 KB (7 VMs, 5 files per folder)`, sources, identity, settings);
      } finally {
        await stopSources(sources);
      }
    }
    say(`\nwall time ${((Date.now() - t0) / 60000).toFixed(1)} min; load average at start ${load0}, at end ${load()}`);
    await flush(true);
    process.stderr.write(`results written to ${OUT}\n`);
  } finally {
    if (args.includes('--keep')) process.stderr.write(`kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
