import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../../../lib/site/load.js';
import { diffInventories, localDirOf } from '../../../../lib/features/move/index.js';
import { EXAMPLE } from '../../../helpers/cli.js';

const text = readFileSync(EXAMPLE, 'utf8');
const site = (t: string) => parseInventory(t, 'x.yaml');

describe('inventory diff', () => {
  it('finds nothing between a file and itself', () => {
    assert.deepEqual(diffInventories(site(text), site(text)), { moves: [], added: [], removed: [], changed: [] });
  });
  it('turns a one-line vm edit into a same-server rename with both local paths', () => {
    const edited = text.replace('    vm: web\n    path: /home/v2/rails/demo.softxs.ch/hydro', '    vm: intern\n    path: /home/v2/rails/demo.softxs.ch/hydro');
    const d = diffInventories(site(text), site(edited));
    assert.equal(d.moves.length, 1);
    const m = d.moves[0]!;
    assert.equal(m.app, 'hydro');
    assert.equal(m.how, 'rename');
    assert.deepEqual(m.changes, ['vm: web -> intern']);
    assert.equal(localDirOf(m.from), '/v01/backup/local/web/v2.softxs.ch/hydro');
    assert.equal(localDirOf(m.to), '/v01/backup/local/intern/v2.softxs.ch/hydro');
  });
  it('calls a server change a transfer and lists added, removed and otherwise changed apps', () => {
    const edited = text
      .replace('  - { name: coya, description: Coya II, server: zg-1.softxs.ch,', '  - { name: coya, description: Coya II, server: zg-3.softxs.ch,')
      .replace(/^ {2}- \{ name: kejv.*\n/m, '')
      .replace('relpath: sisimiut.softxs.ch, type: files }', 'relpath: sisimiut.softxs.ch, type: files, status: paused }')
      .replace('backup_servers:', '  - { name: newapp, server: zg-1.softxs.ch, path: /srv/n, relpath: new.softxs.ch, type: files }\nbackup_servers:');
    const d = diffInventories(site(text), site(edited));
    assert.deepEqual(d.moves.map((m) => [m.app, m.how, m.changes]), [['coya', 'transfer', ['server: zg-1.softxs.ch -> zg-3.softxs.ch']]]);
    assert.deepEqual(d.added, ['newapp']);
    assert.deepEqual(d.removed, ['kejv']);
    assert.deepEqual(d.changed, [{ app: 'sisimiut', keys: ['status'] }]);
  });
});
