import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseWpConfig, wpConnection } from '../../../../lib/tiers/jobs/wordpress.js';
import { mysqlOptionFile, copyArgv } from '../../../../lib/tiers/jobs/common.js';
import { resolveThisVm } from '../../../../lib/tiers/jobs/select.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { EXAMPLE } from '../../../helpers/cli.js';
import { readFileSync } from 'node:fs';

describe('job plans as data', () => {
  it('reads wp-config.php values without PHP, ignoring commented-out defines and unescaping quotes', () => {
    const c = parseWpConfig(`<?php\n/* define('DB_NAME', 'old'); */\n// define('DB_USER', 'old');\ndefine( 'DB_NAME', 'blog' );\ndefine('DB_USER', "wp");\ndefine('DB_PASSWORD', 'it\\'s');\ndefine('DB_HOST', 'localhost:/run/mysqld/mysqld.sock');\n$table_prefix  = 'wp2_';\n`);
    assert.deepEqual(c, { name: 'blog', user: 'wp', password: "it's", host: 'localhost:/run/mysqld/mysqld.sock', tablePrefix: 'wp2_' });
    assert.equal(wpConnection({ ...c, tablePrefix: 'x' } as never).socket, '/run/mysqld/mysqld.sock');
    assert.equal(wpConnection({ name: 'a', user: 'u', password: 'p', host: '10.0.0.5:3307', tablePrefix: 'wp_' }).port, 3307);
  });
  it('quotes option-file values so passwords with quotes and backslashes survive', () => {
    assert.equal(mysqlOptionFile({ user: 'u', password: 'a"b\\c' }), '[client]\nuser="u"\npassword="a\\"b\\\\c"\n');
  });
  it('builds rsync argv with link-dest and never a shell string', () => {
    assert.deepEqual(copyArgv({ source: '/s/', dest: '/d', linkDest: '/prev', excludes: ['/pids/'] }), ['rsync', '-a', '--numeric-ids', '--no-inc-recursive', '-H', '--link-dest=/prev', '--exclude=/pids/', '/s/', '/d/']);
  });
  it('finds this VM from --vm, $TIERBACK_VM, or the hostname, and a server name for its own apps', () => {
    const site = parseInventory(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);
    assert.deepEqual(resolveThisVm(site, { vm: 'web' }), { vm: 'web', source: 'option' });
    assert.equal(resolveThisVm(site, { env: { TIERBACK_VM: 'wiki' } }).vm, 'wiki');
    assert.deepEqual(resolveThisVm(site, { env: {}, hostname: 'zg-1' }), { vm: '_host', server: 'zg-1.softxs.ch', source: 'hostname' });
    assert.throws(() => resolveThisVm(site, { env: {}, hostname: 'laptop' }), /cannot tell which VM/);
  });
});
