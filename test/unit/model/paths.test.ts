import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EXAMPLE } from '../../helpers/cli.js';
import { parseInventory } from '../../../lib/site/load.js';
import { findApp } from '../../../lib/model/inventory/model.js';
import { appPaths, whichPath } from '../../../lib/model/paths.js';

const site = parseInventory(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);

describe('paths: every path of an app', () => {
  it('gives the documented local and remote paths for the Hydro demo', () => {
    const paths = appPaths(site, findApp(site, 'hydro'));
    const get = (kind: string) => paths.filter((p) => p.kind === kind).map((p) => p.path);
    assert.deepEqual(get('local'), ['/v01/backup/local/web/v2.softxs.ch/hydro']);
    assert.deepEqual(get('vm'), ['/backup/v2.softxs.ch/hydro']);
    assert.deepEqual(get('remote'), ['/v01/backup/remote/zg-3.softxs.ch/web/v2.softxs.ch/hydro', '/v01/backup/remote/zg-3.softxs.ch/web/v2.softxs.ch/hydro']);
    assert.deepEqual(paths.filter((p) => p.kind === 'remote').map((p) => p.host), ['odin.softxs.ch', 'loki.softxs.ch']);
  });
  it('gives no VM view for an app running directly on its server', () => {
    const paths = appPaths(site, findApp(site, 'coya'));
    assert.equal(paths.filter((p) => p.kind === 'vm').length, 0);
    assert.deepEqual(paths.filter((p) => p.kind === 'local').map((p) => p.path), ['/v01/backup/local/_host/coya.softxs.ch']);
  });
});

describe('which: the reverse lookup inverts paths', () => {
  for (const app of site.apps) {
    it(`maps every folder path of "${app.name}" back to it`, () => {
      for (const p of appPaths(site, app)) {
        if (p.path.includes('<stamp>')) continue;
        const owners = whichPath(site, p.path);
        assert.ok(owners.length > 0, `no owner for ${p.path}`);
        if (p.kind === 'local' || p.kind === 'vm' || p.kind === 'remote') {
          const mine = owners.filter((o) => o.app === app.name);
          assert.equal(mine.length, 1, `${p.path} -> ${JSON.stringify(owners)}`);
          assert.equal(mine[0]!.server, app.server);
          assert.equal(mine[0]!.vm, app.vm);
          assert.equal(mine[0]!.tier, p.kind);
          assert.equal(mine[0]!.inner, '');
        } else if (p.kind.startsWith('history')) {
          assert.ok(owners.some((o) => o.tier === 'history' || /history/.test(o.what ?? '')), `${p.path} -> ${JSON.stringify(owners)}`);
        }
      }
    });
  }
  it('resolves a file inside a dated snapshot to its app, date and inner path', () => {
    const [o] = whichPath(site, '/v01/backup/snapshots/zg-3.softxs.ch/2026-11-21T030000Z/web/v2.softxs.ch/hydro/db/hydro-2026-11-21T013000Z.sql.gz');
    assert.equal(o?.tier, 'snapshot');
    assert.equal(o?.app, 'hydro');
    assert.equal(o?.snapshot, '2026-11-21T030000Z');
    assert.equal(o?.inner, 'db/hydro-2026-11-21T013000Z.sql.gz');
  });
  it('tells a pull in progress from a complete snapshot', () => {
    const [o] = whichPath(site, '/v01/backup/snapshots/zg-3.softxs.ch/2026-11-21T030000Z.partial/web/www.softxs.ch');
    assert.equal(o?.tier, 'partial-snapshot');
    assert.equal(o?.app, 'www');
  });
  it('names the app of a job history file', () => {
    const [o] = whichPath(site, '/v01/backup/local/web/_history/backup-hydro-20261122');
    assert.equal(o?.app, 'hydro');
    assert.match(o?.what ?? '', /job history, 20261122/);
  });
  it('names the app of a move record (local tier and snapshots)', () => {
    const [o] = whichPath(site, '/v01/backup/local/web/_moves/hydro');
    assert.equal(o?.app, 'hydro');
    assert.equal(o?.what, 'move record of hydro');
    assert.equal(whichPath(site, '/v01/backup/snapshots/zg-3.softxs.ch/2026-11-21T030000Z/web/_moves/hydro')[0]?.what, 'move record of hydro');
  });
  it('tells apps with the same relpath on different VMs apart', () => {
    assert.equal(whichPath(site, '/v01/backup/local/intern/intern.softxs.ch/tracking')[0]?.app, 'tracking');
    assert.equal(whichPath(site, '/v01/backup/local/v0402/intern.softxs.ch/tracking')[0]?.app, 'roadnotes');
  });
  it('normalises the path lexically and ignores a trailing slash', () => {
    assert.equal(whichPath(site, '/v01/backup/local/web/./v2.softxs.ch/hydro/')[0]?.app, 'hydro');
    assert.equal(whichPath(site, '/v01/backup/local/web/x/../v2.softxs.ch/hydro')[0]?.app, 'hydro');
  });
  it('finds no owner for paths outside every partition, or of unknown VMs and servers', () => {
    assert.deepEqual(whichPath(site, '/etc/passwd'), []);
    assert.deepEqual(whichPath(site, '/v01/backup/local/nosuchvm/a.ch'), []);
    assert.deepEqual(whichPath(site, '/v01/backup/remote/evil.example.com/web'), []);
    assert.deepEqual(whichPath(site, '/v01/backup/local/web/unknown.softxs.ch'), []);
  });
  it('refuses a relative path', () => {
    assert.throws(() => whichPath(site, 'v01/backup/local'), /not an absolute path/);
  });
});
