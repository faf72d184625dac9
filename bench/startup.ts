/**
 * Benchmark: start-up of the CLI. Wall time and peak RSS of `--version`, `status` and `inventory
 * check` on the demo site and on a generated site of 4,000 apps, from build/ and from the bundle
 * (scripts/bundle.mjs: dist/tierback/tierback.mjs and its chunks), next to bare `node -e 0`. Targets (issue 15): `--version` under
 * 0.15 s and `status` on the demo site under 0.3 s from the bundle. Prints the load average before
 * and after: on a loaded machine the figures are not the tool's.
 *   npx tsc -p . && node build/bench/startup.js [--runs 7] [--apps 4000] [--keep]
 *   node build/bench/startup.js --quick     # 1 run each, 400 apps: checks the bench itself runs
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = opt('runs', QUICK ? 1 : 7);
const APPS = opt('apps', QUICK ? 400 : 4000);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = path.join(ROOT, 'build/cli/tierback.js');

/** The node options of the CLI's shebang (`#!/usr/bin/env -S node OPTIONS`): installed, it runs with them. */
function shebangOptions(file: string): string[] {
  const first = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env -S node((?: --?[\w-]+(?:=\S+)?)*)\s*$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

/** A site of `apps` apps on 40 servers of 10 VMs each, 4 backup servers: the inventory alone. */
function bigSiteYaml(apps: number): string {
  const servers = Array.from({ length: 40 }, (_, s) => `app${s}.bench.example`);
  const lines = ['version: 1', 'site: bench', 'servers:'];
  for (const s of servers) lines.push(`  - { fqdn: ${s}, role: app, partition: /p/app }`);
  for (let b = 0; b < 4; b++) lines.push(`  - { fqdn: backup${b}.bench.example, role: backup, partition: /p/backup }`);
  lines.push('vms:');
  for (const s of servers) for (let v = 0; v < 10; v++) lines.push(`  - { name: ${s.split('.')[0]}vm${v}, server: ${s} }`);
  lines.push('apps:');
  for (let i = 0; i < apps; i++) {
    const s = servers[i % servers.length]!;
    const vm = `${s.split('.')[0]}vm${Math.floor(i / servers.length) % 10}`;
    lines.push(`  - { name: app${String(i).padStart(4, '0')}, server: ${s}, vm: ${vm}, path: /srv/app${i}, relpath: app${i}.bench.example, type: files }`);
  }
  lines.push('backup_servers:');
  for (let b = 0; b < 4; b++) lines.push(`  - { server: backup${b}.bench.example, pulls: [${servers.filter((_, i) => i % 4 === b).join(', ')}] }`);
  return `${lines.join('\n')}\n`;
}

/** Wall time (ms) and peak RSS (MB, GNU time's %M) of one run. */
async function measure(argv: string[], env: Record<string, string>): Promise<{ ms: number; mb: number; code: number }> {
  const t0 = performance.now();
  const r = await execa('/usr/bin/time', ['-f', 'RSS %M', process.execPath, ...argv], { reject: false, env, stdout: 'ignore' });
  const ms = performance.now() - t0;
  const rss = /RSS (\d+)\s*$/.exec(String(r.stderr));
  return { ms, mb: rss ? Number(rss[1]) / 1024 : NaN, code: r.exitCode ?? -1 };
}

async function main() {
  console.log(`# node build/bench/startup.js${QUICK ? ' --quick' : ''} (${RUNS} runs each, ${APPS}-app site), ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, node ${process.version}`);
  console.log(`load average before: ${load()}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-bench-startup-'));
  const bundle = path.join(dir, 'tierback', 'tierback.mjs');
  await execa(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), path.join(dir, 'tierback')], { cwd: ROOT });
  const demoDir = path.join(dir, 'demo');
  await execa(process.execPath, [BUILD, 'demo', '--dir', demoDir], { reject: false, env: { TIERBACK_INVENTORY: '' } });
  const demoInv = path.join(demoDir, 'inventory.yaml');
  const bigInv = path.join(dir, 'big.yaml');
  await writeFile(bigInv, bigSiteYaml(APPS));

  const cases: [string, string[]][] = [
    ['--version', ['--version']],
    ['status (demo)', ['status', '-i', demoInv]],
    ['inventory check (demo)', ['inventory', 'check', '-i', demoInv]],
    [`status (${APPS} apps)`, ['status', '-i', bigInv, '--host', 'app0.bench.example', '--root', dir]],
    [`inventory check (${APPS} apps)`, ['inventory', 'check', '-i', bigInv]],
  ];
  const env = { TIERBACK_INVENTORY: '', TIERBACK_LOG_FORMAT: 'json' };
  const bare = [];
  for (let i = 0; i < RUNS; i++) bare.push(await measure(['-e', '0'], env));
  console.log(`${'node -e 0 (bare node)'.padEnd(46)} median ${median(bare.map((m) => m.ms)).toFixed(0).padStart(5)} ms  peak rss ${median(bare.map((m) => m.mb)).toFixed(0)} MB`);
  for (const [label, file] of [['build/', BUILD], ['bundle', bundle]] as const) {
    for (const [name, argv] of cases) {
      const ms: number[] = [];
      const mb: number[] = [];
      let code = 0;
      for (let i = 0; i < RUNS; i++) {
        const m = await measure([...shebangOptions(file), file, ...argv], env);
        ms.push(m.ms);
        mb.push(m.mb);
        code = m.code;
      }
      console.log(`${`${label} ${name}`.padEnd(46)} median ${median(ms).toFixed(0).padStart(5)} ms  peak rss ${median(mb).toFixed(0)} MB  (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)}; exit ${code})`);
    }
  }
  console.log(`load average after: ${load()}`);
  if (args.includes('--keep')) console.log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}

await main();
