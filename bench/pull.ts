/**
 * Bench: the same tree through plain rsync over SSH, `tierback pull` (--streams 1, 4 and 8) and
 * rsnapshot (default cp -al, link_dest 1, sync_first 1, and default with all 7 dailies rotating), cold cache, alternating contenders, each run into a fresh folder. Prints
 * median seconds and ratios for first, no-change and 1%-changed pulls, and the peak RSS of the
 * `tierback pull` process itself (a separate process, VmHWM from /proc) and of its rsync.
 * Real sshd on loopback (unrestricted key so every contender sees the same server).
 *
 *   npx tsc -p . && node build/bench/pull.js [--files 100000] [--size 18000] [--reps 3] [--dir /var/tmp]
 *        [--only "rsync mirror,tierback streams=4"]
 *   node build/bench/pull.js --rss --files 1000000 --size 0 --per-dir 50   # RSS only: one first pull
 * Full size: 100k files, ~1.8 GB, ~21k dirs (5 files per folder).
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateKey, startSshd } from '../test/helpers/sshd.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number | string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : String(def);
};
const FILES = Number(opt('files', 10000));
const SIZE = Number(opt('size', 18000));
const REPS = Number(opt('reps', 3));
const BASE = opt('dir', '/var/tmp');
const PER_DIR = Number(opt('per-dir', 5));
const ONLY = opt('only', '').split(',').map((s) => s.trim()).filter(Boolean);
const RSS_ONLY = args.includes('--rss');
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli/tierback.js');

async function dropCaches() {
  await execa('sync');
  await writeFile('/proc/sys/vm/drop_caches', '3').catch(() => undefined);
}

const dirOf = (root: string, i: number) =>
  path.join(root, 'local', `vm${Math.floor(i / PER_DIR) % 7}`, `d${Math.floor(i / PER_DIR / 50)}`, `e${Math.floor(i / PER_DIR)}`);

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
async function runTierback(argv: string[]): Promise<Peak> {
  const child = execa(process.execPath, [CLI, ...argv], { reject: false, env: { TIERBACK_INVENTORY: '' } });
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
  await poll;
  if (r.exitCode !== 0) throw new Error(`tierback pull exited ${r.exitCode}: ${String(r.stderr).slice(-2000)} ${String(r.stdout).slice(-2000)}`);
  const o = (JSON.parse(String(r.stdout)) as { outcomes: { status: string; error?: string }[] }).outcomes[0]!;
  if (o.status !== 'ok') throw new Error(`tierback pull: ${o.status} ${o.error ?? ''}`);
  return peak;
}

async function main() {
  const work = await mkdtemp(path.join(BASE, 'tierback-bench-'));
  const src = path.join(work, 'src');
  const key = await generateKey(path.join(work, 'keys'), 'bench');
  const sshd = await startSshd({ authorizedKeys: [key.public] });
  const kh = path.join(work, 'known_hosts');
  await writeFile(kh, `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
  const ssh = `ssh -p ${sshd.port} -i ${key.private} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${kh}`;
  const inventory = async (d: string) => {
    const inv = path.join(d, 'inv.yaml');
    await writeFile(inv, `version: 1\nservers:\n  - { fqdn: src.bench, partition: ${src}, ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, identity: ${key.private}, host_key: "${sshd.hostKey}" } }\n  - { fqdn: bk.bench, partition: ${d}, role: backup }\nbackup_servers:\n  - { server: bk.bench, pulls: [src.bench] }\n`);
    return inv;
  };
  const load0 = os.loadavg();
  const t0 = Date.now();
  try {
    process.stderr.write(`building ${FILES} files of ${SIZE} bytes, ${PER_DIR} per folder...\n`);
    await buildTree(src, FILES);
    process.stderr.write(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

    if (RSS_ONLY) {
      const d = path.join(work, 'rss');
      await mkdir(d);
      await dropCaches();
      const t = Date.now();
      const p = await runTierback(['pull', '-i', await inventory(d), '--backup-server', 'bk.bench', '--json', '--retries', '0']);
      const s = (Date.now() - t) / 1000;
      await dropCaches();
      const t2 = Date.now();
      const p2 = await runTierback(['pull', '-i', await inventory(d), '--backup-server', 'bk.bench', '--json', '--retries', '0']);
      const s2 = (Date.now() - t2) / 1000;
      console.log(`RSS at ${FILES} files of ${SIZE} bytes (${PER_DIR} per folder), ssh transport, default streams:`);
      console.log(`  first pull     ${s.toFixed(1)} s: tierback process peak RSS ${(p.tierback / 1024).toFixed(1)} MB; largest rsync ${(p.rsync / 1024).toFixed(1)} MB`);
      console.log(`  no-change pull ${s2.toFixed(1)} s: tierback process peak RSS ${(p2.tierback / 1024).toFixed(1)} MB; largest rsync ${(p2.rsync / 1024).toFixed(1)} MB`);
      return;
    }

    const times: Record<string, Record<string, number[]>> = {};
    const rec = (c: string, phase: string, s: number) => ((times[c] ??= {})[phase] ??= []).push(s);
    const peaks: Record<string, Peak[]> = {};

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
    const tierback = (streams: number): Contender => ({
      name: `tierback streams=${streams}`,
      run: async (d) => {
        const p = await runTierback(['pull', '-i', await inventory(d), '--backup-server', 'bk.bench', '--json', '--retries', '0', '--streams', String(streams)]);
        (peaks[`tierback streams=${streams}`] ??= []).push(p);
      },
    });
    const all: Contender[] = [
      { name: 'rsync mirror', run: (d) => execa('rsync', ['-a', '--numeric-ids', '--delete', '-e', ssh, `127.0.0.1:${src}/local/`, `${d}/mirror/`]).then(() => undefined) },
      tierback(1),
      tierback(4),
      tierback(8),
      { name: 'rsnapshot default', run: rsnap(false, false) },
      { name: 'rsnapshot link_dest', run: rsnap(true, false) },
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
    const contenders = ONLY.length ? all.filter((c) => ONLY.includes(c.name)) : all;
    const phases = ['first', 'no-change', '1% changed'];
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 ? [...contenders].reverse() : contenders;
      const dests = new Map<string, string>();
      for (const c of order) {
        const d = path.join(work, `r${rep}-${c.name.replace(/\W+/g, '_')}`);
        dests.set(c.name, d);
        await mkdir(d, { recursive: true });
      }
      for (const [pi, phase] of phases.entries()) {
        if (pi === 2) await changeOnePercent(src, FILES, rep);
        for (const c of order) {
          await dropCaches();
          const t = process.hrtime.bigint();
          await c.run(dests.get(c.name)!);
          const s = Number(process.hrtime.bigint() - t) / 1e9;
          rec(c.name, phase, s);
          process.stderr.write(`rep ${rep + 1} ${phase.padEnd(10)} ${c.name.padEnd(22)} ${s.toFixed(2)} s (load ${os.loadavg()[0]!.toFixed(2)})\n`);
          if (pi === 0 && c.afterFirst) await c.afterFirst(dests.get(c.name)!);
        }
      }
      await Promise.all([...dests.values()].map((d) => execa('rm', ['-rf', '--one-file-system', d])));
      process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
    }
    const m = (name: string, p: string) => median(times[name]![p]!);
    const range = (name: string, p: string) => `${Math.min(...times[name]![p]!).toFixed(1)}-${Math.max(...times[name]![p]!).toFixed(1)}`;
    console.log(`machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.release()}; load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other engineers' test suites share the machine)`);
    console.log(`tree: ${FILES} files x ${SIZE} bytes = ${((FILES * SIZE) / 1e9).toFixed(2)} GB, ${Math.ceil(FILES / PER_DIR)} leaf dirs (+${Math.ceil(FILES / PER_DIR / 50) * 7 + 7} above), 7 top-level folders; ${REPS} reps, cold cache (drop_caches before every run), contenders alternated, fresh folder per rep`);
    console.log(`wall time ${((Date.now() - t0) / 60000).toFixed(1)} min; median seconds (min-max)`);
    console.log(['contender'.padEnd(24), ...phases.map((p) => p.padStart(18))].join(''));
    for (const c of contenders) console.log([c.name.padEnd(24), ...phases.map((p) => `${m(c.name, p).toFixed(2)} (${range(c.name, p)})`.padStart(18))].join(''));
    const has = (n: string) => contenders.some((c) => c.name === n);
    for (const tb of contenders.filter((c) => c.name.startsWith('tierback')).map((c) => c.name)) {
      console.log(`\n${tb}:`);
      if (has('rsync mirror')) console.log(`  first pull: / rsync mirror = ${(m(tb, 'first') / m('rsync mirror', 'first')).toFixed(3)} (target <= 1.05)`);
      for (const p of ['no-change', '1% changed']) {
        const modes = ['rsnapshot default', 'rsnapshot link_dest', 'rsnapshot sync_first'].filter(has);
        const best = modes.length ? Math.min(...modes.map((n) => m(n, p))) : NaN;
        const rot = has('rsnapshot 7 rotating') ? m('rsnapshot 7 rotating', p) : NaN;
        console.log(`  ${p}: / rsnapshot 7 rotating = ${(m(tb, p) / rot).toFixed(3)} (target <= 0.6); / rsnapshot best mode = ${(m(tb, p) / best).toFixed(3)} (target <= 1.0); / rsync mirror = ${has('rsync mirror') ? (m(tb, p) / m('rsync mirror', p)).toFixed(3) : '-'}`);
      }
      const pk = peaks[tb] ?? [];
      console.log(`  peak RSS of the tierback process (VmHWM, separate process): ${(Math.max(...pk.map((x) => x.tierback)) / 1024).toFixed(1)} MB; its largest rsync: ${(Math.max(...pk.map((x) => x.rsync)) / 1024).toFixed(1)} MB`);
    }
  } finally {
    await sshd.cleanup();
    await execa('rm', ['-rf', '--one-file-system', work]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
