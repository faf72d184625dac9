import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PULL_EXCLUDES } from '../../../../lib/model/convention.js';
import { parseProgress, parseRsyncStats, rshString, rsyncArgv, sumRsyncStats } from '../../../../lib/tiers/pull/rsync.js';
import { AES_FIRST_CIPHERS, authorizedKeysLine, cpuHasAes, remoteSource, sshArgv, type SshTarget } from '../../../../lib/tiers/pull/ssh.js';
import { explainFailure } from '../../../../lib/tiers/pull/pull.js';
import { exitCodeFor } from '../../../../lib/model/outcome.js';

const STATS = `
Number of files: 1,203 (reg: 1,200, dir: 3)
Number of created files: 5 (reg: 5)
Number of deleted files: 2 (reg: 2)
Number of regular files transferred: 5
Total file size: 1,234,567 bytes
Total transferred file size: 4,893 bytes
Literal data: 4,893 bytes
Matched data: 0 bytes
File list size: 0
Total bytes sent: 74,523
Total bytes received: 22,831

sent 74,523 bytes  received 22,831 bytes  194,708.00 bytes/sec
total size is 1,234,567  speedup is 0.05
`;

describe('rsync argv of a pull', () => {
  it('has archive, numeric ids, deletes, stats, the job excludes and link-dest, source before dest', () => {
    const argv = rsyncArgv({ source: 'h:/', dest: '/b/snapshots/s/x.partial', linkDest: '/b/snapshots/s/old', ioTimeoutS: 60, bwlimit: '20M' });
    assert.deepEqual(argv.slice(0, 6), ['rsync', '-a', '--numeric-ids', '--delete', '--delete-excluded', '--stats']);
    for (const x of PULL_EXCLUDES) assert.ok(argv.includes(`--exclude=${x}`));
    assert.ok(argv.includes('--link-dest=/b/snapshots/s/old'));
    assert.ok(argv.includes('--timeout=60'));
    assert.ok(argv.includes('--bwlimit=20M'));
    assert.deepEqual(argv.slice(-3), ['--', 'h:/', '/b/snapshots/s/x.partial/']);
    assert.ok(!argv.includes('--info=progress2'), 'quiet unless progress is asked for');
  });
  it('refuses a source without trailing slash (it would nest the folder)', () => {
    assert.throws(() => rsyncArgv({ source: '/v01/backup/local', dest: '/x' }), /must end with/);
  });
  it('quotes -e words rsync would split, refuses quotes', () => {
    assert.equal(rshString(['ssh', '-i', '/k/my key', '-p', '22']), "ssh -i '/k/my key' -p 22");
    assert.throws(() => rshString(["it's"]), /quote/);
  });
});

describe('rsync output parsers', () => {
  it('reads --stats', () => {
    const s = parseRsyncStats(STATS)!;
    assert.equal(s.files, 1200);
    assert.equal(s.dirs, 3);
    assert.equal(s.entries, 1203);
    assert.equal(s.transferredFiles, 5);
    assert.equal(s.deletedFiles, 2);
    assert.equal(s.totalBytes, 1_234_567);
    assert.equal(s.receivedBytes, 22_831);
  });
  it('returns undefined when the stats block is missing (killed rsync)', () => {
    assert.equal(parseRsyncStats('rsync error: received SIGINT'), undefined);
  });
  it('reads a progress2 update', () => {
    const p = parseProgress('      4,893  45%  317.12kB/s    0:00:10 (xfr#1195, to-chk=6/1203)')!;
    assert.equal(p.bytes, 4893);
    assert.equal(p.percent, 45);
    assert.equal(p.transferredFiles, 1195);
    assert.equal(p.toCheck, 6);
    assert.equal(p.total, 1203);
    assert.equal(parseProgress('sending incremental file list'), undefined);
  });
});

