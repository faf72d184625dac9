/**
 * Peak memory of a dump job as the dump grows: runs the `command` job type (stdout -> gzip -> file,
 * the path every database dump takes) on a 20 MB and a 200 MB dump, each in a fresh process and a
 * fresh folder, alternating, and prints the median peak RSS (VmHWM) of each and their ratio.
 * Flat memory means a ratio near 1. Two contents: random bytes, and synthetic mysqldump text stored
 * as `db/big-<stamp>.mysql.sql.gz`, whose rows the manifest counts per table (lib/tiers/engines/dumprows.ts) after
 * the dump is written. Usage: npx tsc -p . && node build/bench/job-dump.js [runs] [random|mysql|both]
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';

/** Writes `mb` MB of mysqldump-like text (extended INSERTs, one tuple per line, quotes and escapes) to stdout. */
async function generate(mb: number): Promise<void> {
  const total = mb * 1_000_000;
  let written = 0;
  let id = 0;
  let table = 0;
  const write = async (s: string) => {
    written += Buffer.byteLength(s);
    if (!process.stdout.write(s)) await once(process.stdout, 'drain');
  };
  await write('-- MariaDB dump 10.19\n');
  while (written < total) {
    await write(`CREATE TABLE \`t${table}\` (\`id\` int, \`v\` text);\nINSERT INTO \`t${table}\` VALUES\n`);
    let stmt = 0;
    while (stmt < 1_000_000 && written < total) {
      const row = `(${id++},'row \\'${id}\\' (x); ${'y'.repeat(id % 200)}')`;
      stmt += row.length;
      await write(stmt < 1_000_000 && written + row.length + 2 < total ? `${row},\n` : `${row};\n`);
    }
    table++;
  }
  await write('-- Dump completed on 2026-01-01  0:00:00\n');
}

async function child(mb: number, dir: string, content: string): Promise<void> {
  const { parseInventory } = await import('../lib/site/load.js');
  const { runJob } = await import('../lib/tiers/jobs/run.js');
  const { silentLogger } = await import('../lib/base/log.js');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(dir, 'backup'));
  const inv = {
    version: 1,
    defaults: { mount: path.join(dir, 'backup'), partition: path.join(dir, 'p') },
    servers: [{ fqdn: 'bench.example.com' }],
    vms: [{ name: 'web', server: 'bench.example.com' }],
    apps: [{ name: 'big', server: 'bench.example.com', vm: 'web', path: dir, relpath: 'big.example.com', type: 'command', options: content === 'mysql' ? { argv: [process.execPath, fileURLToPath(import.meta.url), '--gen', String(mb)], ext: 'mysql.sql' } : { argv: ['head', '-c', String(mb * 1_000_000), '/dev/urandom'] } }],
  };
  const site = parseInventory(yaml.dump(inv), path.join(dir, 'inv.yaml'));
  const o = await runJob(site, site.apps[0]!, { log: silentLogger() });
  if (o.status !== 'ok') throw new Error(o.error?.message);
  if (content === 'mysql') {
    const { readManifest } = await import('../lib/tiers/jobs/manifest.js');
    const m = await readManifest(o.target);
    const rows = [...(m?.dumps.values() ?? [])][0]?.rows;
    if (!rows) throw new Error('bench: the manifest holds no row count for the mysql dump');
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
  process.stdout.write(`${hwm}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--gen') return generate(Number(process.argv[3]));
  if (process.argv[2] === '--child') return child(Number(process.argv[3]), process.argv[4]!, process.argv[5]!);
  const runs = Number(process.argv[2] ?? 3);
  const which = process.argv[3] ?? 'both';
  const contents = which === 'both' ? ['random', 'mysql'] : [which];
  const sizes = [20, 200];
  for (const content of contents) {
    const peaks = new Map<number, number[]>(sizes.map((s) => [s, []]));
    for (let i = 0; i < runs; i++) {
      for (const mb of i % 2 ? [...sizes].reverse() : sizes) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'tierback-bench-'));
        try {
          const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(mb), dir, content], { encoding: 'utf8' });
          peaks.get(mb)!.push(Number(out.trim()) / 1024);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    const [small, large] = sizes.map((s) => median(peaks.get(s)!));
    for (const s of sizes) console.log(`${content} dump ${String(s).padStart(4)} MB: peak RSS median ${median(peaks.get(s)!).toFixed(1)} MB (runs: ${peaks.get(s)!.map((x) => x.toFixed(1)).join(', ')})`);
    console.log(`${content}: ratio peak RSS 10x dump / 1x dump: ${(large! / small!).toFixed(2)} (flat ~ 1.0)`);
  }
}

await main();
