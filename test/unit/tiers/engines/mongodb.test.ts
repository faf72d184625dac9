/**
 * The mongodb engine and job type without a MongoDB server (none can be installed here): the plan
 * and the load commands as data, and the archive check on archives this test builds in mongodump's
 * `--archive --gzip` format (docs/jobs/mongodb.md says what was and was not run against a server).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createExec } from '../../../../lib/base/exec.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { checkDump, checkForFile, engineOfFile } from '../../../../lib/tiers/engines/registry.js';
import { mongoConfigFile, mongodbEngine, uriWithPassword } from '../../../../lib/tiers/engines/mongodb.js';
import { scanMongoArchive } from '../../../../lib/tiers/engines/mongodb-archive.js';
import { archive, bson } from './mongo-archive-builder.js';
import { planJob } from '../../../../lib/tiers/jobs/run.js';
import { verifyDumps } from '../../../../lib/tiers/jobs/common.js';
import { planLoad } from '../../../../lib/tiers/restore/database.js';
import { appOf, jobSite } from '../../../helpers/jobsite.js';
import { tempDir } from '../../../helpers/tree.js';

const exec = createExec(silentLogger());

/** Feeds a buffer in small, uneven chunks (documents and headers split across reads). */
async function* chunks(b: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0, n = 1; i < b.length; i += n, n = (n * 7) % 4093 + 1) yield b.subarray(i, i + n);
}

describe('mongodb engine: the archive check', () => {
  it('reads a complete archive fed in uneven chunks: every collection, its documents, all ended', async () => {
    const s = await scanMongoArchive(chunks(archive('shop', { orders: 5, users: 2, empty: 0 }, { bigDoc: true })));
    assert.deepEqual(s.collections, ['shop.orders', 'shop.users', 'shop.empty']);
    assert.deepEqual(Object.fromEntries(s.documents), { 'shop.orders': 5, 'shop.users': 2, 'shop.empty': 0 });
  });
  it('rejects an archive cut anywhere: inside a document, a header, after a segment, before the EOF headers', async () => {
    const full = archive('shop', { orders: 5, users: 2 });
    const eofStart = full.length - 2 * (bson({ db: 'shop', collection: 'orders', EOF: true, CRC: 0n }).length + 4);
    for (const cut of [0, 3, 4, 30, Math.floor(full.length / 2), eofStart, full.length - 4, full.length - 1]) {
      await assert.rejects(scanMongoArchive(chunks(full.subarray(0, cut))), /not a complete mongodump archive/, `cut at ${cut} of ${full.length}`);
    }
  });
  it('rejects a collection with no EOF header (mongodump stopped early), a wrong magic number and bytes after the end', async () => {
    await assert.rejects(scanMongoArchive(chunks(archive('shop', { orders: 3, users: 1 }, { dropEof: 'users' }))), /no EOF header for shop\.users/);
    const bad = Buffer.from(archive('shop', { orders: 1 }));
    bad[0] = 0;
    await assert.rejects(scanMongoArchive(chunks(bad)), /magic number/);
    await assert.rejects(scanMongoArchive(chunks(Buffer.concat([archive('shop', { orders: 1 }), Buffer.from([1, 2])]))), /not a complete/);
  });
  it('checks a gzip\'d archive file by its name, and counts its documents for the manifest', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'shop-2026-02-01T030000Z.mongodb.archive.gz');
      await writeFile(file, gzipSync(archive('shop', { orders: 5, users: 2 })));
      assert.equal(engineOfFile(file)?.engine, mongodbEngine);
      assert.equal(checkForFile(file), 'mongodump');
      assert.equal(await checkDump(file, 'mongodump', exec), undefined);
      assert.deepEqual(await mongodbEngine.dumpFacts(file, exec), { tables: 2, rows: 7, tableRows: new Map([['orders', 5], ['users', 2]]) });
      const cut = path.join(dir, 'db', 'shop-2026-02-01T040000Z.mongodb.archive.gz');
      await mkdir(path.dirname(cut));
      await writeFile(cut, gzipSync(archive('shop', { orders: 5, users: 2 }).subarray(0, 120)));
      assert.match((await checkDump(cut, 'mongodump', exec)) ?? '', /not a complete mongodump archive/);
      assert.deepEqual((await verifyDumps(dir, exec)).map((p) => p.path), ['db/shop-2026-02-01T040000Z.mongodb.archive.gz']);
    } finally {
      await cleanup();
    }
  });
});

describe('mongodb job type: plans and loads as data', () => {
  it('dumps each database with mongodump --archive --gzip; the URI and password only in a 0600 --config file', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const uriFile = path.join(dir, 'uri');
      const pwFile = path.join(dir, 'pw');
      await writeFile(uriFile, 'mongodb://backup@db1.example.com:27017/?authSource=admin\n', { mode: 0o600 });
      await writeFile(pwFile, 's3cret "pw"\n', { mode: 0o600 });
      const site = await jobSite(dir, [{ name: 'docs', type: 'mongodb', path: '/var/lib/mongodb', relpath: 'mongo.example.com', options: { databases: ['shop', 'crm'], uri_file: uriFile, password_file: pwFile } }]);
      const plan = await planJob(site, appOf(site, 'docs'));
      const dumps = plan.steps.filter((s) => s.kind === 'dump');
      assert.equal(dumps.length, 2);
      const [shop] = dumps;
      assert.ok(shop?.kind === 'dump');
      const config = plan.secretFiles[0]!;
      assert.deepEqual(shop.command.argv, ['mongodump', `--config=${config.path}`, '--db=shop', '--archive', '--gzip']);
      assert.equal(shop.compress, false);
      assert.equal(shop.check, 'mongodump');
      assert.match(path.basename(shop.file), /^shop-.*\.mongodb\.archive\.gz$/);
      assert.ok(config.path.startsWith(plan.secretDir + '/'));
      assert.equal(config.content, 'uri: "mongodb://backup@db1.example.com:27017/?authSource=admin"\npassword: "s3cret \\"pw\\""\n');
      const printed = JSON.stringify({ ...plan, secretFiles: [] });
      assert.doesNotMatch(printed, /s3cret|backup@/, 'neither the password nor the URI\'s user in argv or sources');
      assert.deepEqual(plan.sources, ['mongodb://db1.example.com:27017/shop,crm']);
    } finally {
      await cleanup();
    }
  });
  it('loads a dump into a NEW database with mongorestore, renaming its namespaces; no secret in argv', () => {
    const conn = { uri: 'mongodb://backup@db1:27017/?authSource=admin', password: 'pw!' };
    const p = planLoad('mongodb', '/b/db/shop-2026-02-01T030000Z.mongodb.archive.gz', 'shop_restored', conn, '/tmp/x/secret');
    assert.deepEqual(p.steps, [
      {
        kind: 'run',
        command: { argv: ['mongorestore', '--config=/tmp/x/secret', '--archive=/b/db/shop-2026-02-01T030000Z.mongodb.archive.gz', '--gzip', '--nsInclude=shop.*', '--nsFrom=shop.*', '--nsTo=shop_restored.*', '--stopOnError'] },
      },
    ]);
    assert.doesNotMatch(JSON.stringify(p), /pw!|backup@/);
    assert.throws(() => mongodbEngine.checkNewName('shop`; x'), /not a plain database name/);
    assert.equal(mongoConfigFile({}), 'uri: "mongodb://localhost:27017"\n');
    assert.equal(uriWithPassword('mongodb://backup@db1/?x=1', 'p@ss/'), 'mongodb://backup:p%40ss%2F@db1/?x=1');
  });
});
