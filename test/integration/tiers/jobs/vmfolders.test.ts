/** `tierback schedule <server> --install` creates the <partition>/local/<vm> folders its VMs mount (0700), never the partition. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tierback } from '../../../helpers/cli.js';
import { useTempDir } from '../../../helpers/tree.js';

describe('schedule --install on a server: the VM folders', () => {
  const tmp = useTempDir('tierback-vmfolders-');
  let inv: string;
  before(async () => {
    inv = path.join(tmp.dir, 'inv.yaml');
    await writeFile(
      inv,
      [
        'version: 1',
        'servers:',
        '  - { fqdn: zg-3.example.org, partition: /v01/backup }',
        '  - { fqdn: zg-4.example.org, partition: /v01/backup }',
        'vms:',
        '  - { name: web, server: zg-3.example.org }',
        '  - { name: mail, server: zg-3.example.org }',
        '  - { name: other, server: zg-4.example.org }',
        '',
      ].join('\n'),
    );
  });

  it('says the partition is missing instead of creating it', async () => {
    const root = path.join(tmp.dir, 'r0');
    const r = await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /problem .*\/v01\/backup\/local: does not exist: create the partition first \(install -d -m 0700 \/v01\/backup\/local\)/);
    await assert.rejects(stat(path.join(root, 'v01')));
  });

  it('creates the folders of its own VMs only, 0700, once; a VM host creates none', async () => {
    const root = path.join(tmp.dir, 'r1');
    await mkdir(path.join(root, 'v01/backup/local'), { recursive: true });
    const r = await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    for (const vm of ['web', 'mail']) {
      const st = await stat(path.join(root, 'v01/backup/local', vm));
      assert.ok(st.isDirectory());
      assert.equal((st.mode & 0o777).toString(8), '700');
      assert.match(r.stdout, new RegExp(`created +${root}/v01/backup/local/${vm}/`));
    }
    await assert.rejects(stat(path.join(root, 'v01/backup/local/other')), 'another server\'s VM');
    const again = JSON.parse((await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root, '--json'])).stdout) as { vmFolders: { created: string[]; present: string[] } };
    assert.deepEqual(again.vmFolders.created, []);
    assert.equal(again.vmFolders.present.length, 2);
    const vm = JSON.parse((await tierback(['schedule', 'web', '-i', inv, '--install', '--root', path.join(tmp.dir, 'r2'), '--json'])).stdout) as Record<string, unknown>;
    assert.equal(vm['vmFolders'], undefined);
  });

  it('reports a symlink where a VM folder should be, and leaves it', async () => {
    const root = path.join(tmp.dir, 'r3');
    await mkdir(path.join(root, 'v01/backup/local'), { recursive: true });
    await symlink('/tmp', path.join(root, 'v01/backup/local/web'));
    const r = await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root]);
    assert.match(r.stdout, /problem .*local\/web: is a symlink/);
    assert.ok((await stat(path.join(root, 'v01/backup/local/mail'))).isDirectory());
  });
});
