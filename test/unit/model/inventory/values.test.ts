import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCommandArgv, checkDatabaseUser, checkHostKey, checkNetworkHost, checkSshPath, checkUserName } from '../../../../lib/model/inventory/values.js';

describe('inventory values that reach a command line', () => {
  it('hosts: RFC 1123 names and IP addresses; never an option, a space or brackets', () => {
    for (const ok of ['zg-3.softxs.ch', 'localhost', '192.0.2.10', '::1', '2001:db8::7', 'fe80::1%eth0'.split('%')[0]!]) assert.equal(checkNetworkHost(ok), undefined, ok);
    for (const bad of ['-oProxyCommand=touch /tmp/x', '-p2222', 'a.ch -oX', 'a..ch', '[::1]', 'a.ch:22', 'host_name.ch', '']) assert.ok(checkNetworkHost(bad), bad);
    assert.match(checkNetworkHost('-oProxyCommand=x')!.hint, /read as an option/);
    assert.match(checkNetworkHost('/var/run/postgresql')!.hint, /socket:/);
  });
  it('users: POSIX names for ssh and cron; database users without a leading "-"', () => {
    for (const ok of ['root', 'backup', '_tierback', 'svc-backup1']) assert.equal(checkUserName(ok), undefined, ok);
    for (const bad of ['-oProxyCommand=x', 'Root', '1backup', 'a b', 'x'.repeat(33)]) assert.ok(checkUserName(bad), bad);
    for (const ok of ['crmuser', 'App_User', 'svc.backup', 'wp$1']) assert.equal(checkDatabaseUser(ok), undefined, ok);
    for (const bad of ['--command=DROP', '-Uroot', 'a b', "o'neil", '']) assert.ok(checkDatabaseUser(bad), bad);
  });
  it('ssh key files and host keys: no quotes or control characters that rsync -e or known_hosts would split', () => {
    assert.equal(checkSshPath('/root/.ssh/id_ed25519'), undefined);
    assert.ok(checkSshPath("/root/.ssh/id' -oProxyCommand=x '"));
    assert.ok(checkSshPath('/root/.ssh/id\nx'));
    assert.equal(checkHostKey('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3 root@zg-3'), undefined);
    for (const bad of ['-oStrictHostKeyChecking=no', 'ssh-ed25519', 'ssh-ed25519 AAAA\nzg-3 ssh-rsa BBBB', 'rsa AAAA']) assert.ok(checkHostKey(bad), bad);
  });
  it('a command job\'s program is never an option nor empty, and no argument holds NUL', () => {
    assert.equal(checkCommandArgv(['mongodump', '--archive']), undefined);
    assert.equal(checkCommandArgv(['/usr/bin/pg_dumpall', '-c']), undefined);
    assert.equal(checkCommandArgv(['-oProxyCommand=x'])?.index, 0);
    assert.equal(checkCommandArgv([''])?.index, 0);
    assert.equal(checkCommandArgv(['tar', 'a\u0000b'])?.index, 1);
  });
});
