/**
 * Conformance: the same checks on every registered database engine (lib/tiers/engines/registry.ts). Each
 * engine's fixture makes a real dump with the real tool (mysqldump against MariaDB, pg_dump against
 * PostgreSQL, sqlite3) holding known rows; the suite checks that the registry finds the engine from
 * the file name, the completeness check passes it and fails a broken copy, the rows read from the
 * dump are the rows the database had, and (where a server can run here) the dump loads into a new
 * database whose counts match, which the engine then drops. An engine without a fixture fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile, truncate, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { createExec } from '../../../../lib/base/exec.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { engineOfFile, engines, checkDump } from '../../../../lib/tiers/engines/registry.js';
import type { DbConnection } from '../../../../lib/tiers/engines/types.js';
import { countDatabase, dropDatabase, runLoad } from '../../../../lib/tiers/restore/database.js';
import { tempDir } from '../../../helpers/tree.js';
import { archive } from '../../../unit/tiers/engines/mongo-archive-builder.js';
import { startMariaDb, type MariaDb } from '../../../helpers/mariadb.js';
import { PG_BIN, startPostgres, type Postgres } from '../../../helpers/postgres.js';

const exec = createExec(silentLogger());

interface EngineFixture {
  /** Writes a complete dump into `dir` (named as the runner names it) and returns its path. */
  dump(dir: string): Promise<string>;
  /** Rows per table the dump holds (as lib/tiers/engines/dumprows.ts names tables). */
  rows: Record<string, number>;
  /** Makes a broken copy of a complete dump the check must reject (default: the gzip'd text cut short). */
  breakDump?(file: string): Promise<void>;
  /** Where a loaded copy goes (a new name, or a new file for file-based engines) and the connection; undefined when no server can run here. */
  load?(dir: string): { target: string; conn: DbConnection };
  /** Why loading is not tested, when `load` is undefined. */
  noLoad?: string;
}

let my: MariaDb;
let pg: Postgres;
let root: string;
let cleanup: () => Promise<void>;

const sqliteSeed = "CREATE TABLE orders(id INTEGER PRIMARY KEY, item TEXT); INSERT INTO orders(item) VALUES ('a'),('b'),('c'); CREATE TABLE notes(t TEXT); INSERT INTO notes VALUES ('x;y');";

/** Cuts the decompressed text of a gzip'd dump to its first half and compresses it again. */
async function cutGzipShort(file: string): Promise<void> {
  const text = gunzipSync(await readFile(file));
  await writeFile(file, gzipSync(text.subarray(0, Math.floor(text.length / 2))));
}

async function gzipTo(argv: string[], file: string): Promise<void> {
  const child = execa(argv[0]!, argv.slice(1), { buffer: false });
  await Promise.all([pipeline(child.stdout!, createGzip(), createWriteStream(file)), child]);
}

