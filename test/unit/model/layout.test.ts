import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseInventory } from '../../../lib/site/load.js';
import { Layout, lockPath, parseSnapshotEntry, retiredPath, stagingPath, workingFilesOf } from '../../../lib/model/layout.js';
import { ownHostName, resolveHost } from '../../../lib/model/machine.js';
import { parseWorkingName, workingName } from '../../../lib/model/names.js';
import { recoverSwap } from '../../../lib/tiers/jobs/run.js';
import { openSshTransport } from '../../../lib/tiers/pull/ssh.js';
import { tempDir } from '../../helpers/tree.js';
import { resolveBackupServer } from '../../../lib/tiers/pull/select.js';
import { resolveScheduleHost } from '../../../lib/features/schedule/index.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGU=';

function site() {
  return parseInventory(
    `version: 1
servers:
  - { fqdn: app1.example.ch, partition: /v01/backup, ssh: { host: 192.0.2.7, port: 2222, user: backup, identity: /etc/tierback/id_ed25519, host_key: "${KEY}" } }
  - { fqdn: odin.example.ch, role: backup, partition: /v02/backup }
vms:
  - { name: web, server: app1.example.ch }
apps:
  - { name: hydro, server: app1.example.ch, vm: web, path: /srv/hydro, relpath: v2.example.ch/hydro, type: files }
backup_servers:
  - { server: odin.example.ch, pulls: [app1.example.ch] }
`,
    '/tmp/inv.yaml',
  );
}

describe('Layout: every path of a partition', () => {
  const L = new Layout('/v01/backup');
  it('gives the paths of every tier', () => {
    assert.equal(L.localAppDir('web', 'v2.example.ch/hydro'), '/v01/backup/local/web/v2.example.ch/hydro');
    assert.equal(L.localDumpDir('web', 'v2.example.ch/hydro'), '/v01/backup/local/web/v2.example.ch/hydro/db');
    assert.equal(L.appLockPath('web', 'v2.example.ch/hydro'), '/v01/backup/local/web/v2.example.ch/.hydro.lock');
    assert.equal(L.remoteVmDir('app1.example.ch', 'web'), '/v01/backup/remote/app1.example.ch/web');
    assert.equal(L.snapshotJobHistoryDir('app1.example.ch', '2026-11-22T013000Z', 'web'), '/v01/backup/snapshots/app1.example.ch/2026-11-22T013000Z/web/_history');
    assert.equal(L.pullLockPath('app1.example.ch'), '/v01/backup/snapshots/.app1.example.ch.lock');
    assert.equal(L.offsiteLockPath('usb-red'), '/v01/backup/.tierback/.offsite-usb-red.lock');
    assert.equal(L.driveRegistryPath('d-1'), '/v01/backup/.tierback/drives/d-1.json');
    assert.match(L.currentLinkTempPath('app1.example.ch', 'ab12'), /^\/v01\/backup\/remote\/\.app1\.example\.ch\.tmp-ab12$/);
  });
  it('refuses names that would leave the partition', () => {
    assert.throws(() => L.remoteVmDir('app1.example.ch', '..'), /invalid vm/);
    assert.throws(() => L.localAppDir('web', '../etc'), /invalid relpath/);
    assert.throws(() => L.snapshotDir('../x', '2026-11-22T013000Z'), /invalid server/);
  });
  it('parses every snapshot entry name it makes', () => {
    const s = '2026-11-22T013000Z';
    assert.deepEqual(parseSnapshotEntry(s), { stamp: s, state: 'complete' });
    assert.deepEqual(parseSnapshotEntry(L.partialSnapshotDir('a.b', s).split('/').at(-1)!), { stamp: s, state: 'partial' });
    assert.deepEqual(parseSnapshotEntry(L.deletingSnapshotDir('a.b', s).split('/').at(-1)!), { stamp: s, state: 'deleting' });
    assert.equal(parseSnapshotEntry('.a.b.lock'), undefined);
    assert.equal(parseSnapshotEntry('2026-11-22T013000Z.partial.x'), undefined);
  });
});

