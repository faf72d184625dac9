import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createExec } from '../../../../lib/base/exec.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { appFolders, markerOf, settleApps } from '../../../../lib/tiers/pull/consistency.js';
import { tempDir } from '../../../helpers/tree.js';

describe('pull consistency markers', () => {
  it('a manifest\'s marker is its run id; older manifests (no run line) by content; no manifest is "absent"', () => {
    const m = '# tierback manifest v1\n# files=2 bytes=10\n# run 20260601T020000-a1b2c3\nabc  files/x\n';
    assert.equal(markerOf(m), 'run 20260601T020000-a1b2c3');
    assert.equal(markerOf(m.replace('abc', 'def')), 'run 20260601T020000-a1b2c3', 'the run id alone names the version');
    const old = '# tierback manifest v1\n# files=2 bytes=10\n';
    assert.match(markerOf(old), /^sha256 [0-9a-f]{64}$/);
    assert.notEqual(markerOf(old), markerOf(`${old}x\n`));
    assert.equal(markerOf(undefined), 'absent');
  });

  it('lists the app folders of one server, relative to its local tree, _host apps included', () => {
    const site = parseInventory(
      `version: 1
servers:
  - { fqdn: a.test, partition: /p/a }
  - { fqdn: b.test, partition: /p/b }
vms:
  - { name: web, server: a.test }
apps:
  - { name: hydro, server: a.test, vm: web, relpath: v2.example.org/hydro, path: /srv/hydro, type: files }
  - { name: mail, server: a.test, relpath: mail.example.org, path: /var/mail, type: files }
  - { name: other, server: b.test, relpath: b.example.org, path: /srv/b, type: files }
`,
      '/tmp/inv.yaml',
    );
    assert.deepEqual(appFolders(site, 'a.test'), [
      { app: 'mail', rel: '_host/mail.example.org' },
      { app: 'hydro', rel: 'web/v2.example.org/hydro' },
    ]);
    assert.deepEqual(appFolders(site, 'nowhere.test'), []);
  });

  it('never follows a symbolic link the source tree put on the way to an app folder', async () => {
    const { dir, cleanup } = await tempDir('tierback-consistency-');
    try {
      const outside = path.join(dir, 'outside');
      await mkdir(path.join(outside, 'big.example.org'), { recursive: true });
      await writeFile(path.join(outside, 'big.example.org/.tierback-manifest'), '# run 20260601T020000-a1b2c3\n');
      await writeFile(path.join(outside, 'big.example.org/precious'), 'not the snapshot\'s\n');
      await mkdir(path.join(dir, 'src/local'), { recursive: true });
      const dest = path.join(dir, 'snap.partial');
      await mkdir(dest);
      await symlink(outside, path.join(dest, 'web'));
      const log = silentLogger();
      const settled = await settleApps({
        exec: createExec(log),
        log,
        plan: { source: `${path.join(dir, 'src/local')}/`, dest },
        apps: [{ app: 'big', rel: 'web/big.example.org' }],
        before: new Map([['web/big.example.org', 'absent']]),
        previous: undefined,
      });
      assert.match(settled.warning ?? '', /app big \(web\/big\.example\.org\): the source has a symbolic link on the way to its folder/);
      assert.deepEqual([settled.kept, settled.recopied], [[], []]);
      assert.ok(existsSync(path.join(outside, 'big.example.org/precious')), 'nothing outside the snapshot was removed');
    } finally {
      await cleanup();
    }
  });
});
