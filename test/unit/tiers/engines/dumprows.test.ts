import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { countMysqlDumpRows, countPgCopyRows, countSqliteDumpRows, PREFIX_MAX } from '../../../../lib/tiers/engines/dumprows.js';

/** Feeds `text` in chunks of `size` bytes, so statements straddle chunk borders. */
function chunks(text: string, size: number): Readable {
  const b = Buffer.from(text);
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts);
}
const obj = (m: Map<string, number>) => Object.fromEntries(m);

const MYSQL = [
  '-- MariaDB dump 10.19',
  '/*!40101 SET NAMES utf8mb4 */;',
  'DROP TABLE IF EXISTS `items`;',
  'CREATE TABLE `items` (',
  '  `id` int(11) NOT NULL,',
  '  `name` text DEFAULT NULL',
  ') ENGINE=InnoDB;',
  'LOCK TABLES `items` WRITE;',
  "INSERT INTO `items` VALUES (1,'pen'),(2,'it\\'s (ink)'),(3,'a \\\\'),(4,'semi; colon),(x'),(5,\"dq ' )\"),(6,0xDEADBEEF);",
  "INSERT INTO `items` VALUES (7,'bracket ( open');",
  'INSERT INTO `items` VALUES',
  "(8,'one tuple per line, as MariaDB 10.11 writes them'),",
  "(9,'x\\n;');",
  'UNLOCK TABLES;',
  'CREATE TABLE `odd``name` (`id` int);',
  'INSERT INTO `odd``name` VALUES (1);',
  'CREATE TABLE `empty` (`id` int);',
  'DELIMITER ;;',
  "/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON items FOR EACH ROW BEGIN",
  'INSERT INTO `empty` VALUES (NEW.id),(2);',
  'END */;;',
  'DELIMITER ;',
  '',
].join('\n');

describe('dumprows: mysqldump', () => {
  for (const size of [1, 7, 64, 1 << 20]) {
    it(`counts row tuples per table, respecting quotes, escapes and trigger bodies (chunks of ${size})`, async () => {
      const c = await countMysqlDumpRows(chunks(MYSQL, size));
      assert.deepEqual(obj(c.rows), { items: 9, 'odd`name': 1 });
      assert.equal(c.tables, 3);
    });
  }

  it('names tables db.table after USE in --all-databases dumps', async () => {
    const c = await countMysqlDumpRows(chunks('USE `a`;\nINSERT INTO `t` VALUES (1),(2);\nUSE `b`;\nINSERT INTO `t` VALUES (1);\n', 5));
    assert.deepEqual(obj(c.rows), { 'a.t': 2, 'b.t': 1 });
  });

  it('counts a line longer than the prefix kept in memory', async () => {
    const big = 'x'.repeat(PREFIX_MAX * 3);
    const c = await countMysqlDumpRows(chunks(`INSERT INTO \`t\` VALUES ('${big}'),('${big}(');\nINSERT INTO \`t\` VALUES (3);\n`, 1000));
    assert.deepEqual(obj(c.rows), { t: 3 });
  });

  it('rejects a dump cut inside an INSERT', async () => {
    await assert.rejects(countMysqlDumpRows(chunks("INSERT INTO `t` VALUES (1),(2,'abc", 3)), /ends inside an INSERT into table t/);
  });
});

describe('dumprows: pg_restore --data-only', () => {
  const PG = [
    'SET statement_timeout = 0;',
    'COPY public.contacts (id, name) FROM stdin;',
    '1\tada',
    '2\tline\\nbreak',
    '3\t',
    '\\.',
    '',
    'COPY public."Odd Name" (id) FROM stdin;',
    '\\.',
    'COPY app.t  FROM stdin;',
    '',
    '\\.',
    "SELECT pg_catalog.setval('public.s', 3, true);",
    '',
  ].join('\n');
  for (const size of [1, 5, 4096]) {
    it(`counts the lines of each COPY block (chunks of ${size})`, async () => {
      const c = await countPgCopyRows(chunks(PG, size));
      assert.deepEqual(obj(c.rows), { 'public.contacts': 3, 'public."Odd Name"': 0, 'app.t': 1 });
    });
  }
  it('rejects data cut inside a COPY block', async () => {
    await assert.rejects(countPgCopyRows(chunks('COPY public.t (id) FROM stdin;\n1\n', 4)), /inside the data of table public\.t/);
  });
});

describe('dumprows: sqlite3 .dump', () => {
  it('counts INSERT lines per table, sqlite_ tables left out', async () => {
    const text = ['CREATE TABLE t(a);', 'INSERT INTO t VALUES(1);', 'INSERT INTO t VALUES(2);', 'CREATE TABLE "my t"(a);', 'INSERT INTO "my t" VALUES(\'x\');', 'CREATE TABLE sqlite_sequence(name,seq);', "INSERT INTO sqlite_sequence VALUES('t',2);", ''].join('\n');
    const c = await countSqliteDumpRows(chunks(text, 3));
    assert.deepEqual(obj(c.rows), { t: 2, 'my t': 1 });
    assert.equal(c.tables, 2);
  });
});
