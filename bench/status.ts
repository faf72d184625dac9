/**
 * Benchmark: 1,000 apps x 365 days of history (one file per app per day, start and end
 * lines), then times `tierback status` (in process, and the CLI end to end). Target: under 1 s.
 * Prints medians and memory. Each run writes a fresh folder (the disk re-uses freed inodes slowly).
 *   npx tsc -p . && node build/bench/status.js [--apps 1000] [--days 365] [--keep]
 */
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as C from '../lib/model/convention.js';
import { formatRecord, HISTORY_HEADER, dayOf } from '../lib/model/history.js';
import { parseInventory } from '../lib/site/load.js';
import { siteStatus } from '../lib/features/status/index.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const APPS = opt('apps', 1000);
const DAYS = opt('days', 365);
const VMS = 20;
const SERVER = 'app1.bench.example';
const PARTITION = '/p/app';
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/tierback.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main() {
  const root = await mkdtemp(path.join(os.tmpdir(), 'tierback-bench-status-'));
  const now = new Date();
  const apps = Array.from({ length: APPS }, (_, i) => ({ name: `app${String(i).padStart(4, '0')}`, vm: `vm${i % VMS}` }));
  const yaml = `version: 1
site: bench
servers:
  - { fqdn: ${SERVER}, role: app, partition: ${PARTITION} }
vms:
${Array.from({ length: VMS }, (_, i) => `  - { name: vm${i}, server: ${SERVER} }`).join('\n')}
apps:
${apps.map((a) => `  - { name: ${a.name}, server: ${SERVER}, vm: ${a.vm}, path: /srv/${a.name}, relpath: ${a.name}.bench.example, type: files }`).join('\n')}
`;
  const inv = path.join(root, 'inventory.yaml');
  await writeFile(inv, yaml);
  const site = parseInventory(yaml, inv);

  const t0 = performance.now();
  for (let v = 0; v < VMS; v++) await mkdir(path.join(root, C.jobHistoryDir(PARTITION, `vm${v}`)), { recursive: true, mode: 0o700 });
  let files = 0;
  const writes: Promise<void>[] = [];
  for (const a of apps) {
    const dir = path.join(root, C.jobHistoryDir(PARTITION, a.vm));
    for (let d = DAYS - 1; d >= 0; d--) {
      const start = new Date(now.getTime() - d * 86_400_000 - 3_600_000);
      const end = new Date(start.getTime() + 300_000);
      const run = `${start.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${a.name}`;
      const base = { run, name: a.name, kind: 'job', tier: 'local' as const, start, host: 'bench' };
      const failed = d % 97 === 13;
      const text = `${HISTORY_HEADER}\n${formatRecord({ ...base, status: 'running' })}\n${formatRecord({
        ...base,
        status: failed ? 'failed' : 'ok',
        end,
        durationS: 300,
        ...(failed ? { error: 'bench failure' } : { files: 1000 + d, mb: 500 - d / 10, bytes: Math.round((500 - d / 10) * 1e6) }),
      })}\n`;
      writes.push(writeFile(path.join(dir, C.historyFileName(a.name, dayOf(start, 'UTC'))), text, { mode: 0o600 }));
      files++;
      if (writes.length >= 256) await Promise.all(writes.splice(0));
    }
  }
  await Promise.all(writes);
  const genS = (performance.now() - t0) / 1000;
  console.log(`generated ${APPS} apps x ${DAYS} days = ${files} history files in ${genS.toFixed(1)} s under ${root}`);

  // In process: warm-up, then 5 timed runs.
  await siteStatus(site, { root, now });
  const inproc: number[] = [];
  let rows = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = await siteStatus(site, { root, now });
    inproc.push(performance.now() - t);
    rows = r.rows.length;
    if (r.rows.some((x) => x.state !== 'OK')) throw new Error('bench: expected every app OK');
  }
  const mem = process.memoryUsage();
  console.log(`siteStatus (in process): median ${median(inproc).toFixed(0)} ms over 5 runs (min ${Math.min(...inproc).toFixed(0)}, max ${Math.max(...inproc).toFixed(0)}), ${rows} rows`);
  console.log(`memory after: rss ${(mem.rss / 1e6).toFixed(0)} MB, heap used ${(mem.heapUsed / 1e6).toFixed(0)} MB, max rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

  // The CLI end to end (node start-up, inventory load, status, JSON out).
  const cli: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const r = await execa(process.execPath, [CLI, 'status', '--json', '-i', inv, '--root', root], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    cli.push(performance.now() - t);
    if (r.exitCode !== 0) throw new Error(`bench: tierback status exited ${r.exitCode}: ${String(r.stderr).slice(0, 500)}`);
  }
  const timeBin = '/usr/bin/time';
  let cliRss = '';
  try {
    const r = await execa(timeBin, ['-f', '%M', process.execPath, CLI, 'status', '-i', inv, '--root', root], { reject: false, env: { TIERBACK_INVENTORY: '' } });
    cliRss = `, max rss ${(Number(String(r.stderr).trim().split('\n').pop()) / 1024).toFixed(0)} MB`;
  } catch {
    /* no /usr/bin/time */
  }
  const m = median(cli);
  console.log(`tierback status --json (CLI, end to end): median ${m.toFixed(0)} ms over 3 runs${cliRss}`);
  console.log(`target < 1000 ms: ${m < 1000 ? 'met' : 'NOT met'} (CLI), ${median(inproc) < 1000 ? 'met' : 'NOT met'} (in process)`);
  if (!args.includes('--keep')) await rm(root, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
