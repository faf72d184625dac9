/**
 * Bench: the same tree through plain rsync over SSH, `tierback pull` and rsnapshot (default cp -al,
 * link_dest 1, sync_first 1), cold cache, alternating contenders, each run into a fresh folder.
 * Prints median seconds and ratios for first, no-change and 1%-changed pulls, and tierback's own
 * peak RSS. Real sshd on loopback (unrestricted key so every contender sees the same server).
 *
 *   npx tsc -p . && node build/bench/pull.js [--files 100000] [--size 18000] [--reps 3] [--dir /var/tmp]
 * Full size from the issue: 100k files, ~1.8 GB, ~21k dirs (about 5 files per folder).
 */
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseInventory } from '../lib/inventory/load.js';
import { silentLogger } from '../lib/log.js';
import { runPulls } from '../lib/pull/pull.js';
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
const PER_DIR = 5;

async function dropCaches() {
  await execa('sync');
  await writeFile('/proc/sys/vm/drop_caches', '3').catch(() => undefined);
}

async function buildTree(root: string, files: number) {
  const blob = randomBytes(SIZE * 2);
  for (let i = 0; i < files; i++) {
    const d = path.join(root, 'local', `vm${Math.floor(i / PER_DIR) % 7}`, `d${Math.floor(i / PER_DIR / 50)}`, `e${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) await mkdir(d, { recursive: true });
    const off = (i * 7919) % SIZE;
    await writeFile(path.join(d, `f${i}.bin`), blob.subarray(off, off + SIZE));
  }
}

async function changeOnePercent(root: string, files: number, round: number) {
  for (let i = round; i < files; i += 100) {
    const d = path.join(root, 'local', `vm${Math.floor(i / PER_DIR) % 7}`, `d${Math.floor(i / PER_DIR / 50)}`, `e${Math.floor(i / PER_DIR)}`);
    await writeFile(path.join(d, `f${i}.bin`), randomBytes(SIZE));
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await dropCaches();
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function main() {
  const work = await mkdtemp(path.join(BASE, 'tierback-bench-'));
  const src = path.join(work, 'src');
  const key = await generateKey(path.join(work, 'keys'), 'bench');
  const sshd = await startSshd({ authorizedKeys: [key.public] });
  const kh = path.join(work, 'known_hosts');
  await writeFile(kh, `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
  const ssh = `ssh -p ${sshd.port} -i ${key.private} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${kh}`;
  try {
    process.stderr.write(`building ${FILES} files of ${SIZE} bytes...\n`);
    await buildTree(src, FILES);
    const times: Record<string, Record<string, number[]>> = {};
    const rec = (c: string, phase: string, s: number) => ((times[c] ??= {})[phase] ??= []).push(s);
    let rss: number[] = [];

    type Contender = { name: string; run: (dest: string) => Promise<void> };
    const rsnap = (linkDest: boolean, syncFirst: boolean): Contender['run'] => async (dest) => {
      const conf = path.join(dest, 'rsnapshot.conf');
      await mkdir(dest, { recursive: true });
      await writeFile(conf, [
        'config_version\t1.2', `snapshot_root\t${dest}/snap/`, 'cmd_rsync\t/usr/bin/rsync', 'cmd_ssh\t/usr/bin/ssh', 'cmd_cp\t/bin/cp', 'cmd_rm\t/bin/rm',
        'retain\tdaily\t7', `ssh_args\t-p ${sshd.port} -i ${key.private} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${kh}`,
        `lockfile\t${dest}/rsnapshot.pid`, `link_dest\t${linkDest ? 1 : 0}`, `sync_first\t${syncFirst ? 1 : 0}`, `backup\troot@127.0.0.1:${src}/local/\tsrv/`, '',
      ].join('\n'));
      if (syncFirst) await execa('rsnapshot', ['-c', conf, 'sync']);
      await execa('rsnapshot', ['-c', conf, 'daily']);
    };
    let serial = 0;
    const contenders: Contender[] = [
      { name: 'rsync mirror', run: (d) => execa('rsync', ['-a', '--numeric-ids', '--delete', '-e', ssh, `127.0.0.1:${src}/local/`, `${d}/mirror/`]).then(() => undefined) },
      {
        name: 'tierback pull',
        run: async (d) => {
          const inv = `version: 1\nservers:\n  - { fqdn: src.bench, partition: ${src}, ssh: { host: 127.0.0.1, port: ${sshd.port}, user: root, identity: ${key.private}, host_key: "${sshd.hostKey}" } }\n  - { fqdn: bk.bench, partition: ${d}, role: backup }\nbackup_servers:\n  - { server: bk.bench, pulls: [src.bench] }\n`;
          const site = parseInventory(inv, path.join(d, 'inv.yaml'));
          const before = process.memoryUsage().rss;
          const [o] = await runPulls(site, site.backupServers[0]!, { log: silentLogger(), now: () => new Date(Date.now() + (serial++) * 1000) });
          if (o!.status !== 'ok') throw new Error(`tierback pull failed: ${o!.error}`);
          rss.push(Math.max(before, process.memoryUsage().rss));
        },
      },
      { name: 'rsnapshot default', run: rsnap(false, false) },
      { name: 'rsnapshot link_dest', run: rsnap(true, false) },
      { name: 'rsnapshot sync_first', run: rsnap(false, true) },
    ];
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 ? [...contenders].reverse() : contenders;
      const dests = new Map<string, string>();
      for (const c of order) {
        const d = path.join(work, `r${rep}-${c.name.replace(/\W+/g, '_')}`);
        dests.set(c.name, d);
        await mkdir(d, { recursive: true });
        rec(c.name, 'first', await timed(() => c.run(d)));
      }
      for (const c of order) rec(c.name, 'no-change', await timed(() => c.run(dests.get(c.name)!)));
      await changeOnePercent(src, FILES, rep);
      for (const c of order) rec(c.name, '1% changed', await timed(() => c.run(dests.get(c.name)!)));
      for (const d of dests.values()) await rm(d, { recursive: true, force: true });
      process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
    }
    const phases = ['first', 'no-change', '1% changed'];
    const base = (p: string, name: string) => median(times[name]![p]!);
    console.log(`tree: ${FILES} files x ${SIZE} bytes = ${((FILES * SIZE) / 1e9).toFixed(2)} GB, ${Math.ceil(FILES / PER_DIR)} leaf dirs; ${REPS} reps, cold cache, median seconds`);
    console.log(['contender'.padEnd(22), ...phases.map((p) => p.padStart(12))].join(''));
    for (const c of contenders) console.log([c.name.padEnd(22), ...phases.map((p) => base(p, c.name).toFixed(2).padStart(12))].join(''));
    const tb = (p: string) => base(p, 'tierback pull');
    console.log(`first pull: tierback / rsync mirror = ${(tb('first') / base('first', 'rsync mirror')).toFixed(3)} (target <= 1.05)`);
    for (const p of ['no-change', '1% changed']) {
      const best = Math.min(...['rsnapshot default', 'rsnapshot link_dest', 'rsnapshot sync_first'].map((n) => base(p, n)));
      console.log(`${p}: tierback / rsnapshot best mode = ${(tb(p) / best).toFixed(3)} (target <= 1.0); tierback / rsync mirror = ${(tb(p) / base(p, 'rsync mirror')).toFixed(3)}`);
    }
    console.log(`tierback peak RSS (in-process, rsync excluded): ${(Math.max(...rss) / 1e6).toFixed(1)} MB at ${FILES} files`);
  } finally {
    await sshd.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
