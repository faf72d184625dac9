import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readlink, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDumpFileName } from '../../../../lib/model/convention.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { useTempDir } from '../../../helpers/tree.js';
import { appOf, historyOf, jobSite, sh, treeDiff } from '../../../helpers/jobsite.js';
import { makeRailsTree, type RailsTree } from '../../../helpers/rails.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();
const at = (min: number) => () => new Date(Date.UTC(2026, 0, 10, 1, 30 + min, 0));

describe('rails job (sqlite3): Capistrano tree, database dump, data directory', () => {
  const tmp = useTempDir('tierback-rails-');
  let site: Site;
  let tree: RailsTree;
  let dbFile: string;
  before(async () => {
    tree = await makeRailsTree(tmp.dir, 'www.example.com', 'production:\n  adapter: sqlite3\n  database: db/production.sqlite3\n');
    dbFile = path.join(tree.current, 'db', 'production.sqlite3');
    await sh(['sqlite3', dbFile, "create table notes(id integer primary key, body text); insert into notes(body) values ('first'), ('it''s \"quoted\"');"]);
    site = await jobSite(tmp.dir, [
      { name: 'www', type: 'rails', path: tree.link, relpath: 'www.example.com', keep_dumps: 2 },
      { name: 'www2', type: 'rails', path: tree.cap, relpath: 'other.example.com' },
    ]);
  });

  it('copies releases, shared, the data directory and current; dumps the database; keeps the last keep_dumps dumps', async () => {
    const app = appOf(site, 'www');
    const o1 = await runJob(site, app, { log, now: at(0) });
    assert.equal(o1.status, 'ok', o1.error?.message);
    const t = o1.target;
    assert.equal(await treeDiff(path.join(tree.cap, 'releases'), path.join(t, 'releases')), '');
    assert.equal(await readlink(path.join(t, 'current')), 'releases/240201120000');
    assert.equal(await treeDiff(tree.data, path.join(t, 'shared', 'var')), '');
    assert.equal(await treeDiff(path.join(tree.cap, 'shared', 'config'), path.join(t, 'shared', 'config')), '');
    await assert.rejects(stat(path.join(t, 'shared', 'pids')), 'pids excluded');
    const dumps1 = await readdir(path.join(t, 'db'));
    assert.equal(dumps1.length, 1);
    assert.deepEqual(parseDumpFileName(dumps1[0]!)?.db, 'production');
    assert.equal((await stat(path.join(t, 'db', dumps1[0]!))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(t, 'db'))).mode & 0o777, 0o700);
    assert.equal(o1.record!.extra?.['adapter'], 'sqlite3');

    await sh(['sqlite3', dbFile, "insert into notes(body) values ('second run');"]);
    await writeFile(path.join(tree.data, 'file_assets', '3.txt'), 'new asset\n');
    const o2 = await runJob(site, app, { log, now: at(1) });
    assert.equal(o2.status, 'ok', o2.error?.message);
    const o3 = await runJob(site, app, { log, now: at(2) });
    assert.equal(o3.status, 'ok', o3.error?.message);
    const dumps = (await readdir(path.join(t, 'db'))).sort();
    assert.equal(dumps.length, 2, `keep_dumps 2: ${dumps.join(', ')}`);
    assert.deepEqual(dumps.map((d) => parseDumpFileName(d)!.stamp), ['2026-01-10T013100Z', '2026-01-10T013200Z']);
    assert.equal(await treeDiff(tree.data, path.join(t, 'shared', 'var')), '');
    // unchanged files are hard links to the previous run's copy (the folder is swapped, so compare link counts)
    assert.ok((await stat(path.join(t, 'releases', '240101120000', 'REVISION'))).nlink >= 1);

    // restore by hand (docs/jobs/rails.md): newest dump into a fresh database file
    const restored = path.join(tmp.dir, 'restored.sqlite3');
    await sh(['sh', '-c', 'gunzip -c "$1" | sqlite3 "$2"', 'sh', path.join(t, 'db', dumps[1]!), restored]);
    const q = 'select id, body from notes order by id;';
    assert.equal(await sh(['sqlite3', restored, q]), await sh(['sqlite3', dbFile, q]));
    assert.match(await sh(['sqlite3', restored, q]), /second run/);
    const runs = await historyOf(site, 'www');
    assert.deepEqual(runs.map((r) => r.status), ['ok', 'ok', 'ok']);
    assert.ok(runs[2]!.files! >= 10);
  });

  it('accepts the <name>-app folder as path too', async () => {
    const o = await runJob(site, appOf(site, 'www2'), { log });
    assert.equal(o.status, 'ok', o.error?.message);
  });

  it('fails clearly when database.yml has no production section, keeping the previous backup', async () => {
    const yml = path.join(tree.current, 'config', 'database.yml');
    await writeFile(yml, 'development:\n  adapter: sqlite3\n  database: db/dev.sqlite3\n');
    try {
      const o = await runJob(site, appOf(site, 'www'), { log, now: at(5) });
      assert.equal(o.status, 'failed');
      assert.match(o.error!.message, /has no "production" section/);
      assert.equal((await readdir(path.join(o.target, 'db'))).length, 2);
    } finally {
      await writeFile(yml, 'production:\n  adapter: sqlite3\n  database: db/production.sqlite3\n');
    }
  });
});
