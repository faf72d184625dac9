/**
 * The rails job on a realistic Capistrano 3 folder: the whole folder is kept (revisions.log, repo/,
 * a deploy log) but what docs/jobs/rails.md names as excluded; a WAL-mode SQLite database is dumped
 * without leaving -wal/-shm in the live folder, the backup holds none, and a restore keeps WAL mode.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { restoreDatabase, restoreFiles } from '../../../../lib/tiers/restore/restore.js';
import { execa } from 'execa';
import { ROOT } from '../../../helpers/cli.js';
import { useTempDir } from '../../../helpers/tree.js';
import { appOf, jobSite, sh, treeDiff } from '../../../helpers/jobsite.js';
import { makeRailsTree, type RailsTree } from '../../../helpers/rails.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();
const at = (min: number) => () => new Date(Date.UTC(2026, 0, 12, 1, min, 0));

/** Every entry under `dir` with its size and mtime (ns), one line each, sorted. */
async function listing(dir: string): Promise<string> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const n of (await readdir(d)).sort()) {
      const p = path.join(d, n);
      const st = await lstat(p, { bigint: true });
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeNs}`);
      if (st.isDirectory()) await walk(p);
    }
  }
  await walk(dir);
  return out.join('\n');
}

async function findAll(dir: string, re: RegExp): Promise<string[]> {
  const hits: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (re.test(e.name)) hits.push(path.relative(dir, p));
      if (e.isDirectory()) await walk(p);
    }
  }
  await walk(dir);
  return hits;
}

describe('rails job: the whole Capistrano folder, and a WAL-mode SQLite database', () => {
  const tmp = useTempDir('tierback-cap-');
  let site: Site;
  let tree: RailsTree;
  let dbFile: string;
  before(async () => {
    tree = await makeRailsTree(tmp.dir, 'shop.example.com', 'production:\n  adapter: sqlite3\n  database: /PLACEHOLDER\n');
    dbFile = path.join(tree.cap, 'shared', 'db', 'production.sqlite3');
    await writeFile(path.join(tree.current, 'config', 'database.yml'), `production:\n  adapter: sqlite3\n  database: ${dbFile}\n`);
    // Capistrano 3's own top-level files and folders, and the usual shared/ caches.
    await writeFile(path.join(tree.cap, 'revisions.log'), 'Branch main (at abc123) deployed as release 240201120000 by deploy\n');
    await writeFile(path.join(tree.cap, 'deploy.log'), 'INFO [1a2b] Running bundle install\n');
    await mkdir(path.join(tree.cap, 'repo', 'objects'), { recursive: true });
    await writeFile(path.join(tree.cap, 'repo', 'HEAD'), 'ref: refs/heads/main\n');
    await mkdir(path.join(tree.cap, 'shared', 'tmp', 'cache'), { recursive: true });
    await writeFile(path.join(tree.cap, 'shared', 'tmp', 'cache', 'x'), 'cache\n');
    await mkdir(path.dirname(dbFile), { recursive: true });
    await sh(['sqlite3', dbFile, "PRAGMA journal_mode=WAL; CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders(item) VALUES ('tea'), ('cups');"]);
    site = await jobSite(tmp.dir, [{ name: 'shop', type: 'rails', path: tree.link, relpath: 'shop.example.com' }]);
  });

  it('keeps every top-level entry (revisions.log, deploy log, repo/), leaves out only shared/pids, shared/tmp; a restore brings them back', async () => {
    const o = await runJob(site, appOf(site, 'shop'), { log, now: at(0) });
    assert.equal(o.status, 'ok', o.error?.message);
    const t = o.target;
    assert.equal(await readFile(path.join(t, 'revisions.log'), 'utf8'), await readFile(path.join(tree.cap, 'revisions.log'), 'utf8'));
    assert.equal(await readFile(path.join(t, 'deploy.log'), 'utf8'), 'INFO [1a2b] Running bundle install\n');
    assert.equal(await treeDiff(path.join(tree.cap, 'repo'), path.join(t, 'repo')), '');
    assert.equal(await treeDiff(path.join(tree.cap, 'releases'), path.join(t, 'releases')), '');
    await assert.rejects(stat(path.join(t, 'shared', 'pids')), 'shared/pids is excluded');
    await assert.rejects(stat(path.join(t, 'shared', 'tmp')), 'shared/tmp is excluded');
    assert.ok((await stat(path.join(t, 'shared', 'log', 'production.log'))).isFile());
    // Everything but shared/ and db/ is the live top level, name for name.
    const top = (await readdir(tree.cap)).filter((n) => n !== 'shared').sort();
    assert.deepEqual((await readdir(t)).filter((n) => !['shared', 'db', '.tierback-manifest', '.tierback-files.gz'].includes(n)).sort(), top);

    const to = path.join(tmp.dir, 'restored-app');
    await restoreFiles(site, appOf(site, 'shop'), { log, to });
    assert.equal(await readFile(path.join(to, 'revisions.log'), 'utf8'), await readFile(path.join(tree.cap, 'revisions.log'), 'utf8'));
    assert.ok((await stat(path.join(to, 'repo', 'HEAD'))).isFile());
    assert.ok((await stat(path.join(to, 'deploy.log'))).isFile());
  });

  it('the manual restore of docs/jobs/rails.md goes into a new folder: its file lines, run literally, rebuild the tree there', async () => {
    const doc = await readFile(path.join(ROOT, 'docs', 'jobs', 'rails.md'), 'utf8');
    const block = /^## Restore by hand[\s\S]*?^```sh\n([\s\S]*?)^```$/m.exec(doc)![1]!;
    const lines = block.split('\n').filter((l) => /^(mkdir|rsync) /.test(l));
    assert.equal(lines.length, 3, block);
    assert.ok(lines.every((l) => !l.includes('$CAP')), 'the default block never names the live folder');
    const R = path.join(tmp.dir, 'manual', 'shop-app');
    const r = await execa('bash', ['-e', '-o', 'pipefail', '-c', lines.join('\n')], { env: { B: path.join(tmp.dir, 'backup', 'shop.example.com'), R }, reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(await treeDiff(path.join(tree.cap, 'releases'), path.join(R, 'releases')), '');
    assert.ok((await stat(path.join(R, 'revisions.log'))).isFile());
    await assert.rejects(stat(path.join(R, 'db')), 'the dumps stay out of the app folder');
    assert.equal(await treeDiff(tree.data, path.join(R, 'var-data')), '');
  });

  it('dumps a WAL-mode database nobody has open without adding a file to the live folder; the backup holds no -wal/-shm', async () => {
    const liveDir = path.dirname(dbFile);
    const before = await listing(liveDir);
    assert.doesNotMatch(before, /-wal|-shm/, 'the fixture starts without side files');
    const o = await runJob(site, appOf(site, 'shop'), { log, now: at(1) });
    assert.equal(o.status, 'ok', o.error?.message);
    assert.equal(await listing(liveDir), before, 'names, sizes and mtimes of the live folder are unchanged');
    assert.deepEqual(await findAll(o.target, /-(wal|shm|journal)$/), []);
    assert.ok((await stat(path.join(o.target, 'shared', 'db', 'production.sqlite3'))).isFile(), 'the database file itself is still copied');
  });

  it('dumps a WAL-mode database the app has open: its -wal/-shm stay live and stay out of the backup', async () => {
    // The "app": a sqlite3 process holding the database open in WAL mode, with a write not yet checkpointed.
    const app = spawn('sqlite3', [dbFile], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      app.stdin.write("INSERT INTO orders(item) VALUES ('saucers'); SELECT 'ready';\n");
      await new Promise<void>((resolve) => app.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve()));
      const names = async () => (await readdir(path.dirname(dbFile))).sort();
      const before = await names();
      assert.ok(before.includes('production.sqlite3-wal') && before.includes('production.sqlite3-shm'), before.join(' '));
      const o = await runJob(site, appOf(site, 'shop'), { log, now: at(2) });
      assert.equal(o.status, 'ok', o.error?.message);
      assert.deepEqual(await names(), before);
      assert.deepEqual(await findAll(o.target, /-(wal|shm|journal)$/), []);
      const dumps = (await readdir(path.join(o.target, 'db'))).sort();
      const text = await sh(['sh', '-c', 'gunzip -c "$1"', 'sh', path.join(o.target, 'db', dumps.at(-1)!)]);
      assert.match(text, /saucers/, 'the dump holds the write still in the WAL');
    } finally {
      app.stdin.end('.quit\n');
      await new Promise((r) => app.once('close', r));
    }
  });

  it('restores a WAL database in WAL mode (the dump says so), also in place, with the old file and its side files moved aside together', async () => {
    const target = path.join(tmp.dir, 'restored', 'production.sqlite3');
    const r = await restoreDatabase(site, appOf(site, 'shop'), { log, database: target });
    assert.equal((await sh(['sqlite3', target, 'PRAGMA journal_mode'])).trim(), 'wal');
    assert.equal((await sh(['sqlite3', target, 'SELECT count(*) FROM orders'])).trim(), '3');
    assert.ok(r.commands.some((c) => c.includes('sqlite3')));

    // In place, after the app died with a write only in its WAL: the live file and its -wal/-shm go
    // aside as a pair (that write is kept there), and the new file comes back in WAL mode.
    const app = spawn('sqlite3', [dbFile], { stdio: ['pipe', 'pipe', 'inherit'] });
    app.stdin.write("INSERT INTO orders(item) VALUES ('only in the wal'); SELECT 'ready';\n");
    await new Promise<void>((resolve) => app.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve()));
    app.kill('SIGKILL');
    await new Promise((res) => app.once('close', res));
    assert.ok((await stat(`${dbFile}-wal`)).size > 0, 'the dead app left its WAL');
    await restoreDatabase(site, appOf(site, 'shop'), { log, database: dbFile, inPlace: true, confirmed: true });
    const names = await readdir(path.dirname(dbFile));
    const aside = names.find((n) => /^production\.sqlite3\.before-restore-\d+$/.test(n));
    assert.ok(aside && names.includes(`${aside}-wal`), `the old -wal moved with its database: ${names.join(' ')}`);
    assert.equal((await sh(['sqlite3', path.join(path.dirname(dbFile), aside), "SELECT count(*) FROM orders WHERE item = 'only in the wal'"])).trim(), '1', 'the set-aside pair keeps the write');
    assert.equal((await sh(['sqlite3', dbFile, 'PRAGMA journal_mode'])).trim(), 'wal');
    assert.equal((await sh(['sqlite3', dbFile, "SELECT count(*) FROM orders WHERE item = 'only in the wal'"])).trim(), '0');
    assert.equal((await sh(['sqlite3', dbFile, 'PRAGMA integrity_check'])).trim(), 'ok');
    await rm(path.join(tmp.dir, 'restored'), { recursive: true, force: true });
  });

  it('follows shared/ and releases/ when they are symlinks to another disk: the backup holds real folders, never a link to the live app', async () => {
    const other = await makeRailsTree(path.join(tmp.dir, 'linked'), 'blog.example.com', 'production:\n  adapter: sqlite3\n  database: db/blog.sqlite3\n');
    await sh(['sqlite3', path.join(other.current, 'db', 'blog.sqlite3'), 'CREATE TABLE posts(id INTEGER PRIMARY KEY);']);
    for (const sub of ['shared', 'releases']) {
      const away = path.join(tmp.dir, 'linked', 'disk2', sub);
      await mkdir(path.dirname(away), { recursive: true });
      await rename(path.join(other.cap, sub), away);
      await symlink(away, path.join(other.cap, sub));
    }
    const s2 = await jobSite(path.join(tmp.dir, 'linked'), [{ name: 'blog', type: 'rails', path: other.cap, relpath: 'blog.example.com' }]);
    const o = await runJob(s2, appOf(s2, 'blog'), { log, now: at(3) });
    assert.equal(o.status, 'ok', o.error?.message);
    for (const sub of ['shared', 'releases']) assert.ok((await lstat(path.join(o.target, sub))).isDirectory(), `${sub} is a real folder in the backup`);
    assert.ok((await stat(path.join(o.target, 'shared', 'config', 'secrets.yml'))).isFile());
    assert.ok((await stat(path.join(o.target, 'shared', 'var', 'file_assets', '1.pdf'))).isFile());
    assert.equal(await treeDiff(path.join(tmp.dir, 'linked', 'disk2', 'releases'), path.join(o.target, 'releases')), '');
  });

  it('refuses a Capistrano folder with a top-level db (the backup folder\'s own name) instead of dropping it', async () => {
    await mkdir(path.join(tree.cap, 'db'));
    try {
      const o = await runJob(site, appOf(site, 'shop'), { log, now: at(4) });
      assert.equal(o.status, 'failed');
      assert.match(o.error!.message, /has a name the backup folder uses for itself/);
    } finally {
      await rm(path.join(tree.cap, 'db'), { recursive: true });
    }
  });
});