describe('ssh settings', () => {
  const t: SshTarget = { server: 'zg-3.softxs.ch', host: 'zg-3.softxs.ch', port: 2222, user: 'root', identity: '/root/.ssh/k', hostKey: undefined, knownHostsFile: undefined, rrsync: true, localRoot: '/v01/backup/local' };
  it('never turns host key checking off, runs in batch mode with timeouts', () => {
    const argv = sshArgv(t, ['-o', 'StrictHostKeyChecking=yes'], 7);
    const opts = argv.filter((_, i) => argv[i - 1] === '-o');
    assert.ok(opts.includes('BatchMode=yes'));
    assert.ok(opts.includes('ConnectTimeout=7'));
    assert.ok(opts.includes('StrictHostKeyChecking=yes'));
    assert.ok(!opts.some((o) => /StrictHostKeyChecking=(no|accept-new)/.test(o)));
    assert.deepEqual(argv.slice(1, 5), ['-p', '2222', '-l', 'root']);
  });
  it('offers AES-GCM first on a CPU with AES instructions, and every cipher of OpenSSH\'s default list; else ssh\'s own order', () => {
    const ciphers = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === '-o').find((o) => o.startsWith('Ciphers='));
    assert.equal(ciphers(sshArgv(t, [], 7, true)), `Ciphers=${AES_FIRST_CIPHERS}`);
    assert.equal(AES_FIRST_CIPHERS.split(',')[0], 'aes128-gcm@openssh.com');
    for (const c of ['chacha20-poly1305@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com']) assert.ok(AES_FIRST_CIPHERS.split(',').includes(c), c);
    assert.equal(ciphers(sshArgv(t, [], 7, false)), undefined);
    assert.equal(cpuHasAes('processor\t: 0\nflags\t\t: fpu vme sse2 aes avx2 sha_ni\n'), true);
    assert.equal(cpuHasAes('processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n'), true);
    assert.equal(cpuHasAes('processor\t: 0\nflags\t\t: fpu vme sse2 avx2\nmodel name\t: aes-less\n'), false);
    assert.equal(cpuHasAes(''), false);
  });
  it('asks rrsync for "/" and an unrestricted key for <partition>/local/', () => {
    assert.equal(remoteSource(t), 'zg-3.softxs.ch:/');
    assert.equal(remoteSource({ ...t, rrsync: false }), 'zg-3.softxs.ch:/v01/backup/local/');
  });
  it('authorized_keys line: read-only rrsync of the local tier, restrict, optional from', () => {
    const line = authorizedKeysLine({ publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoo odin', sourcePartition: '/v01/backup', from: '192.0.2.10', comment: 'by odin' });
    assert.equal(line, 'command="/usr/bin/rrsync -ro /v01/backup/local",restrict,from="192.0.2.10" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFoo by odin');
    assert.throws(() => authorizedKeysLine({ publicKey: 'not a key', sourcePartition: '/v01/backup' }), /not a host key/);
    assert.throws(() => authorizedKeysLine({ publicKey: 'ssh-ed25519 AAAA', sourcePartition: '/v01/backup', from: '" ,command="sh' }), /address pattern/);
  });
});

describe('pull outcomes', () => {
  const o = (status: 'ok' | 'warning' | 'failed' | 'locked') => ({ server: 's', status, durationS: 1, attempts: 1 });
  it('exit code: 0 ok or warnings, 5 some failed or locked, 1 all failed, 4 all locked', () => {
    assert.equal(exitCodeFor([o('ok'), o('warning')]), 0);
    assert.equal(exitCodeFor([o('ok'), o('failed')]), 5);
    assert.equal(exitCodeFor([o('failed'), o('failed')]), 1);
    // One rule for every command (lib/model/outcome.ts, docs/exit-codes.md): a lock among successes is partial (5), as for jobs.
    assert.equal(exitCodeFor([o('ok'), o('locked')]), 5);
    assert.equal(exitCodeFor([o('locked'), o('locked')]), 4);
    assert.equal(exitCodeFor([o('failed'), o('locked')]), 1);
  });
  it('explains host key and rrsync path failures', () => {
    assert.match(explainFailure(255, 'Host key verification failed.\r\n', 'a'), /not the pinned one/);
    assert.match(explainFailure(23, 'rsync: change_dir "/x/v01/backup/local" failed: No such file or directory (2)', 'a'), /rrsync: true/);
  });
});

describe('split pulls', () => {
  it('the top-level pass copies the top level only, with deletes and the same link-dest', () => {
    const a = rsyncArgv({ source: '/p/local/', dest: '/b/s.partial', linkDest: '/b/prev', topLevelOnly: true });
    assert.ok(a.includes('--no-recursive') && a.includes('--dirs') && a.includes('--delete'));
    assert.ok(a.indexOf('--no-recursive') > a.indexOf('-a'), '--no-recursive must come after -a to win');
    assert.ok(a.includes('--link-dest=/b/prev'));
    assert.ok(!rsyncArgv({ source: '/p/local/', dest: '/b/s.partial' }).includes('--no-recursive'));
  });

  it('adds the passes\' statistics and counts each folder pass\'s root once', () => {
    const top = { entries: 5, files: 2, dirs: 3, transferredFiles: 1, deletedFiles: 0, totalBytes: 10, transferredBytes: 4, receivedBytes: 50, sentBytes: 7 };
    const f1 = { entries: 4, files: 3, dirs: 1, transferredFiles: 2, deletedFiles: 1, totalBytes: 30, transferredBytes: 30, receivedBytes: 90, sentBytes: 9 };
    const f2 = { entries: 2, files: 0, dirs: 2, transferredFiles: 0, deletedFiles: 0, totalBytes: 0, transferredBytes: 0, receivedBytes: 20, sentBytes: 3 };
    assert.deepEqual(sumRsyncStats([top, f1, f2], 2), { entries: 9, files: 5, dirs: 4, transferredFiles: 3, deletedFiles: 1, totalBytes: 40, transferredBytes: 34, receivedBytes: 160, sentBytes: 19 });
  });
});
