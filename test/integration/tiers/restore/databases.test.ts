/**
 * `tierback restore --database` and drills against real MariaDB and PostgreSQL servers: dumps of two
 * days, the day-1 dump loaded into a new database and compared with the data of that day; the live
 * database refused; drills load into scratch databases, count tables and rows per table against the
 * counts the job read from the dump, drop them, and catch tampered dumps (a row fewer) and flipped bytes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { readManifest } from '../../../../lib/tiers/jobs/manifest.js';
import path from 'node:path';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { tierback } from '../../../helpers/cli.js';
import { appOf, jobSite } from '../../../helpers/jobsite.js';
import { passwordFile, startMariaDb, type MariaDb } from '../../../helpers/mariadb.js';
import { startPostgres, type Postgres } from '../../../helpers/postgres.js';
import { tempDir } from '../../../helpers/tree.js';
import { RUNBOOK, runBlock } from '../../../helpers/runbook.js';
import { PG_BIN } from '../../../helpers/postgres.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();
const DAY1 = new Date('2026-03-01T02:00:00Z');
const DAY2 = new Date('2026-03-02T02:00:00Z');

let root: string;
let cleanup: () => Promise<void>;
let my: MariaDb;
let pg: Postgres;
let site: Site;
let inv: string;
const cli = (args: string[]) => tierback([...args, '-i', inv]);

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-restore-db-'));
  [my, pg] = await Promise.all([startMariaDb(), startPostgres()]);
  await my.createDb('shop', 'shopuser', 'my pw');
  // Drills create scratch databases named tierback_drill_*: the app user may create and drop those only.
  await my.sql("GRANT ALL ON `tierback\\_drill\\_%`.* TO 'shopuser'@'%'; GRANT ALL ON `tierback\\_drill\\_%`.* TO 'shopuser'@'localhost';");
  await my.sql("CREATE TABLE items (id INT PRIMARY KEY, name TEXT); CREATE TABLE tags (id INT PRIMARY KEY); INSERT INTO items VALUES (1, 'pen'), (2, 'it''s ink'); INSERT INTO tags VALUES (1);", 'shop');
  await pg.createDb('crm', 'crmuser', 'pg pw');
  await pg.sql('ALTER ROLE crmuser CREATEDB');
  await pg.sql("CREATE TABLE contacts (id int PRIMARY KEY, name text); INSERT INTO contacts VALUES (1, 'ada'), (2, 'grace'); ALTER TABLE contacts OWNER TO crmuser;", 'crm');
  site = await jobSite(root, [
    { name: 'shop', type: 'mysql', path: '/var/lib/mysql', relpath: 'db.example.com/shop', options: { databases: ['shop'], host: '127.0.0.1', port: my.port, user: 'shopuser', password_file: await passwordFile(root, 'my.pw', 'my pw') } },
    { name: 'crm', type: 'postgresql', path: '/var/lib/postgresql', relpath: 'db.example.com/crm', options: { databases: ['crm'], host: '127.0.0.1', port: pg.port, user: 'crmuser', password_file: await passwordFile(root, 'pg.pw', 'pg pw') } },
  ]);
  inv = site.file;
  for (const a of ['shop', 'crm']) assert.equal((await runJob(site, appOf(site, a), { log, now: () => DAY1 })).status, 'ok');
  await my.sql("INSERT INTO items VALUES (3, 'paper')", 'shop');
  await pg.sql("INSERT INTO contacts VALUES (3, 'linus')", 'crm');
  for (const a of ['shop', 'crm']) assert.equal((await runJob(site, appOf(site, a), { log, now: () => DAY2 })).status, 'ok');
});
after(async () => {
  await Promise.all([my?.stop(), pg?.stop()]);
  await cleanup();
});

describe('restore --database (MariaDB, PostgreSQL)', () => {
  it('mysql: loads the day-1 dump into a new database, as root over the socket; the data is that of day 1', async () => {
    const r = await cli(['restore', 'shop', '--at', '2026-03-01', '--database', 'shop_day1', '--db-socket', my.socket, '--db-user', 'root']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mysql --defaults-extra-file=\S+ -e 'CREATE DATABASE `shop_day1`'/);
    assert.match(r.stdout, /gunzip -c \S+shop-2026-03-01T020000Z\.mysql\.sql\.gz \| mysql --defaults-extra-file=\S+ shop_day1/);
    assert.doesNotMatch(r.stdout, /my pw/);
    assert.equal(await my.sql('SELECT id, name FROM items ORDER BY id', 'shop_day1'), "1\tpen\n2\tit's ink");
    const latest = await cli(['restore', 'shop', '--database', 'shop_latest', '--db-socket', my.socket, '--db-user', 'root']);
    assert.equal(latest.code, 0, latest.stderr);
    assert.equal(await my.sql('SELECT count(*) FROM items', 'shop_latest'), '3');
  });

  it('mysql: the app\'s own user restores with exactly the GRANT of docs/restore.md ("Rights"), and not without it', async () => {
    // The line of docs/restore.md, for the host part the job connects from ('%': TCP to 127.0.0.1).
    const doc = await readFile(RUNBOOK, 'utf8');
    const line = /^GRANT ALL PRIVILEGES ON `shop\\_restored`\.\* TO 'shop'@'localhost';/m.exec(doc)?.[0];
    assert.ok(line, 'docs/restore.md has the GRANT line');
    const denied = await cli(['restore', 'shop', '--database', 'shop_restored']);
    assert.notEqual(denied.code, 0, 'no right to create shop_restored yet');
    await my.sql(line.replace("'shop'@'localhost'", "'shopuser'@'%'"));
    const r = await cli(['restore', 'shop', '--database', 'shop_restored']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await my.sql('SELECT count(*) FROM items', 'shop_restored'), '3');
    await my.sql('DROP DATABASE shop_restored'); // the runbook block below creates it again
  });

  it('mysql: refuses the live database name (exit 6) and an existing database fails without touching it', async () => {
    const r = await cli(['restore', 'shop', '--database', 'shop', '--db-socket', my.socket, '--db-user', 'root']);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /live database/);
    const again = await cli(['restore', 'shop', '--database', 'shop_day1', '--db-socket', my.socket, '--db-user', 'root']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists/);
    assert.equal(await my.sql('SELECT count(*) FROM items', 'shop_day1'), '2');
  });

  it('postgresql: loads the day-1 dump into a new database as the app\'s own user (password from its password_file)', async () => {
    const r = await cli(['restore', 'crm', '--at', '2026-03-01', '--database', 'crm_day1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /createdb --no-password --host=127\.0\.0\.1 --port=\d+ --username=crmuser crm_day1/);
    assert.match(r.stdout, /pg_restore .*--dbname=crm_day1 \S+crm-2026-03-01T020000Z\.pgdump/);
    assert.equal(await pg.sql('SELECT name FROM contacts ORDER BY id', 'crm_day1'), 'ada\ngrace');
    assert.equal((await cli(['restore', 'crm', '--database', 'crm'])).code, 6);
  });
});

describe('verify: drills load dumps into scratch databases', () => {
  it('loads, counts tables and rows against the manifest, and drops the scratch databases', async () => {
    const r = await cli(['verify', 'shop', 'crm']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /shop-2026-03-02T020000Z\.mysql\.sql\.gz: loaded into a scratch database: 2 tables, 4 rows \(job recorded 2 tables 4 rows\)/);
    assert.match(r.stdout, /crm-2026-03-02T020000Z\.pgdump: loaded into a scratch database: 1 tables, 3 rows \(job recorded 1 tables 3 rows\)/);
    assert.match(r.stdout, /shop-2026-03-02T020000Z\.mysql\.sql\.gz: rows of each of 2 tables match/);
    assert.equal(await my.sql("SHOW DATABASES LIKE 'tierback_drill%'"), '');
    // On a backup server the scratch server is named explicitly (as root over its socket here).
    const asRoot = await cli(['verify', 'shop', '--db-socket', my.socket, '--db-user', 'root']);
    assert.equal(asRoot.code, 0, asRoot.stdout);
    assert.match(asRoot.stdout, /loaded into a scratch database: 2 tables, 4 rows/);
    assert.equal(await pg.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'tierback_drill%'"), '0');
  });

  it('the job records per-table row counts read from the dump, equal to SELECT count(*) at dump time', async () => {
    const shop = await readManifest(path.join(appOf(site, 'shop').mount, 'db.example.com/shop'));
    assert.deepEqual(shop?.dumps.get('db/shop-2026-03-02T020000Z.mysql.sql.gz')?.tableRows, new Map([
      ['items', Number(await my.sql('SELECT count(*) FROM items', 'shop'))],
      ['tags', Number(await my.sql('SELECT count(*) FROM tags', 'shop'))],
    ]));
    assert.equal(shop?.dumps.get('db/shop-2026-03-02T020000Z.mysql.sql.gz')?.tableRows?.get('items'), 3);
    const crm = await readManifest(path.join(appOf(site, 'crm').mount, 'db.example.com/crm'));
    assert.deepEqual(crm?.dumps.get('db/crm-2026-03-02T020000Z.pgdump')?.tableRows, new Map([['public.contacts', Number(await pg.sql('SELECT count(*) FROM contacts', 'crm'))]]));
    assert.equal(crm?.dumps.get('db/crm-2026-03-02T020000Z.pgdump')?.rows, 3);
  });

  it('fails naming the table when a row was removed from the MySQL dump (re-gzipped, manifest unchanged)', async () => {
    const dump = path.join(appOf(site, 'shop').mount, 'db.example.com/shop/db/shop-2026-03-02T020000Z.mysql.sql.gz');
    const original = await readFile(dump);
    try {
      const text = gunzipSync(original).toString('utf8');
      const tampered = text.replace(/,\s*\(3,'paper'\)/, '');
      assert.notEqual(tampered, text);
      await writeFile(dump, gzipSync(tampered));
      const r = await cli(['verify', 'shop']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /shop: FAILED/);
      assert.match(r.stdout, /FAIL rows: db\/shop-2026-03-02T020000Z\.mysql\.sql\.gz: table items: 2 rows loaded, the job counted 3 in the dump/);
      assert.doesNotMatch(r.stdout, /table tags/);
    } finally {
      await writeFile(dump, original);
    }
  });

  it('fails naming the table when the PostgreSQL dump was replaced by one with a row fewer', async () => {
    const dump = path.join(appOf(site, 'crm').mount, 'db.example.com/crm/db/crm-2026-03-02T020000Z.pgdump');
    const original = await readFile(dump);
    try {
      await pg.sql('DELETE FROM contacts WHERE id = 2', 'crm');
      await execa(path.join(PG_BIN, 'pg_dump'), ['--format=custom', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', `--file=${dump}`, 'crm']);
      const r = await cli(['verify', 'crm']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /FAIL rows: db\/crm-2026-03-02T020000Z\.pgdump: table public\.contacts: 2 rows loaded, the job counted 3 in the dump/);
    } finally {
      await pg.sql("INSERT INTO contacts VALUES (2, 'grace')", 'crm');
      await writeFile(dump, original);
    }
  });

  it('fails with a clear message after the PostgreSQL dump is corrupted', async () => {
    const dbDir = path.join(appOf(site, 'crm').mount, 'db.example.com/crm/db');
    const dump = path.join(dbDir, (await readdir(dbDir)).sort().at(-1)!);
    const fh = await open(dump, 'r+');
    const size = (await fh.stat()).size;
    await fh.write(Buffer.from('garbage!'), 0, 8, Math.floor(size * 0.6));
    await fh.close();
    const r = await cli(['verify', 'crm']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /crm: FAILED/);
    assert.match(r.stdout, /FAIL checksum: db\/crm-2026-03-02T020000Z\.pgdump: content differs from what the job wrote \(corrupted\)/);
  });
});

describe('docs/restore.md, by hand: MySQL and PostgreSQL blocks run literally', () => {
  it('loads the newest dumps into new databases with mysql and pg_restore: the same data as tierback restores', async () => {
    const base = { PATH: `${process.env['PATH'] ?? '/usr/bin:/bin'}:${PG_BIN}`, HOME: root };
    const shopDir = path.join(appOf(site, 'shop').mount, 'db.example.com/shop');
    // The reader's own client settings, as the runbook says (~/.my.cnf).
    await writeFile(path.join(root, '.my.cnf'), `[client]\nsocket=${my.socket}\nuser=root\n`, { mode: 0o600 });
    const out = await runBlock('manual-mysql-restore', { ...base, SRC: shopDir });
    assert.match(out, /items\ntags/);
    assert.equal(await my.sql('SELECT id, name FROM items ORDER BY id', 'shop_restored'), await my.sql('SELECT id, name FROM items ORDER BY id', 'shop_latest'));
    const crmDir = path.join(appOf(site, 'crm').mount, 'db.example.com/crm');
    // The newest crm dump was corrupted above: the runbook's commands fail loudly instead of loading half of it.
    await assert.rejects(runBlock('manual-postgresql-restore', { ...base, SRC: crmDir, PGHOST: pg.socketDir, PGPORT: String(pg.port), PGUSER: 'postgres' }), /failed/);
    await pg.sql('DROP DATABASE crm_restored'); // as the runbook says after a failed load
    const day1 = path.join(root, 'crm-day1');
    const { mkdir, link } = await import('node:fs/promises');
    await mkdir(path.join(day1, 'db'), { recursive: true });
    const first = (await readdir(path.join(crmDir, 'db'))).sort()[0]!;
    await link(path.join(crmDir, 'db', first), path.join(day1, 'db', first));
    const pgOut = await runBlock('manual-postgresql-restore', { ...base, SRC: day1, PGHOST: pg.socketDir, PGPORT: String(pg.port), PGUSER: 'postgres' });
    assert.match(pgOut, /contacts/);
    assert.equal(await pg.sql('SELECT name FROM contacts ORDER BY id', 'crm_restored'), await pg.sql('SELECT name FROM contacts ORDER BY id', 'crm_day1'));
  });
});
