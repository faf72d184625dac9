import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { offsiteArchiveName, offsiteHistoryName, offsiteSnapshotKey } from '../../../../lib/model/convention.js';
import { UsageError } from '../../../../lib/base/errors.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { InventoryError } from '../../../../lib/base/errors.js';
import { ageDecryptArgv, ageEncryptArgv } from '../../../../lib/tiers/offsite/common.js';
import { parseTreePath } from '../../../../lib/tiers/offsite/fetch.js';
import { bucketPrefix, joinRemote, resolveTarget } from '../../../../lib/tiers/offsite/rclone.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const base = `version: 1
servers:
  - { fqdn: backup.test, role: both }
backup_servers:
  - { server: backup.test, pulls: [{ server: backup.test, transport: local }] }
`;

describe('offsite: paths and names', () => {
  it('keys objects by cycle, server and stamp', () => {
    assert.equal(offsiteSnapshotKey('weekly', 'zg-3.softxs.ch', '2026-03-02T040000Z'), 'weekly/zg-3.softxs.ch/2026-03-02T040000Z');
    assert.throws(() => offsiteSnapshotKey('weekly', '../x', '2026-03-02T040000Z'));
    assert.throws(() => offsiteSnapshotKey('hourly' as 'daily', 'a.b', '2026-03-02T040000Z'));
    assert.equal(offsiteArchiveName('_host', true), '_host.tar.gz.age');
    assert.throws(() => offsiteArchiveName('../etc', true));
    assert.equal(offsiteHistoryName('usb-offsite-a'), 'offsite-usb-offsite-a');
  });

  it('joins rclone remotes and finds the key prefix inside the bucket', () => {
    assert.equal(joinRemote('s3:bucket/site', 'daily/x'), 's3:bucket/site/daily/x');
    assert.equal(joinRemote('box:', 'daily'), 'box:daily');
    assert.equal(bucketPrefix('s3:my-bucket/tierback/site'), 'tierback/site');
    assert.equal(bucketPrefix('s3:my-bucket'), '');
  });

  it('checks tree paths: no traversal, a server and a VM first', () => {
    assert.deepEqual(parseTreePath('zg-3.softxs.ch/web/v2.softxs.ch/hydro/db'), { server: 'zg-3.softxs.ch', top: 'web', rest: ['v2.softxs.ch', 'hydro', 'db'] });
    for (const bad of ['zg-3.softxs.ch/../x', 'zg-3.softxs.ch//web', 'Bad_Host/web', 'zg-3.softxs.ch']) assert.throws(() => parseTreePath(bad), UsageError, bad);
  });
});

describe('offsite: age argv', () => {
  it('puts every recipient (public keys) in argv and the identity only at restore time', () => {
    assert.deepEqual(ageEncryptArgv([RECIPIENT, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host']), [
      'age', '--encrypt', '--recipient', RECIPIENT, '--recipient', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl',
    ]);
    assert.throws(() => ageEncryptArgv([]), (e: unknown) => e instanceof UsageError && /--unencrypted/.test(e.hint ?? ''));
    assert.deepEqual(ageDecryptArgv('/root/k'), ['age', '--decrypt', '--identity', '/root/k']);
  });
});

describe('offsite: inventory block', () => {
  it('resolves named targets with their defaults, and literal rclone remotes', () => {
    const site = parseInventory(`${base}offsite:\n  recipients: ["${RECIPIENT}"]\n  rclone_config: /etc/tierback/rclone.conf\n  retention: { daily: 3 }\n  targets:\n    - { name: s3-main, remote: "s3:bucket/site" }\n`, '/x/inv.yaml');
    const t = resolveTarget(site, 's3-main');
    assert.deepEqual([t.name, t.remote, t.config, t.retention], ['s3-main', 's3:bucket/site', '/etc/tierback/rclone.conf', { daily: 3 }]);
    assert.equal(resolveTarget(site, 'box:Backups/Site').name, 'box-backups-site');
    assert.throws(() => resolveTarget(site, 's3-mian'), (e: unknown) => e instanceof Error && /did you mean "s3-main"/.test((e as { hint?: string }).hint ?? ''));
  });

  it('rejects a bad recipient and a bad target name with their inventory paths', () => {
    try {
      parseInventory(`${base}offsite:\n  recipients: ["AGE-SECRET-KEY-1XYZ"]\n  targets:\n    - { name: "S3 Main", remote: "s3:b" }\n`, '/x/inv.yaml');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof InventoryError);
      const paths = e.problems.map((p) => p.path);
      assert.ok(paths.includes('offsite.recipients[0]'), paths.join(','));
      assert.ok(paths.includes('offsite.targets[0].name'), paths.join(','));
    }
  });
});

describe('offsite: the example inventory', () => {
  it('`offsite lifecycle s3-main` gives one rule per cycle the policy keeps, under the bucket prefix', async () => {
    const { EXAMPLE, tierback } = await import('../../../helpers/cli.js');
    const r = await tierback(['offsite', 'lifecycle', 's3-main', '-i', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    const lc = JSON.parse(r.stdout) as { Rules: { Filter: { Prefix: string }; Expiration: { Days: number } }[] };
    assert.deepEqual(lc.Rules.map((x) => [x.Filter.Prefix, x.Expiration.Days]), [
      ['tierback/daily/', 10],
      ['tierback/weekly/', 43],
      ['tierback/monthly/', 373],
      ['tierback/quarterly/', 2209],
      ['tierback/yearly/', 43921],
    ]);
  });

  it('`offsite get` with a target name but no inventory says what to give', async () => {
    const { tierback } = await import('../../../helpers/cli.js');
    const r = await tierback(['offsite', 'get', 's3-main', 'a.b/web/x', '--to', '/tmp/none', '-i', '/nonexistent/inv.yaml']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nonexistent\/inv\.yaml/);
  });
});
