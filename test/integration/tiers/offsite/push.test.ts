/**
 * Object storage against real tools: rclone to a local-filesystem remote and to an SFTP remote on a
 * real sshd (loopback, host key pinned with known_hosts_file), age encryption, and the manual restore
 * of docs/offsite.md#restore (rclone copy, age -d, tar, gunzip) run command by command.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { OFFSITE_MANIFEST, serverHistoryDir } from '../../../../lib/model/convention.js';
import { UsageError } from '../../../../lib/base/errors.js';
import { readHistory } from '../../../../lib/model/history.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { fetchOffsite } from '../../../../lib/tiers/offsite/fetch.js';
import { pushToRemote } from '../../../../lib/tiers/offsite/push.js';
import { listRemoteSnapshots, resolveTarget } from '../../../../lib/tiers/offsite/rclone.js';
import { createExec } from '../../../../lib/base/exec.js';
import { resolveBackupServer } from '../../../../lib/tiers/pull/pull.js';
import { APP_REL, APP_SERVER, BACKUP_SERVER, DUMP_NAME, DUMP_SQL, makeBackupSite, type BackupSite } from '../../../helpers/backup-site.js';
import { tierback } from '../../../helpers/cli.js';
import { generateKey, startSshd, type Sshd } from '../../../helpers/sshd.js';
import { tempDir } from '../../../helpers/tree.js';

let root: string;
let cleanup: () => Promise<void>;
let bs: BackupSite;
let sshd: Sshd;
let rcloneConf: string;
let badConf: string;
let identity: string;
let localBucket: string;
let sftpBucket: string;

const at = (d: number) => new Date(Date.UTC(2026, 2, d, 5, 0, 0));

async function rcloneConfig(file: string, port: number, key: string, knownHosts: string): Promise<void> {
  await writeFile(
    file,
    ['[localfs]', 'type = local', '', '[sftptest]', 'type = sftp', 'host = 127.0.0.1', `port = ${port}`, 'user = root', `key_file = ${key}`, `known_hosts_file = ${knownHosts}`, 'shell_type = none', 'md5sum_command = none', 'sha1sum_command = none', ''].join('\n'),
    { mode: 0o600 },
  );
}

before(async () => {
  const t = await tempDir('tierback-push-');
  root = t.dir;
  cleanup = t.cleanup;
  // The age identity lives apart from the data (here: its own folder), only given at restore time.
  const keys = path.join(root, 'keys');
  await mkdir(keys, { mode: 0o700 });
  identity = path.join(keys, 'offsite.key');
  await execa('age-keygen', ['-o', identity]);
  const recipient = (await execa('age-keygen', ['-y', identity])).stdout.trim();
  const client = await generateKey(keys, 'rclone_sftp');
  sshd = await startSshd({ authorizedKeys: [client.public] });
  const wrongKh = path.join(keys, 'wrong_known_hosts');
  const other = await generateKey(keys, 'not_the_host');
  await writeFile(wrongKh, `[127.0.0.1]:${sshd.port} ${other.public.split(' ').slice(0, 2).join(' ')}\n`);
  rcloneConf = path.join(keys, 'rclone.conf');
  badConf = path.join(keys, 'rclone-wrong-hostkey.conf');
  await rcloneConfig(rcloneConf, sshd.port, client.private, sshd.knownHosts);
  await rcloneConfig(badConf, sshd.port, client.private, wrongKh);
  localBucket = path.join(root, 'bucket');
  sftpBucket = path.join(root, 'sftp-bucket');
  bs = await makeBackupSite(
    root,
    `offsite:
  recipients: ["${recipient}"]
  rclone_config: ${rcloneConf}
  targets:
    - { name: local, remote: "localfs:${localBucket}/site" }
    - { name: sftp, remote: "sftptest:${sftpBucket}/site" }
    - { name: sftp-wrong-key, remote: "sftptest:${sftpBucket}/wrong", rclone_config: ${badConf} }
`,
  );
});

after(async () => {
  await sshd?.cleanup();
  await cleanup?.();
});

function push(target: string, d: number, extra: { force?: boolean } = {}) {
  return pushToRemote(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), resolveTarget(bs.site, target), { log: silentLogger(), now: () => at(d), ...extra });
}

async function manualRestore(remote: string, key: string, out: string): Promise<{ sql: string; file: string }> {
  // docs/offsite.md#restore, literally: rclone copy, age -d, tar -x, gunzip.
  await mkdir(out, { recursive: true });
  await execa('rclone', ['--config', rcloneConf, 'copy', `${remote}/${key}`, out]);
  await execa('age', ['-d', '-i', identity, '-o', path.join(out, 'web.tar.gz'), path.join(out, 'web.tar.gz.age')]);
  await execa('tar', ['-xzf', path.join(out, 'web.tar.gz'), '-C', out, `${APP_REL}/db/${DUMP_NAME}`, `${APP_REL}/files/f4.txt`]);
  const sql = (await execa('gunzip', ['-c', path.join(out, APP_REL, 'db', DUMP_NAME)])).stdout;
  return { sql: `${sql}\n`, file: await readFile(path.join(out, APP_REL, 'files/f4.txt'), 'utf8') };
}

describe('tierback offsite push (real rclone, age, sshd)', () => {
  let s1: string;
  let key1: string;

  it('pushes one encrypted tar stream per VM folder under <cycle>/<server>/<stamp>/, manifest last', async () => {
    s1 = await bs.pullAt(at(2)); // Monday 2 March 2026
    const [o] = await push('local', 2);
    assert.equal(o!.status, 'ok', o!.error);
    assert.equal(o!.cycle, 'monthly', 'the first copy ever opens every period: the coarsest the policy keeps (monthly)');
    key1 = `monthly/${APP_SERVER}/${s1}`;
    assert.equal(o!.key, key1);
    const dir = path.join(localBucket, 'site', key1);
    assert.deepEqual((await readdir(dir)).sort(), [OFFSITE_MANIFEST, 'web.tar.gz.age']);
    const blob = await readFile(path.join(dir, 'web.tar.gz.age'));
    assert.match(blob.subarray(0, 22).toString(), /^age-encryption\.org\/v1/);
    assert.ok(!blob.includes(Buffer.from('plaintext-secret-row')), 'no plaintext leaves the host');
    const manifest = JSON.parse(await readFile(path.join(dir, OFFSITE_MANIFEST), 'utf8')) as { encryption: string; archives: { object: string; bytes: number }[] };
    assert.equal(manifest.encryption, 'age');
    assert.equal(manifest.archives[0]!.bytes, blob.length);
    assert.ok(!JSON.stringify(manifest).includes('AGE-SECRET-KEY'), 'no key is stored with the data');
  });

  it('does not push the same snapshot twice; the next day\'s snapshot is a daily copy', async () => {
    const [same] = await push('local', 2);
    assert.equal(same!.unchanged, true);
    await writeFile(path.join(bs.source, 'local', APP_REL, 'files/f4.txt'), 'tuesday\n');
    await bs.pullAt(at(3));
    const [o] = await push('local', 3);
    assert.equal(o!.status, 'ok', o!.error);
    assert.equal(o!.cycle, 'daily');
    const snaps = await listRemoteSnapshots(createExec(silentLogger()), resolveTarget(bs.site, 'local'));
    assert.deepEqual(snaps.map((s) => [s.cycle, s.complete]), [['monthly', true], ['daily', true]]);
  });

  it('history: one offsite record per server and push, with cycle, snapshot and size', async () => {
    const { runs } = await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-local' });
    assert.deepEqual(runs.map((r) => [r.status, r.tier, r.extra?.['cycle'], r.extra?.['unchanged'] ?? '']), [
      ['ok', 'offsite', 'monthly', ''],
      ['ok', 'offsite', 'monthly', '1'],
      ['ok', 'offsite', 'daily', ''],
    ]);
    assert.ok(runs[0]!.bytes! > 100);
  });

  it('restores one file and one dump from the local remote with tierback, and refuses without the identity', async () => {
    const out = path.join(root, 'restore-local');
    const r = await fetchOffsite(bs.site, 'local', `${APP_SERVER}/${APP_REL}/db/${DUMP_NAME}`, out, { log: silentLogger(), identity });
    assert.equal(gunzipSync(await readFile(r.path)).toString(), DUMP_SQL);
    const f = await fetchOffsite(bs.site, 'local', `${APP_SERVER}/${APP_REL}/files/f4.txt`, out, { log: silentLogger(), identity });
    assert.equal(await readFile(f.path, 'utf8'), 'tuesday\n', 'the newest complete copy by default');
    const old = await fetchOffsite(bs.site, 'local', `${APP_SERVER}/${APP_REL}/files/f4.txt`, path.join(root, 'restore-old'), { log: silentLogger(), identity, snapshot: s1 });
    assert.equal(await readFile(old.path, 'utf8'), 'file 4\n'.repeat(200));
    await assert.rejects(fetchOffsite(bs.site, 'local', `${APP_SERVER}/${APP_REL}/files/f4.txt`, out, { log: silentLogger() }), (e: unknown) => e instanceof UsageError && /--identity/.test(e.hint ?? ''));
    await assert.rejects(fetchOffsite(bs.site, 'local', `${APP_SERVER}/../etc/passwd`, out, { log: silentLogger(), identity }), UsageError);
  });

  it('offsite get --dry-run from the local remote: the pipeline as argv (rclone cat | age -d | tar -x), nothing written', async () => {
    const to = path.join(root, 'restore-dry');
    const args = ['offsite', 'get', 'local', `${APP_SERVER}/${APP_REL}/files/f4.txt`, '--to', to, '--identity', identity, '-i', bs.invFile, '--dry-run'];
    const text = await tierback(args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ {2}rclone --config \S+ cat -- localfs:\S+\.tar\.gz\.age \| age --decrypt --identity \S+offsite\.key \| tar --extract --file=- --ignore-zeros --directory \S+restore-dry --numeric-owner -- web\/a\.example\.org\/app\/files\/f4\.txt$/m);
    const j = await tierback([...args, '--json']);
    assert.equal(j.code, 0, j.stderr);
    const plan = JSON.parse(j.stdout) as { pipeline: boolean; commands: string[][]; path: string; snapshot: string };
    assert.equal(plan.pipeline, true);
    assert.deepEqual(plan.commands.map((c) => c[0]), ['rclone', 'age', 'tar']);
    assert.equal(plan.path, path.join(to, 'web/a.example.org/app/files/f4.txt'));
    assert.equal(existsSync(to), false, '--to is not created by a dry run');
    const none = await tierback(args.filter((a) => a !== '--identity' && a !== identity));
    assert.equal(none.code, 2, 'a dry run without the identity says what the real one would say');
    assert.match(none.stderr, /--identity/);
  });

  it('restores from the local remote without tierback (rclone copy, age -d, tar, gunzip)', async () => {
    const m = await manualRestore(`localfs:${localBucket}/site`, key1, path.join(root, 'manual-local'));
    assert.equal(m.sql, DUMP_SQL);
    assert.equal(m.file, 'file 4\n'.repeat(200));
  });

  it('pushes to an SFTP remote on a real sshd with the host key pinned, and restores with and without tierback', async () => {
    const [o] = await push('sftp', 3);
    assert.equal(o!.status, 'ok', o!.error);
    assert.equal(o!.cycle, 'monthly');
    assert.ok(existsSync(path.join(sftpBucket, 'site', o!.key!, OFFSITE_MANIFEST)));
    const cli = await tierback(['offsite', 'get', 'sftp', `${APP_SERVER}/${APP_REL}/db/${DUMP_NAME}`, '--to', path.join(root, 'restore-sftp'), '--identity', identity, '-i', bs.invFile, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const got = JSON.parse(cli.stdout) as { path: string };
    assert.equal(gunzipSync(await readFile(got.path)).toString(), DUMP_SQL);
    const m = await manualRestore(`sftptest:${sftpBucket}/site`, o!.key!, path.join(root, 'manual-sftp'));
    assert.equal(m.sql, DUMP_SQL);
    assert.equal(m.file, 'tuesday\n');
  });

  it('a wrong SFTP host key fails the push, leaves a failure in history and no complete copy', async () => {
    // rclone retries connections (10 low-level x 3 by default); one try is enough to see the refusal.
    process.env['RCLONE_LOW_LEVEL_RETRIES'] = '1';
    process.env['RCLONE_RETRIES'] = '1';
    let o;
    try {
      [o] = await push('sftp-wrong-key', 3);
    } finally {
      delete process.env['RCLONE_LOW_LEVEL_RETRIES'];
      delete process.env['RCLONE_RETRIES'];
    }
    assert.equal(o!.status, 'failed');
    assert.match(o!.error!, /rclone/);
    assert.ok(!existsSync(path.join(sftpBucket, 'wrong')), 'nothing was written');
    const { runs } = await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-sftp-wrong-key' });
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.ok(runs.at(-1)!.error!.length > 0);
  });

  it('refuses to push unencrypted unless asked, when no recipients are configured', async () => {
    const { parseInventory } = await import('../../../../lib/site/load.js');
    const text = (await readFile(bs.invFile, 'utf8')).replace(/recipients: \[.*\]/, 'recipients: []');
    const site = parseInventory(text, bs.invFile);
    await assert.rejects(pushToRemote(site, resolveBackupServer(site, BACKUP_SERVER), resolveTarget(site, 'local'), { log: silentLogger(), now: () => at(4), force: true }), (e: unknown) => e instanceof UsageError && /recipients/.test(e.message));
  });

  it('`offsite lifecycle` prints S3 rules per cycle prefix from the retention policy', async () => {
    const cli = await tierback(['offsite', 'lifecycle', 's3:my-bucket/tierback/site', '-i', bs.invFile, '--transition-days', '9']);
    assert.equal(cli.code, 0, cli.stderr);
    const lc = JSON.parse(cli.stdout) as { Rules: { Filter: { Prefix: string }; Expiration: { Days: number }; Transitions?: unknown[] }[] };
    assert.deepEqual(lc.Rules.map((r) => [r.Filter.Prefix, r.Expiration.Days, r.Transitions ? 'T' : '']), [
      ['tierback/site/daily/', 8, ''],
      ['tierback/site/weekly/', 29, 'T'],
      ['tierback/site/monthly/', 187, 'T'],
    ]);
  });

  it('--dry-run prints the argv of each stage (no shell), pushes nothing and writes no history', async () => {
    const before = (await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-local' })).runs.length;
    const cli = await tierback(['offsite', 'push', 'local', '--force', '--dry-run', '-i', bs.invFile, '--backup-server', BACKUP_SERVER]);
    assert.equal(cli.code, 0, cli.stderr);
    const lines = cli.stdout.trim().split('\n');
    assert.match(lines[0]!, /^tar --create --file=- --directory \S+ --numeric-owner --sort=name -- web$/);
    assert.match(lines[1]!, /^age --encrypt --recipient age1/);
    assert.match(lines[2]!, /^rclone --config \S+ rcat -- localfs:\S+\/site\/(daily|weekly|monthly|quarterly|yearly)\/backup\.test\/\S+\/web\.tar\.gz\.age$/);
    const j = await tierback(['offsite', 'push', 'local', '--force', '--dry-run', '--json', '-i', bs.invFile, '--backup-server', BACKUP_SERVER]);
    assert.equal(j.code, 0, j.stderr);
    const plan = JSON.parse(j.stdout) as { commands: string[][] };
    assert.deepEqual(plan.commands.map((c) => c.join(' ')), lines, '--json: the same commands, as argv arrays');
    assert.equal((await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-local' })).runs.length, before);
  });

  it('an interrupted push (SIGTERM) fails in history and never looks complete', async () => {
    await writeFile(path.join(bs.source, 'local', APP_REL, 'files/f6.txt'), 'wednesday\n');
    const s = await bs.pullAt(at(4));
    const ac = new AbortController();
    const p = pushToRemote(bs.site, resolveBackupServer(bs.site, BACKUP_SERVER), resolveTarget(bs.site, 'local'), { log: silentLogger(), now: () => at(4), signal: ac.signal });
    ac.abort();
    const [o] = await p;
    assert.equal(o!.status, 'failed');
    const snaps = await listRemoteSnapshots(createExec(silentLogger()), resolveTarget(bs.site, 'local'));
    assert.ok(!snaps.some((x) => x.stamp === s && x.complete), 'no manifest for the interrupted copy');
    const { runs } = await readHistory(serverHistoryDir(bs.backup), { name: 'offsite-local' });
    assert.equal(runs.at(-1)!.status, 'failed');
    assert.equal(runs.at(-1)!.extra?.['snapshot'], undefined);
  });
});
