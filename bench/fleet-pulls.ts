/**
 * The fleet bench's pulls (bench/fleet.ts): N small source servers, each behind its own real sshd on
 * loopback (test/helpers/sshd.ts), or one server of many files, pulled by one backup server with
 * `tierback pull` at its defaults (no flags: whatever the defaults are when it runs) and at every
 * setting of a grid. Each run pulls into a fresh backup partition (removed afterwards); settings
 * alternate (the order reversed every other rep); the median of the reps is compared with the best.
 */
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as C from '../lib/model/convention.js';
import { formatRecord, HISTORY_HEADER, dayOf } from '../lib/model/history.js';
import { generateKey, startSshd, sshEntry, type Sshd } from '../test/helpers/sshd.js';

export interface PullBenchOptions {
  cli: string;
  work: string;
  reps: number;
  dropCaches: boolean;
  say: (line: string) => void;
}

export interface Source {
  fqdn: string;
  partition: string;
  sshd: Sshd;
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** VmHWM of a live process in kB (0 once it is gone). */
export async function vmHwm(pid: number): Promise<number> {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Runs `node args` as its own process: wall seconds and peak RSS (VmHWM, KB, polled every `pollMs`). */
export async function timedRun(args: string[], opts: { env: Record<string, string>; stdout?: 'ignore'; pollMs: number }): Promise<{ s: number; kb: number; r: Awaited<ReturnType<typeof execa>> }> {
  const t = process.hrtime.bigint();
  const child = execa(process.execPath, args, { reject: false, env: opts.env, ...(opts.stdout ? { stdout: opts.stdout } : {}) });
  let kb = 0;
  let done = false;
  const poll = (async () => {
    while (!done) {
      kb = Math.max(kb, await vmHwm(child.pid!));
      await new Promise((res) => setTimeout(res, opts.pollMs));
    }
  })();
  const r = await child;
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  done = true;
  await poll;
  return { s, kb, r };
}

/**
 * Writes a source server's local tier directly (as its apps' jobs would leave it): `vms` VM folders,
 * each with one app folder of files (`perDir` per folder) and a day of job history.
 */
export async function writeSourceTree(partition: string, vms: number, files: number, size: number, perDir: number): Promise<void> {
  const blob = Buffer.alloc(size, 'tierback fleet bench ');
  const now = new Date();
  for (let v = 0; v < vms; v++) {
    const vm = `vm${v}`;
    const hist = C.jobHistoryDir(partition, vm);
    await mkdir(hist, { recursive: true, mode: 0o700 });
    const start = new Date(now.getTime() - 3_600_000);
    const base = { run: `r${v}`, name: `app${v}`, kind: 'job', tier: 'local' as const, status: 'running' as const, start };
    await writeFile(C.historyFilePath(hist, `app${v}`, dayOf(start, 'UTC')), `${HISTORY_HEADER}\n${formatRecord(base)}\n${formatRecord({ ...base, status: 'ok', end: now, durationS: 3600 })}\n`);
  }
  let next = 0;
  const worker = async () => {
    while (next < files) {
      const i = next++;
      const dir = path.join(C.localAppDir(partition, `vm${i % vms}`, `app${i % vms}.example.ch`), `d${Math.floor(i / vms / perDir / 50)}`, `e${Math.floor(i / vms / perDir)}`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, `f${i}.bin`), blob);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Starts one sshd per source server, trusting `key`. */
export async function startSources(work: string, count: number, name: (i: number) => string, tree: (partition: string) => Promise<void>): Promise<{ sources: Source[]; identity: string }> {
  const key = await generateKey(path.join(work, 'keys'), 'fleet-bench');
  const sources: Source[] = [];
  for (let i = 0; i < count; i++) {
    const fqdn = name(i);
    const partition = path.join(work, 'sources', fqdn);
    await tree(partition);
    sources.push({ fqdn, partition, sshd: await startSshd({ authorizedKeys: [key.public] }) });
  }
  return { sources, identity: key.private };
}

function inventoryYaml(sources: readonly Source[], identity: string, dest: string): string {
  const lines = ['version: 1', 'servers:'];
  for (const s of sources) lines.push(`  - { fqdn: ${s.fqdn}, partition: ${s.partition}, ssh: ${JSON.stringify(sshEntry(s.sshd, identity))} }`);
  lines.push(`  - { fqdn: bk.fleet.example, role: backup, partition: ${dest} }`, 'backup_servers:', `  - { server: bk.fleet.example, pulls: [${sources.map((s) => s.fqdn).join(', ')}] }`);
  return `${lines.join('\n')}\n`;
}

export interface Setting {
  name: string;
  argv: string[];
}

/** The settings tried: the defaults (no flags), concurrency x streams, and --transfers when `pull --help` lists it. */
export async function settingsFor(cli: string, concurrencies: readonly number[], streams: readonly number[], transfers: readonly number[]): Promise<Setting[]> {
  const help = String((await execa(process.execPath, [cli, 'pull', '--help'], { reject: false, env: { TIERBACK_INVENTORY: '' } })).stdout);
  const out: Setting[] = [{ name: 'defaults (no flags)', argv: [] }];
  for (const c of concurrencies) for (const s of streams) out.push({ name: `--concurrency ${c} --streams ${s}`, argv: ['--concurrency', String(c), '--streams', String(s)] });
  if (help.includes('--transfers')) for (const t of transfers) out.push({ name: `--transfers ${t}`, argv: ['--transfers', String(t)] });
  return out;
}

/** One `tierback pull` as its own process; its VmHWM polled every 100 ms. Throws unless every server was pulled. */
async function pullOnce(o: PullBenchOptions, inv: string, argv: string[], count: number): Promise<{ s: number; kb: number }> {
  const { s, kb, r } = await timedRun([o.cli, 'pull', '-i', inv, '--backup-server', 'bk.fleet.example', '--json', ...argv], { env: { TIERBACK_INVENTORY: '' }, pollMs: 100 });
  let outcomes: { server: string; status: string; error?: string }[] = [];
  try {
    outcomes = (JSON.parse(String(r.stdout)) as { outcomes: typeof outcomes }).outcomes;
  } catch {
    /* reported below */
  }
  const ok = outcomes.filter((x) => x.status === 'ok').length;
  if (ok !== count) throw new Error(`tierback pull ${argv.join(' ')}: exit ${r.exitCode}, ${ok}/${count} ok: ${outcomes.filter((x) => x.status !== 'ok').map((x) => `${x.server} ${x.status} ${x.error ?? ''}`).slice(0, 3).join('; ')} ${String(r.stderr).slice(-1500)}`);
  return { s, kb };
}

/** Runs every setting `reps` times against `sources`; prints each run, the medians and how far the defaults are from the best. */
export async function benchPulls(o: PullBenchOptions, title: string, sources: readonly Source[], identity: string, settings: readonly Setting[]): Promise<void> {
  const times = new Map<string, number[]>(settings.map((s) => [s.name, []]));
  const peaks = new Map<string, number>();
  o.say(`\n## ${title}: ${settings.length} settings x ${o.reps} reps, fresh backup partition per run${o.dropCaches ? ', cold cache (drop_caches before each run)' : ''}`);
  o.say('per run: seconds, load average (1 5 15 min) before -> after');
  for (let rep = 0; rep < o.reps; rep++) {
    // Each rep starts at a different setting (and odd reps go backwards): no setting is always first after the sources were written.
    const shift = Math.floor((rep * settings.length) / o.reps);
    const rotated = [...settings.slice(shift), ...settings.slice(0, shift)];
    for (const st of rep % 2 ? rotated.reverse() : rotated) {
      const dest = path.join(o.work, 'dest', `r${rep}-${st.name.replace(/\W+/g, '_')}`);
      await mkdir(dest, { recursive: true, mode: 0o700 });
      const inv = path.join(o.work, 'dest', `inv-${rep}-${st.name.replace(/\W+/g, '_')}.yaml`);
      await writeFile(inv, inventoryYaml(sources, identity, dest));
      if (o.dropCaches) {
        await execa('sync');
        await writeFile('/proc/sys/vm/drop_caches', '3').catch(() => undefined);
      }
      const before = load();
      const r = await pullOnce(o, inv, st.argv, sources.length);
      times.get(st.name)!.push(r.s);
      peaks.set(st.name, Math.max(peaks.get(st.name) ?? 0, r.kb));
      o.say(`  rep ${rep + 1} ${st.name.padEnd(34)} ${r.s.toFixed(2).padStart(7)} s  load ${before} -> ${load()}`);
      await execa('rm', ['-rf', '--one-file-system', dest, inv]);
    }
  }
  const med = settings.map((s) => ({ name: s.name, m: median(times.get(s.name)!), range: `${Math.min(...times.get(s.name)!).toFixed(1)}-${Math.max(...times.get(s.name)!).toFixed(1)}` }));
  const best = med.reduce((a, b) => (b.m < a.m ? b : a));
  o.say(`median seconds (min-max), peak RSS of the tierback process (VmHWM):`);
  for (const x of [...med].sort((a, b) => a.m - b.m)) o.say(`  ${x.name.padEnd(34)} ${x.m.toFixed(2).padStart(7)} s (${x.range})  ${(peaks.get(x.name)! / 1024).toFixed(0)} MB${x.name === best.name ? '  <- best' : ''}`);
  const def = med[0]!;
  const ratio = def.m / best.m;
  o.say(`defaults / best (${best.name}) = ${ratio.toFixed(2)}x (target <= 1.2x: ${ratio <= 1.2 ? 'met' : 'NOT met'})`);
}

export async function stopSources(sources: readonly Source[]): Promise<void> {
  for (const s of sources) await s.sshd.cleanup();
}
