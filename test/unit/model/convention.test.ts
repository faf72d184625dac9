import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as C from '../../../lib/model/convention.js';

describe('convention: paths of the example site', () => {
  it('puts the Hydro demo of VM web on zg-3 at its documented local and remote paths', () => {
    assert.equal(C.localAppDir('/v01/backup', 'web', 'v2.softxs.ch/hydro'), '/v01/backup/local/web/v2.softxs.ch/hydro');
    assert.equal(C.remoteAppDir('/v01/backup', 'zg-3.softxs.ch', 'web', 'v2.softxs.ch/hydro'), '/v01/backup/remote/zg-3.softxs.ch/web/v2.softxs.ch/hydro');
  });
  it('gives the tier roots under the partition', () => {
    assert.equal(C.localRoot('/v01/backup'), '/v01/backup/local');
    assert.equal(C.remoteServerDir('/v01/backup', 'zg-1.softxs.ch'), '/v01/backup/remote/zg-1.softxs.ch');
  });
  it('places apps running directly on a server under the reserved VM name', () => {
    assert.equal(C.localAppDir('/v01/backup', C.HOST_VM, 'coya.softxs.ch'), '/v01/backup/local/_host/coya.softxs.ch');
    assert.equal(C.checkVmName(C.HOST_VM), undefined);
  });
  it('sees the app folder from inside the VM through its mount point', () => {
    assert.equal(C.vmAppDir('/backup', 'www.softxs.ch'), '/backup/www.softxs.ch');
    assert.equal(C.vmHistoryDir('/backup'), '/backup/_history');
  });
  it('keeps job history inside the VM tree so pulls carry it', () => {
    const h = C.jobHistoryDir('/v01/backup', 'web');
    assert.ok(h.startsWith(C.localVmDir('/v01/backup', 'web') + '/'));
    assert.equal(C.remoteJobHistoryDir('/v01/backup', 'zg-3.softxs.ch', 'web'), '/v01/backup/remote/zg-3.softxs.ch/web/_history');
  });
  it('names snapshots by UTC stamp without colons and parses them back', () => {
    const at = new Date('2026-11-22T01:30:05Z');
    const s = C.snapshotStamp(at);
    assert.equal(s, '2026-11-22T013005Z');
    assert.ok(!s.includes(':'));
    assert.equal(C.parseSnapshotStamp(s)?.toISOString(), at.toISOString());
    assert.equal(C.snapshotDir('/v01/backup', 'zg-3.softxs.ch', s), '/v01/backup/snapshots/zg-3.softxs.ch/2026-11-22T013005Z');
    assert.equal(C.partialSnapshotDir('/p', 'a.b', s), '/p/snapshots/a.b/2026-11-22T013005Z.partial');
    assert.equal(C.currentLinkTarget('a.b', s), '../snapshots/a.b/2026-11-22T013005Z');
    assert.equal(C.parseSnapshotStamp('2026-13-45T999999Z'), undefined);
  });
  it('names history files backup-<name>-<yyyymmdd> and parses them back', () => {
    assert.equal(C.historyFileName('hydro', '20261122'), 'backup-hydro-20261122');
    assert.deepEqual(C.parseHistoryFileName('backup-pull-zg-3.softxs.ch-20261122'), { name: 'pull-zg-3.softxs.ch', day: '20261122' });
    assert.equal(C.parseHistoryFileName('backup-hydro-2026112'), undefined);
    assert.throws(() => C.historyFileName('hydro', '2026-11-22'));
  });
});

describe('convention: relpath rules', () => {
  const valid = ['www.softxs.ch', 'v2.softxs.ch/hydro', 'intern.softxs.ch/tracking', 'wiki', 'a.b/c_d/e-f/g.h'];
  for (const r of valid) it(`accepts "${r}"`, () => assert.equal(C.checkRelpath(r), undefined));

  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['/v2.softxs.ch/hydro', /absolute/],
    ['v2.softxs.ch/../etc', /traversal/],
    ['../etc/passwd', /traversal/],
    ['v2.softxs.ch/./hydro', /"\." segment/],
    ['v2.softxs.ch//hydro', /empty segment/],
    ['v2.softxs.ch/hydro/', /ends with/],
    ['v2.softxs.ch/%2e%2e/etc', /percent/],
    ['V2.softxs.ch', /upper-case/],
    ['v2.softxs.ch/hydro\u2024\u2024', /non-ASCII.*U\+2024/],
    ['v2.softxs.ch/\u0430pp', /non-ASCII/],
    ['v2.softxs.ch\\hydro', /backslash/],
    ['-rf.softxs.ch', /DNS label/],
    ['v2.softxs.ch/-rf', /invalid segment/],
    ['v2.softxs.ch/.hidden', /invalid segment/],
    ['v2.softxs.ch/_history', /invalid segment/],
    ['_history', /DNS label/],
    ['a'.repeat(64) + '.ch', /longer than 63/],
    ['x.ch/' + 'a'.repeat(300), /characters long/],
    ['v2.softxs.ch/a b', /invalid segment/],
  ];
  for (const [r, re] of invalid) {
    it(`rejects ${JSON.stringify(r.length > 40 ? r.slice(0, 40) + '…' : r)} with a reason and a hint`, () => {
      const v = C.checkRelpath(r);
      assert.ok(v, 'expected a violation');
      assert.match(v.message, re);
      assert.ok(v.hint.length > 0);
    });
  }
  it('rejects non-strings', () => assert.ok(C.checkRelpath(42)));
  it('refuses to build a path from an invalid relpath', () => {
    assert.throws(() => C.localAppDir('/v01/backup', 'web', '../../etc'), /invalid relpath/);
    assert.throws(() => C.localAppDir('/v01/backup', '../x', 'a.ch'), /invalid vm/);
  });
});

describe('convention: names and partitions', () => {
  it('accepts DNS-label VM names and the reserved host name only', () => {
    assert.equal(C.checkVmName('web'), undefined);
    assert.equal(C.checkVmName('v0402'), undefined);
    for (const bad of ['_web', 'Web', 'we b', '-web', 'web-', '', 'a/b', '..']) assert.ok(C.checkVmName(bad), bad);
  });
  it('accepts absolute normal partitions only', () => {
    assert.equal(C.checkPartition('/v01/backup'), undefined);
    for (const bad of ['v01/backup', '/', '/v01/backup/', '/v01/../etc', '/v01//backup', '/v01/back up']) assert.ok(C.checkPartition(bad), bad);
  });
  it('accepts app names used in history file names', () => {
    assert.equal(C.checkAppName('hydro'), undefined);
    assert.ok(C.checkAppName('Hydro'));
    assert.ok(C.checkAppName('a/b'));
  });
  it('splits a path under a root, refusing paths outside it', () => {
    assert.deepEqual(C.segmentsUnder('/v01/backup', '/v01/backup/local/web'), ['local', 'web']);
    assert.deepEqual(C.segmentsUnder('/v01/backup', '/v01/backup'), []);
    assert.equal(C.segmentsUnder('/v01/backup', '/v01/backup2/local'), undefined);
    assert.equal(C.segmentsUnder('/v01/backup', '/etc'), undefined);
  });
});
