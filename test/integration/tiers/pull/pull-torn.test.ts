/**
 * A job that replaces its app's folder while a pull copies it (docs/remote.md, "Apps replaced
 * during a pull"): the new snapshot holds one version of the app, never a mixture. Real rsync over
 * real sshd with rrsync -ro, a real files job. Deterministic: when the pull has started copying
 * the app, the test stops its rsync processes (SIGSTOP), runs the job to the end, and lets rsync
 * go on (SIGCONT).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { CHANGE_LIST_FILE, MANIFEST_FILE, localAppDir, remoteServerDir, serverHistoryDir, snapshotDir, snapshotsDir } from '../../../../lib/model/convention.js';
import { readHistory } from '../../../../lib/model/history.js';
import { parseInventory } from '../../../../lib/site/load.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { siteStatus } from '../../../../lib/features/status/index.js';
import { resolveBackupServer, runPulls, type PullOptions, type PullOutcome } from '../../../../lib/tiers/pull/pull.js';
import { authorizedKeysLine } from '../../../../lib/tiers/pull/ssh.js';
import { treeDiff } from '../../../helpers/jobsite.js';
import { processesWith } from '../../../helpers/procs.js';
import { generateKey, sshEntry, startSshd, type KeyPair, type Sshd } from '../../../helpers/sshd.js';
import { tempDir } from '../../../helpers/tree.js';

const A = 'app.torn.test';
const BACKUP = 'backup.torn.test';
const REL = 'big.example.org';
const FOLDERS = 20;
const PER_FOLDER = 150; // 3,000 files

let root: string;
let cleanupRoot: () => Promise<void>;
let key: KeyPair;
let sshd: Sshd;
let part: string;
let backup: string;
let data: string;
let clock = Date.parse('2026-06-01T02:00:00Z');

function site(bwlimit?: string): Site {
  const inv = {
    version: 1,
    defaults: { timezone: 'UTC' },
    servers: [
      { fqdn: A, partition: part, ssh: sshEntry(sshd, key.private, { rrsync: true }) },
      { fqdn: BACKUP, partition: backup, role: 'backup' },
    ],
    vms: [{ name: 'web', server: A, mount: path.join(part, 'local/web') }],
    apps: [{ name: 'big', server: A, vm: 'web', type: 'files', path: data, relpath: REL }],
    backup_servers: [{ server: BACKUP, pulls: [{ server: A, ...(bwlimit ? { bwlimit } : {}) }] }],
  };
  return parseInventory(yaml.dump(inv), path.join(root, 'inventory.yaml'));
}

const appDir = () => localAppDir(part, 'web', REL);
const snapApp = (stamp: string) => path.join(snapshotDir(backup, A, stamp), 'web', REL);

async function job(s: Site): Promise<string> {
  const o = await runJob(s, s.apps[0]!, { log: silentLogger() });
  assert.equal(o.status, 'ok', o.error?.message);
  return o.record!.run;
}

function pull(s: Site, opts: Partial<PullOptions> = {}): Promise<PullOutcome> {
  const at = new Date((clock += 3_600_000));
  // streams: 8 (the default before the transfer budget): pullRsyncs finds the folder pass of web/.
  return runPulls(s, resolveBackupServer(s, BACKUP), { log: silentLogger(), now: () => at, retries: 0, streams: 8, ...opts }).then((o) => o[0]!);
}

/** Pids of the local rsync processes writing this server's new snapshot. */
async function pullRsyncs(): Promise<number[]> {
  const want = `${snapshotsDir(backup, A)}/`;
  return (await processesWith(want)).filter((p) => p.argv[0] === 'rsync' && p.argv.some((a) => a.startsWith(want) && a.endsWith('/web/'))).map((p) => p.pid);
}

/**
 * Runs a pull; once it has copied part of the app (the first folders of files/), stops its rsync,
 * runs `during` (the job), and lets rsync go on.
 */
async function pullWithJobDuring(s: Site, opts: Partial<PullOptions>, during: () => Promise<void>): Promise<PullOutcome> {
  const running = pull(s, opts);
  const until = Date.now() + 20_000;
  let pids: number[] = [];
  for (;;) {
    const state = await readdir(snapshotsDir(backup, A)).catch(() => [] as string[]);
    const partial = state.find((n) => n.endsWith('.partial'));
    if (partial && existsSync(path.join(snapshotsDir(backup, A), partial, 'web', REL, 'files/d003'))) {
      pids = await pullRsyncs();
      if (pids.length) break;
    }
    if (Date.now() > until) throw new Error('the pull never started copying the app');
    await new Promise((r) => setTimeout(r, 5));
  }
  for (const p of pids) process.kill(p, 'SIGSTOP');
  try {
    await during();
  } finally {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGCONT');
      } catch {
        // gone
      }
    }
  }
  return running;
}

/** The source's changes of one night: 2 folders deleted, files added and changed. */
async function changeSource(round: number): Promise<void> {
  const gone = (await readdir(data)).filter((n) => n.startsWith('d')).sort().slice(-2);
  for (const d of gone) await rm(path.join(data, d), { recursive: true });
  await mkdir(path.join(data, `new${round}`), { recursive: true });
  for (let i = 0; i < 300; i++) await writeFile(path.join(data, `new${round}`, `n${i}.txt`), `added in round ${round}: ${i}\n`);
  for (let d = 0; d < 4; d++) {
    for (let i = 0; i < PER_FOLDER; i++) await writeFile(path.join(data, `d${String(d).padStart(3, '0')}`, `f${i}.txt`), `changed in round ${round}: ${d}/${i}\n`.repeat(3));
  }
}