describe('names: working files made and parsed back', () => {
  it('round-trips staging, retired and lock names', () => {
    assert.deepEqual(parseWorkingName(workingName('hydro', 'partial', 'r-1')), { base: 'hydro', kind: 'partial', runId: 'r-1' });
    assert.deepEqual(parseWorkingName(workingName('hydro', 'old', 'r-2')), { base: 'hydro', kind: 'old', runId: 'r-2' });
    assert.deepEqual(parseWorkingName(workingName('hydro', 'lock')), { base: 'hydro', kind: 'lock' });
    assert.equal(parseWorkingName('hydro'), undefined);
  });
  it('finds the working files of one folder only, not of a sibling whose name it starts', () => {
    const t = '/p/local/web/v2.example.ch/hydro';
    const names = [
      stagingPath(t, 'a1'),
      retiredPath(t, 'b2'),
      retiredPath(t, 'a1'),
      lockPath(t),
      retiredPath('/p/local/web/v2.example.ch/hydro.old-x', 'c3'),
      stagingPath('/p/local/web/v2.example.ch/hydro2', 'd4'),
    ].map((p) => p.split('/').at(-1)!);
    const w = workingFilesOf(t, names);
    assert.deepEqual(w.old, [retiredPath(t, 'a1'), retiredPath(t, 'b2')]);
    assert.deepEqual(w.partial, [stagingPath(t, 'a1')]);
    assert.deepEqual(w.lock, [lockPath(t)]);
  });
});

describe('crash recovery reads working files through the layout', () => {
  it('never takes the parked backup of app "hydro.old-x" for one of app "hydro"', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const target = path.join(dir, 'hydro');
      const other = retiredPath(path.join(dir, 'hydro.old-x'), 'r1');
      await mkdir(other);
      await recoverSwap(target);
      assert.deepEqual(await readdir(dir), [path.basename(other)]);
      const mine = retiredPath(target, 'r2');
      await mkdir(mine);
      await recoverSwap(target);
      assert.deepEqual((await readdir(dir)).sort(), [path.basename(other), 'hydro'].sort());
    } finally {
      await cleanup();
    }
  });
});

describe('transport: one ssh argv for every caller', () => {
  it('pins the host key in a private known_hosts file and never relaxes checking', async () => {
    const s = site();
    const t = await openSshTransport(s.servers[0]!);
    try {
      assert.deepEqual(t.ssh.slice(0, 5), ['ssh', '-p', '2222', '-l', 'backup']);
      assert.ok(t.ssh.includes('StrictHostKeyChecking=yes'));
      assert.ok(!t.ssh.some((a) => /accept-new|StrictHostKeyChecking=no/.test(a)));
      assert.ok(t.ssh.includes('HostKeyAlias=app1.example.ch'));
      assert.deepEqual(t.ssh.slice(-4), ['-i', '/etc/tierback/id_ed25519', '-o', 'IdentitiesOnly=yes']);
      const kh = t.ssh.find((a) => a.startsWith('UserKnownHostsFile='))!.slice('UserKnownHostsFile='.length);
      assert.equal((await stat(kh)).mode & 0o777, 0o600);
      assert.equal(await readFile(kh, 'utf8'), `app1.example.ch ${KEY}\n`);
      assert.equal(t.rsh, t.ssh.join(' '));
      assert.equal(t.remote('/v01/backup/local/'), '192.0.2.7:/v01/backup/local/');
      await t.cleanup();
      await assert.rejects(stat(kh));
    } finally {
      await t.cleanup();
    }
  });
});

describe('machine: one answer to "which host is this?"', () => {
  it('takes the option, else $TIERBACK_HOST, else the host name', () => {
    assert.deepEqual(ownHostName('a', { TIERBACK_HOST: 'b' }, 'c'), { name: 'a', from: 'option' });
    assert.deepEqual(ownHostName(undefined, { TIERBACK_HOST: 'b' }, 'c'), { name: 'b', from: 'env' });
    assert.deepEqual(ownHostName(undefined, {}, 'c'), { name: 'c', from: 'hostname' });
  });
  it('gives prune, pull and schedule the same server for $TIERBACK_HOST', () => {
    const s = site();
    const env = { TIERBACK_HOST: 'odin.example.ch' };
    assert.equal(resolveHost(s, undefined, env), 'odin.example.ch');
    assert.equal(resolveBackupServer(s, undefined, env, 'elsewhere').server, 'odin.example.ch');
    const prev = process.env['TIERBACK_HOST'];
    process.env['TIERBACK_HOST'] = 'odin.example.ch';
    try {
      assert.deepEqual(resolveScheduleHost(s, undefined), { kind: 'server', name: 'odin.example.ch', server: 'odin.example.ch' });
    } finally {
      if (prev === undefined) delete process.env['TIERBACK_HOST'];
      else process.env['TIERBACK_HOST'] = prev;
    }
  });
});
