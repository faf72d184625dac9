/**
 * Restore round trips on the demo site with real tools: jobs (rails/SQLite, git, files) and pulls on
 * two days, then `tierback list` and `tierback restore` from the local tier and from the snapshot of a
 * chosen day, compared with the source as it was that day; the safety refusals; restore drills that
 * pass, then catch a corrupted dump, a truncated git pack and a truncated git bundle.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, readdir, rm, stat, symlink, truncate, writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { serverHistoryDir, vmHistoryDir } from '../../../../lib/model/convention.js';
import { readHistory } from '../../../../lib/model/history.js';
import { findApp } from '../../../../lib/model/inventory/model.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { readManifest } from '../../../../lib/tiers/jobs/manifest.js';
import { listPoints } from '../../../../lib/tiers/restore/points.js';
import { restoreFiles } from '../../../../lib/tiers/restore/restore.js';
import { tierback } from '../../../helpers/cli.js';
import { backUp, buildDemoSite, commit, GIT_ENV, keepCopy, type DemoSite } from '../../../helpers/demosite.js';
import { sh, treeDiff } from '../../../helpers/jobsite.js';
import { tempDir } from '../../../helpers/tree.js';

const log = silentLogger();
const DAY1_JOB = new Date('2026-02-01T01:00:00Z');
const DAY1_PULL = new Date('2026-02-01T03:00:00Z');
const DAY2_JOB = new Date('2026-02-02T01:00:00Z');
const DAY2_PULL = new Date('2026-02-02T03:00:00Z');

let tmp: string;
let cleanup: () => Promise<void>;
let d: DemoSite;
let inv: string;
let was1: string;
let commit1: string;
let commit2: string;
let out: string;
let n = 0;
const fresh = () => path.join(out, `r${++n}`);
const cli = (args: string[], input?: string) => tierback([...args, '-i', inv], input === undefined ? {} : { input });
const count = async (db: string, table: string) => Number((await sh(['sqlite3', db, `select count(*) from ${table}`])).trim());

before(async () => {
  ({ dir: tmp, cleanup } = await tempDir('tierback-restore-'));
  d = await buildDemoSite(path.join(tmp, 'demo'));
  inv = d.site.file;
  out = path.join(tmp, 'out');
  await mkdir(out);
  was1 = path.join(tmp, 'was1');
  commit1 = (await sh(['git', '--git-dir', d.gitRepo, 'rev-parse', 'main'])).trim();
  await keepCopy(d.docs, path.join(was1, 'docs'));
  await keepCopy(d.shop.data, path.join(was1, 'shopdata'));
  await backUp(d.site, DAY1_JOB, DAY1_PULL);
  // Day 2: every source changes.
  await writeFile(path.join(d.docs, 'report.txt'), 'report v2, edited on day 2\n');
  await rm(path.join(d.docs, 'notes.md'));
  await writeFile(path.join(d.docs, 'new.txt'), 'new on day 2\n');
  await writeFile(path.join(d.shop.data, 'file_assets', '3.txt'), 'asset of day 2\n');
  await sh(['sqlite3', d.shopDb, "insert into orders(item) values ('paper'), ('glue');"]);
  commit2 = await commit(d.gitWork, 'README', 'two\n', 'second');
  await backUp(d.site, DAY2_JOB, DAY2_PULL);
});
after(() => cleanup());

describe('tierback list', () => {
  it('shows the local folder and both snapshots, with dumps, sizes and the status of the job that wrote them', async () => {
    const points = await listPoints(d.site, findApp(d.site, 'shop'));
    assert.deepEqual(points.map((p) => p.tier), ['remote', 'remote', 'local']);
    const [s1, s2, local] = points;
    assert.equal(s1!.snapshot, '2026-02-01T030000Z');
    assert.equal(s1!.at.toISOString(), DAY1_JOB.toISOString());
    assert.equal(s2!.current, true);
    assert.equal(local!.at.toISOString(), DAY2_JOB.toISOString());
    assert.ok(points.every((p) => p.status === 'ok' && (p.files ?? 0) > 5 && (p.bytes ?? 0) > 0));
    assert.equal(s1!.dumps.length, 1);
    assert.equal(local!.dumps.length, 2, 'the local folder keeps day 1 and day 2 dumps');
    const r = await cli(['list', 'shop', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as unknown[]).length, 3);
    const t = await cli(['list', 'shop']);
    assert.match(t.stdout, /local\s+local \(current\)\s+2026-02-02T01:00:00.000Z\s+files/);
    assert.match(t.stdout, /dump production/);
  });

  it('--root looks below another folder (a mounted disk, a copy of a partition)', async () => {
    const rootView = path.join(tmp, 'rootview');
    const partition = findApp(d.site, 'shop').partition;
    await mkdir(path.join(rootView, path.dirname(partition)), { recursive: true });
    await symlink(partition, path.join(rootView, partition));
    const r = await cli(['list', 'shop', '--json', '--root', rootView]);
    assert.equal(r.code, 0, r.stderr);
    const points = JSON.parse(r.stdout) as { disk: string; dir: string }[];
    assert.equal(points.length, 3);
    assert.ok(points.every((p) => p.disk === path.join(rootView, p.dir)));
  });
});

describe('tierback restore: files', () => {
  it('restores a files app as it was on day 1 from that day\'s snapshot, and the latest from the local tier', async () => {
    const to1 = fresh();
    const r = await cli(['restore', 'docs', '--at', '2026-02-01', '--tier', 'remote', '--to', to1]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /from snapshot sandbox\.tierback\.test\/2026-02-01T030000Z/);
    assert.match(r.stdout, /^ {2}rsync -a --numeric-ids/m, 'prints the plain command it ran');
    assert.equal(await treeDiff(path.join(was1, 'docs'), path.join(to1, 'files')), '');
    const to2 = fresh();
    const r2 = await cli(['restore', 'docs', '--to', to2]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /from the local folder/);
    assert.equal(await treeDiff(d.docs, path.join(to2, 'files')), '');
  });

  it('restores one file with --path, keeping its path below --to', async () => {
    const to = fresh();
    const r = await cli(['restore', 'docs', '--at', '2026-02-01T02:00', '--path', 'files/report.txt', '--to', to]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(to, 'files/report.txt'), 'utf8'), 'report v1\n');
    assert.deepEqual(await readdir(path.join(to, 'files')), ['report.txt']);
  });

  it('restores a Rails app from the day-1 snapshot: releases, current, shared, the data directory and the day-1 database', async () => {
    const to = fresh();
    const r = await cli(['restore', 'shop', '--at', '2026-02-01', '--to', to]);
    assert.equal(r.code, 0, r.stderr);
    // The live SQLite file changed on day 2; the database comes back from the dump (below).
    assert.equal(await treeDiff(path.join(d.shop.cap, 'releases'), path.join(to, 'releases'), ['production.sqlite3']), '');
    assert.equal(await treeDiff(path.join(was1, 'shopdata'), path.join(to, 'shared', 'var')), '');
    const dbFile = path.join(fresh(), 'shop.sqlite3');
    const r2 = await cli(['restore', 'shop', '--at', '2026-02-01', '--database', dbFile]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /gunzip -c \S+production-2026-02-01T010000Z\.sqlite\.sql\.gz \| sqlite3 -bail /);
    assert.equal(await count(dbFile, 'orders'), 2);
    assert.equal(await count(dbFile, 'customers'), 1);
    const latest = path.join(fresh(), 'shop.sqlite3');
    assert.equal((await cli(['restore', 'shop', '--database', latest])).code, 0);
    assert.equal(await count(latest, 'orders'), 4);
  });

  it('restores a git repository as it was on day 1 (snapshot) and today (local)', async () => {
    for (const [at, tier, want] of [['2026-02-01', 'remote', commit1], ['latest', 'local', commit2]] as const) {
      const to = fresh();
      const r = await cli(['restore', 'code', '--at', at, '--tier', tier, '--to', to]);
      assert.equal(r.code, 0, r.stderr);
      const clone = path.join(to, 'clone');
      await sh(['git', 'clone', '-q', path.join(to, 'repos', 'code.git'), clone], { env: GIT_ENV });
      assert.equal((await sh(['git', '-C', clone, 'rev-parse', 'HEAD'])).trim(), want);
      await sh(['git', '--git-dir', path.join(to, 'repos', 'code.git'), 'fsck', '--no-progress']);
    }
  });

  it('restores from the snapshot through the library with the same result, and --dry-run copies nothing', async () => {
    const app = findApp(d.site, 'docs');
    const to = fresh();
    const r = await restoreFiles(d.site, app, { log, at: '2026-02-01', tier: 'remote', to, dryRun: true });
    assert.equal(r.dryRun, true);
    await assert.rejects(stat(to));
    assert.match(r.commands.join('\n'), /rsync/);
  });
});

describe('tierback restore: safety', () => {
  it('refuses a target folder that already holds files (exit 6) unless --overwrite', async () => {
    const to = fresh();
    await mkdir(to);
    await writeFile(path.join(to, 'keep.txt'), 'mine\n');
    const r = await cli(['restore', 'docs', '--to', to]);
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.match(r.stderr, /exists and is not empty.*overwrites/s);
    assert.equal(await readFile(path.join(to, 'keep.txt'), 'utf8'), 'mine\n');
    const again = await cli(['restore', 'docs', '--path', 'files/report.txt', '--to', to]);
    assert.equal(again.code, 0, again.stderr);
    const twice = await cli(['restore', 'docs', '--path', 'files/report.txt', '--to', to]);
    assert.equal(twice.code, 6);
    assert.equal((await cli(['restore', 'docs', '--path', 'files/report.txt', '--to', to, '--overwrite'])).code, 0);
  });

  it('refuses the live app as --to, and --in-place without confirmation when stdin is not a terminal', async () => {
    const before = await readFile(path.join(d.docs, 'report.txt'), 'utf8');
    const r = await cli(['restore', 'docs', '--to', d.docs, '--overwrite']);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /live app/);
    const r2 = await cli(['restore', 'docs', '--in-place', '--at', '2026-02-01', '--path', 'report.txt'], '');
    assert.equal(r2.code, 6);
    assert.match(r2.stderr, /needs confirmation/);
    assert.equal(await readFile(path.join(d.docs, 'report.txt'), 'utf8'), before);
    const r3 = await cli(['restore', 'docs', '--in-place', '--yes', '--at', '2026-02-01', '--path', 'report.txt']);
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(await readFile(path.join(d.docs, 'report.txt'), 'utf8'), 'report v1\n');
    await writeFile(path.join(d.docs, 'report.txt'), before);
    const r4 = await cli(['restore', 'shop', '--in-place', '--yes', '--to', fresh()]);
    assert.equal(r4.code, 6, 'in-place is only for types whose backup mirrors one live folder');
  });

  it('rejects traversal, absolute paths and symlinks leaving the backup in --path (exit 2)', async () => {
    for (const p of ['../../etc/passwd', 'files/../../x', '/etc/passwd', 'files/escape/passwd']) {
      const to = fresh();
      const r = await cli(['restore', 'docs', '--path', p, '--to', to]);
      assert.equal(r.code, 2, `${p}: ${r.stdout}${r.stderr}`);
      await assert.rejects(stat(path.join(to, 'passwd')));
    }
    const link = fresh();
    const r = await cli(['restore', 'docs', '--path', 'files/escape', '--to', link]);
    assert.equal(r.code, 0, 'the link itself is restored as a link');
  });

  it('never loads a dump over the live database by default, nor over an existing file', async () => {
    const r = await cli(['restore', 'shop', '--database', d.shopDb]);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /live database/);
    const sneaky = path.join(path.dirname(d.shopDb), '..', 'db', path.basename(d.shopDb));
    assert.equal((await cli(['restore', 'shop', '--database', sneaky])).code, 6, 'the same file spelled differently');
    assert.equal(await count(d.shopDb, 'orders'), 4);
    const bad = await cli(['restore', 'shop', '--database', 'relative.db']);
    assert.equal(bad.code, 2);
  });

  it('loads over the live SQLite file only with --in-place --yes, keeping the old file beside it', async () => {
    const r = await cli(['restore', 'shop', '--database', d.shopDb, '--in-place', '--yes', '--at', '2026-02-01']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await count(d.shopDb, 'orders'), 2);
    const kept = (await readdir(path.dirname(d.shopDb))).filter((f) => f.startsWith('production.sqlite3.before-restore-'));
    assert.equal(kept.length, 1);
    assert.equal(await count(path.join(path.dirname(d.shopDb), kept[0]!), 'orders'), 4);
    // put the day-2 data back for the drills below
    await sh(['sqlite3', d.shopDb, "insert into orders(item) values ('paper'), ('glue');"]);
  });
});

describe('tierback verify: restore drills', () => {
  it('passes on every app of the demo site, from the local tier and from the snapshots, and records it in history', async () => {
    // Acceptance: `tierback verify --all` on the demo site passes (the newest backups are the local folders here).
    const r = await cli(['verify', '--all']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /shop: ok/);
    assert.match(r.stdout, /production-2026-02-02T010000Z\.sqlite\.sql\.gz: loaded into a scratch database: 2 tables, 5 rows \(job recorded 2 tables 5 rows\)/);
    assert.match(r.stdout, /code: ok/);
    const shop = findApp(d.site, 'shop');
    const runs = (await readHistory(vmHistoryDir(shop.mount), { name: 'verify-shop' })).runs.filter((x) => x.kind === 'verify');
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'ok');
    assert.equal(runs[0]!.tier, 'drill');
    const s = await cli(['verify', '--all', '--backup-server', 'sandbox.tierback.test']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    const server = (await readHistory(serverHistoryDir(shop.partition), { name: 'verify-docs' })).runs.filter((x) => x.kind === 'verify');
    assert.equal(server.at(-1)?.status, 'ok');
    assert.match(server.at(-1)?.extra?.['point'] ?? '', /2026-02-02T030000Z/);
  });

  it('catches a dump with flipped bytes, with a clear message, and records the failure', async () => {
    const shop = findApp(d.site, 'shop');
    const dbDir = path.join(shop.mount, shop.relpath, 'db');
    const dump = path.join(dbDir, (await readdir(dbDir)).sort().at(-1)!);
    const manifest = await readManifest(path.join(shop.mount, shop.relpath));
    assert.ok(manifest?.sums.has(`db/${path.basename(dump)}`));
    const fh = await open(dump, 'r+');
    const size = (await fh.stat()).size;
    await fh.write(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, Math.floor(size / 2));
    await fh.close();
    const r = await cli(['verify', '--all']);
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.match(r.stdout, /shop: FAILED/);
    assert.match(r.stdout, /FAIL checksum: db\/production-2026-02-02T010000Z\.sqlite\.sql\.gz: content differs from what the job wrote \(corrupted\)/);
    assert.match(r.stdout, /docs: ok/);
    const runs = (await readHistory(vmHistoryDir(shop.mount), { name: 'verify-shop' })).runs.filter((x) => x.kind === 'verify');
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.match(runs.at(-1)!.error ?? '', /corrupted/);
  });

  it('catches a truncated git pack in the mirror and a truncated git bundle', async () => {
    const code = findApp(d.site, 'code');
    const packDir = path.join(code.mount, code.relpath, 'repos', 'code.git', 'objects', 'pack');
    const packs = (await readdir(packDir)).filter((f) => f.endsWith('.pack'));
    assert.ok(packs.length > 0, 'the mirror has a pack');
    for (const p of packs) await truncate(path.join(packDir, p), 40);
    const r = await cli(['verify', 'code', '--tier', 'local']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL git checks: repos\/code\.git: git fsck failed/);

    // A bundle kept in a files app: good first, then truncated.
    const docs = findApp(d.site, 'docs');
    await sh(['git', '--git-dir', d.gitRepo, 'bundle', 'create', path.join(d.docs, 'code.bundle'), '--all']);
    const jobs = await tierback(['job', 'docs', '-i', inv]);
    assert.equal(jobs.code, 0, jobs.stderr);
    const ok = await cli(['verify', 'docs', '--tier', 'local']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /ok {3}git bundle: files\/code\.bundle verifies and clones/);
    const bundle = path.join(docs.mount, docs.relpath, 'files', 'code.bundle');
    await truncate(bundle, (await stat(bundle)).size - 20);
    await appendFile(bundle, '');
    const bad = await cli(['verify', 'docs', '--tier', 'local']);
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /FAIL git bundle: files\/code\.bundle: git (bundle verify|clone of the bundle) failed/);
  });
});
