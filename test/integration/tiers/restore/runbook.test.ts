/**
 * Acceptance: a person following docs/restore.md without tierback gets the same bytes back. Every
 * `manual-*` block of the runbook (files, whole app, tar, git, SQLite, whole server, checksums) is run
 * literally with bash against snapshots of the demo site taken on two days, and compared with the
 * source as it was on day 1 and with what `tierback restore` gives. (The MySQL and PostgreSQL blocks
 * run in databases.test.ts, which has the servers.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tierback } from '../../../helpers/cli.js';
import { backUp, buildDemoSite, commit, keepCopy, type DemoSite } from '../../../helpers/demosite.js';
import { sh, treeDiff } from '../../../helpers/jobsite.js';
import { runBlock, runbookBlocks } from '../../../helpers/runbook.js';
import { tempDir } from '../../../helpers/tree.js';
import { findApp } from '../../../../lib/model/inventory/model.js';

const STAMP1 = '2026-02-01T030000Z';
let tmp: string;
let cleanup: () => Promise<void>;
let d: DemoSite;
let was1: string;
let commit1: string;
let n = 0;

function envFor(app: string, to: string): Record<string, string> {
  const a = findApp(d.site, app);
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmp, PARTITION: a.partition, SERVER: a.server, VM: a.vm, RELPATH: a.relpath, STAMP: STAMP1, TO: to };
}
const fresh = () => path.join(tmp, 'out', `r${++n}`);

before(async () => {
  ({ dir: tmp, cleanup } = await tempDir('tierback-runbook-'));
  d = await buildDemoSite(path.join(tmp, 'demo'));
  was1 = path.join(tmp, 'was1');
  await keepCopy(d.docs, path.join(was1, 'docs'));
  commit1 = (await sh(['git', '--git-dir', d.gitRepo, 'rev-parse', 'main'])).trim();
  await backUp(d.site, new Date('2026-02-01T01:00:00Z'), new Date('2026-02-01T03:00:00Z'));
  await writeFile(path.join(d.docs, 'report.txt'), 'report v2, edited on day 2\n');
  await sh(['sqlite3', d.shopDb, "insert into orders(item) values ('day 2');"]);
  await commit(d.gitWork, 'README', 'two\n', 'second');
  await backUp(d.site, new Date('2026-02-02T01:00:00Z'), new Date('2026-02-02T03:00:00Z'));
  await mkdir(path.join(tmp, 'out'));
});
after(() => cleanup());

describe('docs/restore.md, by hand, literally', () => {
  it('has the manual blocks this test runs', async () => {
    const names = [...(await runbookBlocks()).keys()].sort();
    for (const want of ['manual-app-restore', 'manual-app-tar', 'manual-checksum', 'manual-file-restore', 'manual-find', 'manual-git-restore', 'manual-mysql-restore', 'manual-postgresql-restore', 'manual-server-restore', 'manual-sqlite-restore']) {
      assert.ok(names.includes(want), `docs/restore.md lacks ${want}`);
    }
  });

  it('finds the snapshot and restores a file of day 1: the same bytes as the source of that day and as tierback', async () => {
    const to = fresh();
    const listing = await runBlock('manual-find', envFor('docs', to));
    assert.match(listing, new RegExp(STAMP1));
    assert.match(listing, /files/);
    await runBlock('manual-file-restore', envFor('docs', to));
    const manual = await readFile(path.join(to, 'report.txt'));
    assert.deepEqual(manual, await readFile(path.join(was1, 'docs', 'report.txt')));
    const viaTool = fresh();
    const r = await tierback(['restore', 'docs', '-i', d.site.file, '--at', '2026-02-01', '--path', 'files/report.txt', '--to', viaTool]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(path.join(viaTool, 'files', 'report.txt')), manual);
  });

  it('restores a whole app with rsync and with tar: identical to tierback restore of the same snapshot', async () => {
    const to = fresh();
    await runBlock('manual-app-restore', envFor('shop', to));
    await runBlock('manual-app-tar', envFor('shop', to));
    const viaTool = fresh();
    const r = await tierback(['restore', 'shop', '-i', d.site.file, '--at', STAMP1, '--tier', 'remote', '--to', viaTool]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await treeDiff(path.join(to, 'app'), viaTool, ['.tierback-manifest']), '');
    assert.equal(await treeDiff(path.join(to, 'app'), path.join(to, 'unpacked')), '');
  });

  it('clones the day-1 git mirror and restores the day-1 SQLite database', async () => {
    const to = fresh();
    await runBlock('manual-git-restore', envFor('code', to));
    assert.equal((await sh(['git', '--git-dir', path.join(to, 'code.git'), 'rev-parse', 'main'])).trim(), commit1);
    const tables = await runBlock('manual-sqlite-restore', envFor('shop', to));
    assert.match(tables, /customers\s+orders/);
    assert.equal((await sh(['sqlite3', path.join(to, 'restored.sqlite3'), 'select count(*) from orders'])).trim(), '2');
  });

  it('rebuilds a whole server\'s local tier from a snapshot, and checks checksums with sha256sum', async () => {
    const to = fresh();
    const out = await runBlock('manual-server-restore', envFor('docs', to));
    assert.deepEqual(out.split('\n').filter(Boolean).sort(), ['_host', 'web']);
    const snap = path.join(findApp(d.site, 'docs').partition, 'snapshots', findApp(d.site, 'docs').server, STAMP1);
    assert.equal(await treeDiff(snap, path.join(to, 'partition', 'local')), '');
    assert.deepEqual((await readdir(path.join(to, 'partition', 'local', 'web'))).sort(), ['_history', 'git.example.org', 'shop.example.org']);
    await runBlock('manual-checksum', envFor('shop', to));
    // A flipped byte in a copy is caught by the same command.
    const copy = path.join(to, 'partition', 'local', 'web', 'shop.example.org');
    const dbDir = path.join(copy, 'db');
    const dump = path.join(dbDir, (await readdir(dbDir))[0]!);
    const bytes = await readFile(dump);
    const i = Math.floor(bytes.length / 2);
    bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(dump, bytes);
    await assert.rejects(sh(['bash', '-c', "grep -v '^#' .tierback-manifest | sha256sum -c --quiet"], { cwd: copy }), /FAILED/);
  });
});
