/**
 * The demo site (lib/features/demo/index.ts `prepareSandbox`) with real sample apps: a Rails shop on SQLite, a bare
 * git repository and a file tree, as `tierback demo` describes them. Jobs and pulls run at chosen
 * dates, so tests can restore "as it was on day N" and compare with a copy of the source of that day.
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { prepareSandbox } from '../../lib/features/demo/index.js';
import type { Site } from '../../lib/model/inventory/model.js';
import { runJobs } from '../../lib/tiers/jobs/run.js';
import { silentLogger } from '../../lib/base/log.js';
import { runPulls } from '../../lib/tiers/pull/pull.js';
import { sh } from './jobsite.js';
import { makeRailsTree, type RailsTree } from './rails.js';
import { makeTree } from './tree.js';

export const GIT_ENV = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };

export interface DemoSite {
  dir: string;
  site: Site;
  shop: RailsTree;
  shopDb: string;
  gitRepo: string;
  gitWork: string;
  docs: string;
}

export async function buildDemoSite(dir: string): Promise<DemoSite> {
  const site = await prepareSandbox(dir);
  const apps = path.join(dir, 'apps');
  // The "VM" web writes straight into the partition (its mount), as `tierback demo` sets it up.
  for (const vm of site.vms) await mkdir(vm.mount, { recursive: true, mode: 0o700 });
  const shop = await makeRailsTree(apps, 'shop', 'production:\n  adapter: sqlite3\n  database: db/production.sqlite3\n');
  const shopDb = path.join(shop.current, 'db', 'production.sqlite3');
  await sh(['sqlite3', shopDb, "create table orders(id integer primary key, item text); create table customers(id integer primary key, name text); insert into orders(item) values ('pen'), ('ink'); insert into customers(name) values ('ada');"]);
  const gitRepo = path.join(apps, 'srv', 'git', 'code.git');
  const gitWork = path.join(dir, 'gitwork');
  await mkdir(path.dirname(gitRepo), { recursive: true });
  await sh(['git', 'init', '-q', '--bare', '-b', 'main', gitRepo]);
  await sh(['git', 'clone', '-q', gitRepo, gitWork]);
  await commit(gitWork, 'README', 'one\n', 'first');
  const docs = path.join(apps, 'srv', 'docs');
  await makeTree(docs, { 'report.txt': 'report v1\n', 'notes.md': 'notes\n', sub: { 'deep.txt': 'deep\n' }, escape: { symlink: '/etc' } });
  return { dir, site, shop, shopDb, gitRepo, gitWork, docs };
}

export async function commit(work: string, file: string, content: string, message: string): Promise<string> {
  await writeFile(path.join(work, file), content);
  await sh(['git', '-C', work, 'add', '-A'], { env: GIT_ENV });
  await sh(['git', '-C', work, 'commit', '-qm', message], { env: GIT_ENV });
  await sh(['git', '-C', work, 'push', '-q', 'origin', 'HEAD:main'], { env: GIT_ENV });
  return (await sh(['git', '-C', work, 'rev-parse', 'HEAD'])).trim();
}

/** Runs every app's job at `jobAt`, then the backup server's pull at `pullAt`; throws unless all succeed. */
export async function backUp(site: Site, jobAt: Date, pullAt: Date): Promise<void> {
  const log = silentLogger();
  const outcomes = await runJobs(site, site.apps, { log, now: () => jobAt });
  for (const o of outcomes) if (o.status !== 'ok') throw new Error(`job ${o.app}: ${o.status} ${o.error?.message ?? ''}`);
  const pulls = await runPulls(site, site.backupServers[0]!, { log, now: () => pullAt });
  for (const p of pulls) if (p.status !== 'ok') throw new Error(`pull ${p.server}: ${p.status} ${p.error ?? ''}`);
}

/** Copies a source tree aside (symlinks kept as links): the "as it was that day" reference. */
export async function keepCopy(src: string, dest: string): Promise<void> {
  await cp(src, dest, { recursive: true, verbatimSymlinks: true });
}
