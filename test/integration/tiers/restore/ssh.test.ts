/**
 * Restore from a backup server's snapshot to another machine over SSH: real rsync and a real sshd on
 * loopback with its own host key, pinned in the inventory. A wrong pinned key writes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { currentLinkTarget } from '../../../../lib/model/convention.js';
import { tierback } from '../../../helpers/cli.js';
import { generateKey, sshEntry, startSshd, type KeyPair, type Sshd } from '../../../helpers/sshd.js';
import { treeDiff } from '../../../helpers/jobsite.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

const APP_SERVER = 'app1.test';
const STAMP = '2026-02-01T030000Z';
let root: string;
let cleanup: () => Promise<void>;
let key: KeyPair;
let sshd: Sshd;
let backup: string;
let snapApp: string;
let inv: string;
let badInv: string;

function inventory(hostKey: string): string {
  return `version: 1
servers:
  - fqdn: ${APP_SERVER}
    partition: ${path.join(root, 'app-partition')}
    ssh: ${JSON.stringify(sshEntry(sshd, key.private, { hostKey }))}
  - fqdn: backup.test
    partition: ${backup}
    role: backup
vms:
  - { name: web, server: ${APP_SERVER} }
apps:
  - { name: docs, server: ${APP_SERVER}, vm: web, path: ${path.join(root, 'live', 'docs')}, relpath: docs.example.org, type: files }
backup_servers:
  - server: backup.test
    pulls: [${APP_SERVER}]
`;
}

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-restore-ssh-'));
  key = await generateKey(path.join(root, 'keys'), 'id_backup');
  sshd = await startSshd({ authorizedKeys: [key.public] });
  backup = path.join(root, 'backup-partition');
  snapApp = path.join(backup, 'snapshots', APP_SERVER, STAMP, 'web', 'docs.example.org');
  await makeTree(path.join(snapApp, 'files'), { 'a.txt': 'alpha\n', sub: { 'b.txt': 'beta\n' }, 'with space.txt': 'spaced\n' });
  await mkdir(path.join(backup, 'remote'), { recursive: true });
  await symlink(currentLinkTarget(APP_SERVER, STAMP), path.join(backup, 'remote', APP_SERVER));
  inv = path.join(root, 'inv.yaml');
  await writeFile(inv, inventory(sshd.hostKey));
  const other = await generateKey(path.join(root, 'keys'), 'not_the_host');
  badInv = path.join(root, 'bad.yaml');
  await writeFile(badInv, inventory(other.public.split(' ').slice(0, 2).join(' ')));
});
after(async () => {
  await sshd?.cleanup();
  await cleanup();
});

describe('tierback restore --to-server (rsync over SSH, host key pinned)', () => {
  it('copies the snapshot to the target machine and prints the rsync -e ssh command it ran', async () => {
    const dest = path.join(root, 'restored', 'docs');
    const r = await tierback(['restore', 'docs', '-i', inv, '--tier', 'remote', '--to', dest, '--to-server', APP_SERVER]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /rsync -a --numeric-ids -H --exclude=\/\.tierback-manifest --ignore-existing --mkpath -e 'ssh -p \d+ -l root .*StrictHostKeyChecking=yes.*' \S+\/ 127\.0\.0\.1:\S+\/docs\//);
    assert.equal(await treeDiff(snapApp, dest), '');
    const one = path.join(root, 'restored', 'one');
    const r2 = await tierback(['restore', 'docs', '-i', inv, '--path', 'files/with space.txt', '--to', one, '--to-server', APP_SERVER]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await readFile(path.join(one, 'files', 'with space.txt'), 'utf8'), 'spaced\n');
  });

  it('never overwrites files on the far side without --overwrite', async () => {
    const dest = path.join(root, 'restored', 'keep');
    await makeTree(path.join(dest, 'files'), { 'a.txt': 'edited there\n' });
    assert.equal((await tierback(['restore', 'docs', '-i', inv, '--to', dest, '--to-server', APP_SERVER])).code, 0);
    assert.equal(await readFile(path.join(dest, 'files', 'a.txt'), 'utf8'), 'edited there\n');
    assert.equal(await readFile(path.join(dest, 'files', 'sub', 'b.txt'), 'utf8'), 'beta\n');
    assert.equal((await tierback(['restore', 'docs', '-i', inv, '--to', dest, '--to-server', APP_SERVER, '--overwrite'])).code, 0);
    assert.equal(await readFile(path.join(dest, 'files', 'a.txt'), 'utf8'), 'alpha\n');
  });

  it('fails (and writes nothing) when the server\'s host key is not the pinned one, and refuses the live app path', async () => {
    const dest = path.join(root, 'restored', 'mitm');
    const r = await tierback(['restore', 'docs', '-i', badInv, '--to', dest, '--to-server', APP_SERVER]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION/);
    assert.ok(!existsSync(dest));
    const live = await tierback(['restore', 'docs', '-i', inv, '--to', path.join(root, 'live', 'docs', 'x'), '--to-server', APP_SERVER]);
    assert.equal(live.code, 6);
  });
});
