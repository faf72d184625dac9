/** `tierback orphans` on a crafted partition below --root, with the example site. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { EXAMPLE, tierback } from '../../../helpers/cli.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

let dir: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-orphans-'));
  await makeTree(path.join(dir, 'v01/backup'), {
    local: {
      web: {
        'www.softxs.ch': { 'index.html': 'x' },
        'v2.softxs.ch': { hydro: { db: {} }, 'old-demo': { 'a.txt': 'left behind' } },
        '.www.softxs.ch.partial-20260301T013000-abc123': { 'half.txt': 'x' },
        '.www.softxs.ch.lock': '123 - host\n',
        _history: { 'backup-www-20260301': '', 'backup-gone-20260301': '' },
      },
      intern: { _history: {} },
      oldvm: { 'x.example.org': {} },
      _host: { 'coya.softxs.ch': {}, 'escape': { symlink: '/etc' } },
    },
    snapshots: {
      'zg-3.softxs.ch': { '2026-03-01T040000Z': { web: { 'www.softxs.ch': {}, 'v2.softxs.ch': { hydro: {} } }, gone: { 'g.example.org': {} } } },
      'old.example.org': { '2026-01-01T040000Z': {} },
    },
    remote: { 'zg-3.softxs.ch': { symlink: '../snapshots/zg-3.softxs.ch/2026-03-01T040000Z' } },
  });
});
after(async () => cleanup());

describe('orphans', () => {
  it('lists folders, VMs, history, leftovers, symlinks and servers no inventory entry owns, and exits 1', async () => {
    const r = await tierback(['orphans', '-i', EXAMPLE, '--root', dir, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const rep = JSON.parse(r.stdout) as { orphans: { kind: string; path: string; tier: string }[]; missing: { app: string }[] };
    assert.deepEqual(
      rep.orphans.map((o) => `${o.kind} ${o.tier} ${o.path}`).sort(),
      [
        'folder local /v01/backup/local/web/v2.softxs.ch/old-demo',
        'history local /v01/backup/local/web/_history/backup-gone-20260301',
        'leftover local /v01/backup/local/web/.www.softxs.ch.partial-20260301T013000-abc123',
        'server snapshots /v01/backup/snapshots/old.example.org',
        'symlink local /v01/backup/local/_host/escape',
        'vm local /v01/backup/local/oldvm',
        'vm remote /v01/backup/remote/zg-3.softxs.ch/gone',
      ],
    );
    // intern and _host exist here: their apps without folders are missing; VMs absent here (wiki, v0402) are not guessed.
    assert.deepEqual(rep.missing.map((m) => m.app).sort(), ['cardenillo', 'drytech', 'hcmc2', 'idp', 'ilulissat', 'kejv', 'lagarfoss', 'sisimiut', 'tracking']);
  });
  it('with --server checks every app of that server', async () => {
    const r = await tierback(['orphans', '-i', EXAMPLE, '--root', dir, '--server', 'zg-3.softxs.ch', '--json']);
    const rep = JSON.parse(r.stdout) as { missing: { app: string }[] };
    assert.deepEqual(rep.missing.map((m) => m.app).sort(), ['roadnotes', 'tracking']);
  });
  it('prints a readable report and exits 0 when everything is owned', async () => {
    const clean = await tempDir('tierback-orphans-clean-');
    try {
      await makeTree(path.join(clean.dir, 'v01/backup/local/wiki'), { 'wiki.softxs.ch': {}, _history: {} });
      const r = await tierback(['orphans', '-i', EXAMPLE, '--root', clean.dir]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /no orphan folders/);
      assert.match(r.stdout, /every active app has a backup folder/);
    } finally {
      await clean.cleanup();
    }
  });
});
