import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findApp } from '../../../lib/model/inventory/model.js';
import { parseInventory } from '../../../lib/site/load.js';
import { appendMoveRecord, appPlaces, formatMoveRecord, parseMoveRecord, readMoveRecords, type MoveRecord } from '../../../lib/model/places.js';
import { moveRecordPath } from '../../../lib/model/convention.js';
import { makeTree, tempDir } from '../../helpers/tree.js';

const rec: MoveRecord = {
  at: new Date('2026-09-03T10:00:00Z'),
  app: 'wiki',
  from: { server: 'a.test', vm: 'va', relpath: 'wiki.example.org', partition: '/v01/backup' },
  to: { server: 'b.test', vm: '_host', relpath: 'wiki.example.org/w', partition: '/v02/backup' },
  host: 'a.test',
};

describe('move records (docs/convention.md#move-records)', () => {
  it('is one logfmt line per move that reads back as written', () => {
    const line = formatMoveRecord(rec);
    assert.equal(line, 'v=1 at=2026-09-03T10:00:00.000Z app=wiki from_server=a.test from_vm=va from_relpath=wiki.example.org from_partition=/v01/backup to_server=b.test to_vm=_host to_relpath=wiki.example.org/w to_partition=/v02/backup host=a.test');
    assert.deepEqual(parseMoveRecord(line), rec);
  });

  it('rejects a place the convention rejects (traversal in a relpath)', () => {
    assert.throws(() => parseMoveRecord(formatMoveRecord({ ...rec, to: { ...rec.to, relpath: 'wiki.example.org/../../etc' } })), /bad to_relpath/);
  });

  it('the record file is under <vm tree>/_moves/<app>, and app names cannot escape it', () => {
    assert.equal(moveRecordPath('/v01/backup/local/va', 'wiki'), '/v01/backup/local/va/_moves/wiki');
    assert.throws(() => moveRecordPath('/v01/backup/local/va', '../x'));
  });

  it('appends with a header, 0600, once per move (a move run again adds nothing), skipping damaged lines on reading', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, '_moves', 'wiki');
      assert.deepEqual(await readMoveRecords(file), []);
      assert.equal(await appendMoveRecord(file, rec), true);
      assert.equal(await appendMoveRecord(file, { ...rec, at: new Date('2026-09-03T11:00:00Z') }), false);
      const back = { ...rec, at: new Date('2026-09-05T10:00:00Z'), from: rec.to, to: rec.from };
      assert.equal(await appendMoveRecord(file, back), true);
      assert.equal(((await stat(file)).mode & 0o777).toString(8), '600');
      assert.equal(((await stat(path.dirname(file))).mode & 0o777).toString(8), '700');
      await writeFile(file, `${await readFile(file, 'utf8')}garbage line\n`);
      const text = await readFile(file, 'utf8');
      assert.match(text, /^# tierback moves v1/);
      assert.deepEqual((await readMoveRecords(file)).map((r) => `${r.from.server}->${r.to.server}`), ['a.test->b.test', 'b.test->a.test']);
    } finally {
      await cleanup();
    }
  });
});

describe('appPlaces: where an app has lived, seen from a backup server', () => {
  it('never takes another app with the same relpath on another VM for it; takes a VM holding its move record', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const pa = path.join(dir, 'a');
      const pb = path.join(dir, 'b');
      const text = `version: 1
servers:
  - { fqdn: a.test, partition: ${pa} }
  - { fqdn: backup.test, partition: ${pb}, role: backup }
vms:
  - { name: va, server: a.test }
  - { name: vx, server: a.test }
apps:
  - { name: wiki, server: a.test, vm: va, path: /srv/wiki, relpath: wiki.example.org, type: files }
  - { name: other, server: a.test, vm: vx, path: /srv/other, relpath: wiki.example.org, type: files }
backup_servers:
  - { server: backup.test, pulls: [a.test] }
`;
      const site = parseInventory(text, path.join(dir, 'inv.yaml'));
      const snap = path.join(pb, 'snapshots/a.test/2026-09-01T020000Z');
      await makeTree(snap, { vx: { 'wiki.example.org': { 'f.txt': 'other' }, _history: { 'backup-other-20260901': 'x\n' } } });
      const wiki = findApp(site, 'wiki');
      assert.deepEqual(await appPlaces(site, wiki), [{ server: 'a.test', vm: 'va', relpath: 'wiki.example.org' }]);
      await appendMoveRecord(moveRecordPath(path.join(snap, 'vx'), 'wiki'), { ...rec, from: { ...rec.from, vm: 'vx' }, to: { server: 'a.test', vm: 'va', relpath: 'wiki.example.org', partition: pa } });
      assert.deepEqual(await appPlaces(site, wiki), [
        { server: 'a.test', vm: 'va', relpath: 'wiki.example.org' },
        { server: 'a.test', vm: 'vx', relpath: 'wiki.example.org' },
      ]);
    } finally {
      await cleanup();
    }
  });
});
