/**
 * Peak memory of a dump job as the dump grows: runs the `command` job type (stdout -> gzip -> file,
 * the path every database dump takes) on a 20 MB and a 200 MB dump, each in a fresh process and a
 * fresh folder, alternating, and prints the median peak RSS (VmHWM) of each and their ratio.
 * Flat memory means a ratio near 1. Usage: npx tsc -p . && node build/bench/job-dump.js [runs]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

async function child(mb: number, dir: string): Promise<void> {
  const { parseInventory } = await import('../lib/inventory/load.js');
  const { runJob } = await import('../lib/jobs/run.js');
  const { silentLogger } = await import('../lib/log.js');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(dir, 'backup'));
  const inv = {
    version: 1,
    defaults: { mount: path.join(dir, 'backup'), partition: path.join(dir, 'p') },
    servers: [{ fqdn: 'bench.example.com' }],
    vms: [{ name: 'web', server: 'bench.example.com' }],
    apps: [{ name: 'big', server: 'bench.example.com', vm: 'web', path: dir, relpath: 'big.example.com', type: 'command', options: { argv: ['head', '-c', String(mb * 1_000_000), '/dev/urandom'] } }],
  };
  const site = parseInventory(yaml.dump(inv), path.join(dir, 'inv.yaml'));
  const o = await runJob(site, site.apps[0]!, { log: silentLogger() });
  if (o.status !== 'ok') throw new Error(o.error?.message);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  process.stdout.write(`${hwm}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(Number(process.argv[3]), process.argv[4]!);
  const runs = Number(process.argv[2] ?? 3);
  const sizes = [20, 200];
  const peaks = new Map<number, number[]>(sizes.map((s) => [s, []]));
  for (let i = 0; i < runs; i++) {
    for (const mb of i % 2 ? [...sizes].reverse() : sizes) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tierback-bench-'));
      try {
        const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(mb), dir], { encoding: 'utf8' });
        peaks.get(mb)!.push(Number(out.trim()) / 1024);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const [small, large] = sizes.map((s) => median(peaks.get(s)!));
  for (const s of sizes) console.log(`dump ${String(s).padStart(4)} MB: peak RSS median ${median(peaks.get(s)!).toFixed(1)} MB (runs: ${peaks.get(s)!.map((x) => x.toFixed(1)).join(', ')})`);
  console.log(`ratio peak RSS 10x dump / 1x dump: ${(large! / small!).toFixed(2)} (flat ~ 1.0)`);
}

await main();
