/** Pure parts of restore: --at parsing, point and dump choice, --path checks, database load plans, drill exit codes, manifests. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseInventory } from '../../../../lib/site/load.js';
import { parseSnapshotStamp } from '../../../../lib/model/convention.js';
import { createExec } from '../../../../lib/base/exec.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { readManifest, writeManifest } from '../../../../lib/tiers/jobs/manifest.js';
import { checkNewDatabaseName, pickConnection, planLoad } from '../../../../lib/tiers/restore/database.js';
import { chooseDump, choosePoint, parseAt, type Point } from '../../../../lib/tiers/restore/points.js';
import { checkRestorePath } from '../../../../lib/tiers/restore/restore.js';
import { countedDrills, selectDrillApps, type DrillOutcome } from '../../../../lib/tiers/restore/verify.js';
import { exitCodeFor } from '../../../../lib/model/outcome.js';
import { ExitCode, NotFoundError, UsageError } from '../../../../lib/base/errors.js';
import { tempDir } from '../../../helpers/tree.js';

const site = parseInventory(
  `version: 1
defaults: { timezone: Europe/Zurich }
servers: [{ fqdn: a.example.org, role: both }]
apps:
  - { name: shop, server: a.example.org, path: /srv/shop, relpath: shop.example.org, type: files }
  - { name: old, server: a.example.org, path: /srv/old, relpath: old.example.org, type: files, status: retired }
backup_servers: [{ server: a.example.org, pulls: [{ server: a.example.org, transport: local }] }]
`,
  '/tmp/inv.yaml',
);
const app = site.apps[0]!;

function point(tier: 'local' | 'remote', at: string, snapshot?: string, dumps: { db: string; at: string }[] = []): Point {
  return {
    app: 'shop',
    tier,
    id: snapshot ? `a.example.org/${snapshot}` : 'local',
    at: new Date(at),
    dir: '/x',
    disk: '/x',
    partition: '/v01/backup',
    historyDisk: '/x/_history',
    snapshot,
    current: false,
    status: 'ok',
    dumps: dumps.map((d) => ({ db: d.db, file: `db/${d.db}-${d.at}.sqlite.sql.gz`, stamp: d.at, at: parseSnapshotStamp(d.at)!, ext: 'sqlite.sql.gz', bytes: 1 })),
  };
}

describe('parseAt', () => {
  it('reads latest, days, snapshot stamps and times (UTC unless an offset is given)', () => {
    assert.deepEqual(parseAt(undefined), { kind: 'latest' });
    assert.deepEqual(parseAt('latest'), { kind: 'latest' });
    assert.deepEqual(parseAt('2026-02-01'), { kind: 'day', day: '20260201' });
    assert.deepEqual(parseAt('20260201'), { kind: 'day', day: '20260201' });
    assert.deepEqual(parseAt('2026-02-01T030000Z'), { kind: 'time', at: new Date('2026-02-01T03:00:00Z') });
    assert.deepEqual(parseAt('2026-02-01T03:00'), { kind: 'time', at: new Date('2026-02-01T03:00:00Z') });
    assert.deepEqual(parseAt('2026-02-01 03:00+01:00'.replace(' ', 'T')), { kind: 'time', at: new Date('2026-02-01T02:00:00Z') });
  });
  it('rejects anything else with exit 2 and an example', () => {
    for (const bad of ['yesterday', '2026-13-45x', '1/2/2026', '']) {
      if (bad === '') continue;
      assert.throws(() => parseAt(bad), (e: unknown) => e instanceof UsageError && e.exitCode === ExitCode.INVALID && /2026-02-01/.test(e.hint ?? ''));
    }
  });
});

describe('choosePoint / chooseDump', () => {
  const points = [
    point('remote', '2026-01-31T23:30:00Z', '2026-02-01T000000Z'), // 1 Feb 00:30 in Zurich
    point('remote', '2026-02-01T22:30:00Z', '2026-02-01T230000Z'), // 1 Feb 23:30 in Zurich
    point('remote', '2026-02-02T01:00:00Z', '2026-02-02T030000Z'),
    point('local', '2026-02-02T01:00:00Z'),
  ];
  it('latest prefers the local folder over a snapshot of the same backup', () => {
    assert.equal(choosePoint(site, app, points, {}).tier, 'local');
    assert.equal(choosePoint(site, app, points, { tier: 'remote' }).snapshot, '2026-02-02T030000Z');
  });
  it('a day means the newest backup of that day or before, in the site\'s timezone', () => {
    assert.equal(choosePoint(site, app, points, { at: '2026-02-01' }).snapshot, '2026-02-01T230000Z');
    assert.equal(choosePoint(site, app, points, { at: '2026-02-01T12:00' }).snapshot, '2026-02-01T000000Z');
  });
  it('nothing old enough: not found (exit 3) listing what there is', () => {
    assert.throws(() => choosePoint(site, app, points, { at: '2025-12-31' }), (e: unknown) => e instanceof NotFoundError && /available: .*2026-02-01T000000Z/.test(e.hint ?? ''));
  });
  it('picks the newest dump at or before --at, across tiers; several databases need --db', () => {
    const withDumps = [
      point('remote', '2026-02-01T01:00:00Z', '2026-02-01T030000Z', [{ db: 'main', at: '2026-02-01T010000Z' }]),
      point('local', '2026-02-03T01:00:00Z', undefined, [
        { db: 'main', at: '2026-02-02T010000Z' },
        { db: 'main', at: '2026-02-03T010000Z' },
      ]),
    ];
    assert.equal(chooseDump(site, app, withDumps, { at: '2026-02-02' }).dump.stamp, '2026-02-02T010000Z');
    assert.equal(chooseDump(site, app, withDumps, { at: '2026-02-01' }).point.tier, 'remote');
    const two = [point('local', '2026-02-03T01:00:00Z', undefined, [{ db: 'a', at: '2026-02-02T010000Z' }, { db: 'b', at: '2026-02-02T010000Z' }])];
    assert.throws(() => chooseDump(site, app, two, {}), UsageError);
    assert.equal(chooseDump(site, app, two, { db: 'b' }).dump.db, 'b');
    assert.throws(() => chooseDump(site, app, two, { db: 'c' }), NotFoundError);
  });
});

describe('checkRestorePath', () => {
  it('normalises plain relative paths and means "everything" for empty', () => {
    assert.equal(checkRestorePath('files/a/b.txt'), 'files/a/b.txt');
    assert.equal(checkRestorePath('files/a/'), 'files/a');
    assert.equal(checkRestorePath(''), '');
    assert.equal(checkRestorePath('.'), '');
  });
  it('rejects traversal, absolute paths and odd segments (exit 2)', () => {
    for (const bad of ['..', '../x', 'files/../../etc', '/etc/passwd', 'files//a', 'files/./a', 'a\nb']) {
      assert.throws(() => checkRestorePath(bad), (e: unknown) => e instanceof UsageError && e.exitCode === 2, bad);
    }
  });
});

describe('database load plans', () => {
  it('are argv data; the password never appears in them or in the printed commands', () => {
    const conn = { host: 'db', port: 5433, user: 'crm', password: 's3cret' };
    const pg = planLoad('postgresql', '/b/db/crm-x.pgdump', 'crm_restored', conn, '/tmp/my.cnf');
    assert.deepEqual(pg.printable, ['createdb --no-password --host=db --port=5433 --username=crm crm_restored', 'pg_restore --no-password --host=db --port=5433 --username=crm --no-owner --no-acl --exit-on-error --dbname=crm_restored /b/db/crm-x.pgdump']);
    assert.ok(!JSON.stringify(pg.printable).includes('s3cret'));
    const step = pg.steps[0]!;
    assert.equal(step.kind === 'run' && step.command.secretEnv?.['PGPASSWORD'], 's3cret');
    const my = planLoad('mysql', '/b/db/shop-x.mysql.sql.gz', 'shop_r', conn, '/tmp/my.cnf');
    assert.deepEqual(my.printable, ["mysql --defaults-extra-file=/tmp/my.cnf -e 'CREATE DATABASE `shop_r`'", 'gunzip -c /b/db/shop-x.mysql.sql.gz | mysql --defaults-extra-file=/tmp/my.cnf shop_r']);
    assert.ok(!JSON.stringify(my).includes('s3cret'));
  });
  it('new database names are plain (no quoting needed anywhere); SQLite targets are absolute files', () => {
    assert.doesNotThrow(() => checkNewDatabaseName('shop_restored', 'mysql'));
    for (const bad of ['shop`; DROP', 'a-b', '1abc', 'x'.repeat(70)]) assert.throws(() => checkNewDatabaseName(bad, 'postgresql'), UsageError);
    assert.throws(() => checkNewDatabaseName('rel.sqlite3', 'sqlite'), UsageError);
  });
  it('--db-* settings replace the app\'s connection as a whole', () => {
    const own = { host: 'db', user: 'app', password: 'pw' };
    assert.deepEqual(pickConnection(own, undefined), own);
    assert.deepEqual(pickConnection(own, { user: undefined }), own);
    assert.deepEqual(pickConnection(own, { socket: '/run/s', user: 'root' }), { socket: '/run/s', user: 'root' });
  });
});

describe('drills', () => {
  const o = (status: DrillOutcome['status']): DrillOutcome => ({ app: 'x', status, point: undefined, checks: [], problems: [], commands: [] });
  it('exit codes: 0 all ok, 5 some failed, 1 all failed; apps not here are skipped unless named', () => {
    const drillExitCode = (os: DrillOutcome[], named: boolean) => exitCodeFor(countedDrills(os, named), { empty: ExitCode.FAILED });
    assert.equal(drillExitCode([o('ok'), o('warning')], false), 0);
    assert.equal(drillExitCode([o('ok'), o('failed')], false), 5);
    assert.equal(drillExitCode([o('failed')], false), 1);
    assert.equal(drillExitCode([o('ok'), o('skipped')], false), 0);
    assert.equal(drillExitCode([o('ok'), o('skipped')], true), 5);
    assert.equal(drillExitCode([o('skipped')], false), 1);
  });
  it('--all means the active apps (of the servers a backup server pulls)', () => {
    assert.deepEqual(selectDrillApps(site, [], { all: true }).map((a) => a.name), ['shop']);
    assert.deepEqual(selectDrillApps(site, [], { all: true, backupServer: 'a.example.org' }).map((a) => a.name), ['shop']);
    assert.throws(() => selectDrillApps(site, [], { all: true, backupServer: 'nope.example.org' }), NotFoundError);
    assert.throws(() => selectDrillApps(site, [], {}), UsageError);
    assert.throws(() => selectDrillApps(site, ['shop'], { all: true }), UsageError);
  });
});

describe('manifest', () => {
  it('records totals, every dump with its table and row counts, and reuses the sums of carried-over dumps', async () => {
    const { dir, cleanup } = await tempDir('tierback-manifest-');
    try {
      const a = path.join(dir, 'a');
      await mkdir(path.join(a, 'db'), { recursive: true });
      await mkdir(path.join(a, 'files'));
      await writeFile(path.join(a, 'files', 'x.txt'), 'x\n');
      const sql = 'PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(x);\nINSERT INTO t VALUES(1);\nINSERT INTO t VALUES(2);\nCREATE TABLE sqlite_sequence(name,seq);\nINSERT INTO sqlite_sequence VALUES(\'t\',2);\nCOMMIT;\n';
      await writeFile(path.join(a, 'db', 'main-2026-02-01T010000Z.sqlite.sql.gz'), gzipSync(sql));
      const mysql = 'CREATE TABLE `items` (`id` int);\nINSERT INTO `items` VALUES (1,\'a),(b\'),(2,\'c\');\nCREATE TABLE `my "t"` (`id` int);\nINSERT INTO `my "t"` VALUES (1);\n';
      await writeFile(path.join(a, 'db', 'shop-2026-02-01T010000Z.mysql.sql.gz'), gzipSync(mysql));
      const m = await writeManifest(a, createExec(silentLogger()));
      assert.equal(m.files, 3);
      const text = await readFile(path.join(a, '.tierback-manifest'), 'utf8');
      assert.match(text, /^# dump db\/main-2026-02-01T010000Z\.sqlite\.sql\.gz tables=1 rows=2$/m);
      assert.match(text, /^# table db\/main-2026-02-01T010000Z\.sqlite\.sql\.gz rows=2 "t"$/m);
      assert.match(text, /^# dump db\/shop-2026-02-01T010000Z\.mysql\.sql\.gz tables=2 rows=3$/m);
      assert.match(text, /^# table db\/shop-2026-02-01T010000Z\.mysql\.sql\.gz rows=1 "my \\"t\\""$/m);
      assert.match(text, /^[0-9a-f]{64} {2}files\/x\.txt$/m);
      const back = await readManifest(a);
      assert.equal(back?.files, 3);
      assert.deepEqual(back?.dumps.get('db/main-2026-02-01T010000Z.sqlite.sql.gz'), { tables: 1, rows: 2, tableRows: new Map([['t', 2]]) });
      assert.deepEqual(back?.dumps.get('db/shop-2026-02-01T010000Z.mysql.sql.gz'), { tables: 2, rows: 3, tableRows: new Map([['items', 2], ['my "t"', 1]]) });
      // A carried-over dump (same name) keeps the previous manifest's sum: the previous backup is trusted, not re-read.
      const b = path.join(dir, 'b');
      await mkdir(path.join(b, 'db'), { recursive: true });
      await writeFile(path.join(b, 'db', 'main-2026-02-01T010000Z.sqlite.sql.gz'), 'changed');
      const m2 = await writeManifest(b, createExec(silentLogger()), a);
      assert.equal(m2.sums.get('db/main-2026-02-01T010000Z.sqlite.sql.gz'), back?.sums.get('db/main-2026-02-01T010000Z.sqlite.sql.gz'));
    } finally {
      await cleanup();
    }
  });
});