/** `sha256sum -c` of a copy's own manifest (every checksum it lists), and its file count. */
async function manifestCheck(dir: string): Promise<void> {
  const text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  const sums = text.split('\n').filter((l) => l && !l.startsWith('#')).join('\n');
  const r = await execa('sha256sum', ['--quiet', '-c', '-'], { cwd: dir, input: `${sums}\n`, reject: false });
  assert.equal(r.exitCode, 0, `sha256sum -c of ${dir}'s manifest: ${r.stdout} ${r.stderr}`);
  const files = Number(/^# files=(\d+)/m.exec(text)![1]);
  const found = await execa('find', [dir, '-type', 'f', '!', '-name', MANIFEST_FILE, '!', '-name', CHANGE_LIST_FILE]);
  assert.equal(found.stdout.trim().split('\n').length, files, 'as many files as the manifest says');
}

const runOf = async (dir: string) => /^# run (\S+)$/m.exec(await readFile(path.join(dir, MANIFEST_FILE), 'utf8'))?.[1];

before(async () => {
  ({ dir: root, cleanup: cleanupRoot } = await tempDir('tierback-pull-torn-'));
  part = path.join(root, 'src');
  backup = path.join(root, 'backup');
  data = path.join(root, 'data');
  for (let d = 0; d < FOLDERS; d++) {
    const dir = path.join(data, `d${String(d).padStart(3, '0')}`);
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < PER_FOLDER; i++) await writeFile(path.join(dir, `f${i}.txt`), `original ${d}/${i}\n`.repeat(6));
  }
  await mkdir(path.join(part, 'local/web'), { recursive: true });
  key = await generateKey(path.join(root, 'keys'), 'backup_key');
  sshd = await startSshd({ authorizedKeys: [authorizedKeysLine({ publicKey: key.public, sourcePartition: part })] });
});

after(async () => {
  await sshd?.cleanup();
  await cleanupRoot?.();
});

describe('a job replacing its app while a pull copies it', () => {
  let first: string;
  let second: string;
  let run2: string;

  it('the app is copied again: the new snapshot holds exactly the job\'s new version, whose manifest checks', async () => {
    const run1 = await job(site());
    const o1 = await pull(site());
    assert.equal(o1.status, 'ok', o1.error);
    first = o1.snapshot!;
    assert.equal(await runOf(snapApp(first)), run1);

    const o2 = await pullWithJobDuring(site('500'), {}, async () => {
      await changeSource(2);
      run2 = await job(site());
    });
    assert.ok(o2.status === 'ok' || o2.status === 'warning', o2.error);
    second = o2.snapshot!;
    assert.equal(path.basename(await readlink(remoteServerDir(backup, A))), second);
    assert.equal(await treeDiff(appDir(), snapApp(second)), '', 'the copy equals the source: no deleted folder left, every added and changed file new');
    await manifestCheck(snapApp(second));
    assert.equal(await runOf(snapApp(second)), run2, 'the copy is the version the job just wrote');
    assert.deepEqual(o2.keptApps ?? [], []);
    assert.deepEqual(o2.recopiedApps, ['big']);
    const { runs } = await readHistory(serverHistoryDir(backup), { name: `pull-${A}` });
    assert.equal(runs.at(-1)!.extra?.['recopied_apps'], 'big');
    assert.equal(await runOf(snapApp(first)), run1, 'the older snapshot is untouched');
  });

  it('an app still changing after every copy keeps its previous copy, with a warning naming it', async () => {
    const o3 = await pullWithJobDuring(site('500'), { recopies: 0 }, async () => {
      await changeSource(3);
      await job(site());
    });
    assert.equal(o3.status, 'warning', o3.error);
    const third = o3.snapshot!;
    assert.equal(path.basename(await readlink(remoteServerDir(backup, A))), third, 'the rest of the snapshot is current');
    assert.match(o3.warning!, /app big \(web\/big\.example\.org\) was replaced by its job while it was copied \(1 copy\): the previous snapshot's copy was kept/);
    assert.deepEqual(o3.keptApps, ['big']);
    assert.equal(await runOf(snapApp(third)), run2, 'the previous snapshot\'s version of the app');
    assert.equal(await treeDiff(snapApp(second), snapApp(third)), '');
    const f = 'files/d010/f7.txt';
    assert.equal((await stat(path.join(snapApp(third), f))).ino, (await stat(path.join(snapApp(second), f))).ino, 'hardlinked, not copied');
    await manifestCheck(snapApp(third));
    const { runs } = await readHistory(serverHistoryDir(backup), { name: `pull-${A}` });
    const last = runs.at(-1)!;
    assert.equal(last.status, 'warning');
    assert.equal(last.extra?.['kept_apps'], 'big');
    assert.match(last.warning!, /app big/);
    const { rows } = await siteStatus(site(), { root: '', host: BACKUP, env: {}, tier: 'remote', now: new Date(clock + 600_000) });
    const big = rows.find((r) => r.app === 'big' && r.tier === 'remote')!;
    assert.equal(big.state, 'STALE', 'status does not show the kept copy as fresh');
    assert.match(big.reason, /kept the previous snapshot's copy/);
  });
});
