/** `tierback schedule --install --dry-run`: the files and folders it would write and create, and nothing written. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';
import { treeState } from '../../../helpers/treestate.js';

let dir: string;
let cleanup: () => Promise<void>;
let inv: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-schedule-dry-'));
  inv = path.join(dir, 'inv.yaml');
  await writeFile(inv, ['version: 1', 'servers:', '  - { fqdn: zg-3.example.org, partition: /v01/backup }', 'vms:', '  - { name: web, server: zg-3.example.org }', '  - { name: mail, server: zg-3.example.org }', 'apps:', '  - { name: www, server: zg-3.example.org, vm: web, path: /srv/www, relpath: www, type: files }', ''].join('\n'));
});
after(() => cleanup());

describe('schedule --install --dry-run', () => {
  it('changes nothing, and says what the real install then does', async () => {
    const root = path.join(dir, 'root');
    await mkdir(path.join(root, 'v01/backup/local'), { recursive: true });
    const before = await treeState(root);
    const dry = await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(await treeState(root), before, 'no cron file, log folder or VM folder');
    assert.match(dry.stdout, /^dry run: nothing is written, removed or run$/m);
    assert.match(dry.stdout, new RegExp(`^would write ${root}/etc/cron\\.d/tierback$`, 'm'));
    for (const vm of ['web', 'mail']) assert.match(dry.stdout, new RegExp(`^would create ${root}/v01/backup/local/${vm}/`, 'm'));
    const json = JSON.parse((await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root, '--dry-run', '--json'])).stdout) as { dryRun: boolean; written: string[]; vmFolders: { created: string[] } };
    assert.equal(json.dryRun, true);
    assert.deepEqual(await treeState(root), before);
    const real = JSON.parse((await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root, '--json'])).stdout) as { written: string[]; vmFolders: { created: string[] } };
    assert.deepEqual(real.written, json.written);
    assert.deepEqual(real.vmFolders.created, json.vmFolders.created);
    const again = await tierback(['schedule', 'zg-3.example.org', '-i', inv, '--install', '--root', root, '--dry-run']);
    assert.match(again.stdout, /^unchanged +\S+\/etc\/cron\.d\/tierback$/m);
    assert.doesNotMatch(again.stdout, /would (write|create)/);
  });
});