const fixtures: Record<string, EngineFixture> = {
  mysql: {
    rows: { orders: 3, notes: 1 },
    async dump(dir) {
      const file = path.join(dir, 'shop-2026-02-01T030000Z.mysql.sql.gz');
      await gzipTo(['mysqldump', `--socket=${my.socket}`, '-uroot', '--single-transaction', '--', 'shop'], file);
      return file;
    },
    load: () => ({ target: 'shop_conformance', conn: { socket: my.socket, user: 'root' } }),
  },
  postgresql: {
    rows: { 'public.orders': 3, 'public.notes': 1 },
    async dump(dir) {
      const file = path.join(dir, 'crm-2026-02-01T030000Z.pgdump');
      await execa(path.join(PG_BIN, 'pg_dump'), ['--format=custom', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', `--file=${file}`, 'crm']);
      return file;
    },
    // The table of contents sits at the start of a custom-format dump: cut into it.
    breakDump: (file) => truncate(file, 40),
    load: () => ({ target: 'crm_conformance', conn: { socket: pg.socketDir, port: pg.port, user: 'postgres' } }),
  },
  sqlite: {
    rows: { orders: 3, notes: 1 },
    async dump(dir) {
      const db = path.join(dir, 'live.sqlite3');
      await execa('sqlite3', [db, sqliteSeed]);
      const file = path.join(dir, 'live-2026-02-01T030000Z.sqlite.sql.gz');
      await gzipTo(['sqlite3', '-readonly', db, '.dump'], file);
      return file;
    },
    load: (dir) => ({ target: path.join(dir, 'restored.sqlite3'), conn: {} }),
  },
  mongodb: {
    rows: { orders: 3, notes: 1 },
    // No MongoDB server can be installed here: the archive is built in mongodump's format by the test.
    async dump(dir) {
      const file = path.join(dir, 'shop-2026-02-01T030000Z.mongodb.archive.gz');
      await writeFile(file, gzipSync(archive('shop', { orders: 3, notes: 1 })));
      return file;
    },
    noLoad: 'no MongoDB server can be installed here (docs/jobs/mongodb.md); mongorestore and the drill commands are tested as data in test/unit/tiers/engines/mongodb.test.ts',
  },
};

describe('conformance: every registered database engine', () => {
  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
    [my, pg] = await Promise.all([startMariaDb(), startPostgres()]);
    await my.sql("CREATE DATABASE shop; CREATE TABLE shop.orders(id INT PRIMARY KEY AUTO_INCREMENT, item TEXT); INSERT INTO shop.orders(item) VALUES ('a'),('b'),('c'); CREATE TABLE shop.notes(t TEXT); INSERT INTO shop.notes VALUES ('x;y');");
    await pg.sql('CREATE DATABASE crm');
    await pg.sql("CREATE TABLE orders(id serial PRIMARY KEY, item text); INSERT INTO orders(item) VALUES ('a'),('b'),('c'); CREATE TABLE notes(t text); INSERT INTO notes VALUES ('x;y');", 'crm');
  });
  after(async () => {
    await Promise.all([my?.stop(), pg?.stop()]);
    await cleanup?.();
  });

  for (const engine of engines) {
    it(`${engine.name}: has a fixture, its dumps are found by name, checked, counted, loaded and dropped`, async () => {
      const f = fixtures[engine.name];
      assert.ok(f, `engine "${engine.name}" has no conformance fixture in test/integration/tiers/engines/conformance.test.ts`);
      const dir = path.join(root, engine.name);
      await execa('mkdir', ['-p', dir]);
      const file = await f.dump(dir);
      const found = engineOfFile(path.basename(file));
      assert.equal(found?.engine.name, engine.name, `${path.basename(file)} is not found as a ${engine.name} dump`);
      assert.equal(await checkDump(file, found!.kind.check, exec), undefined, 'a complete dump passes its check');

      const facts = await engine.dumpFacts(file, exec);
      assert.deepEqual(Object.fromEntries(facts.tableRows ?? []), f.rows, 'rows read from the dump');

      const broken = path.join(dir, `broken-${path.basename(file)}`);
      await execa('cp', [file, broken]);
      await (f.breakDump ?? cutGzipShort)(broken);
      assert.ok((await stat(broken)).size > 0);
      assert.match((await checkDump(broken, found!.kind.check, exec)) ?? '', /./, 'a broken dump fails its check');

      if (!f.load) {
        assert.ok(f.noLoad, `engine "${engine.name}": a fixture without load says why`);
        return;
      }
      assert.ok(found!.kind.loadable);
      const { target, conn } = f.load(dir);
      engine.checkNewName(target);
      await runLoad(exec, engine.name, file, target, conn);
      const counts = await countDatabase(exec, engine.name, target, conn);
      assert.deepEqual(Object.fromEntries(counts.tableRows), f.rows, 'rows of the loaded database');
      await assert.rejects(runLoad(exec, engine.name, file, target, conn), 'loading into a database that exists fails');
      assert.equal(await dropDatabase(exec, engine.name, target, conn), undefined);
      // Loading into a name that exists fails for every engine: a second load succeeding shows the drop worked.
      await runLoad(exec, engine.name, file, target, conn);
      assert.equal(await dropDatabase(exec, engine.name, target, conn), undefined);
    });
  }
});
