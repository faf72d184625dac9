/** The web interface's pure parts: request paths, patterns, escaping, passwords, sessions, the sign-in throttle, tar names. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hashPassword, readAccounts, setUser, verifyPassword } from '../../../../lib/features/web/accounts.js';
import { matcher } from '../../../../lib/features/web/browse.js';
import { splitRequestPath } from '../../../../lib/features/web/fspath.js';
import { html, raw } from '../../../../lib/features/report/html.js';
import { Sessions, Throttle } from '../../../../lib/features/web/sessions.js';
import { tarGz } from '../../../../lib/features/web/tar.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

describe('web: request paths', () => {
  it('splits plain paths into names', () => {
    assert.deepEqual(splitRequestPath(''), []);
    assert.deepEqual(splitRequestPath('shared/config/database.yml'), ['shared', 'config', 'database.yml']);
    assert.deepEqual(splitRequestPath('files/'), ['files']);
  });
  for (const bad of ['..', 'a/../b', './a', '/etc/passwd', 'a//b', 'a\0b', 'a\\..\\b', '%2e%2e', 'a/%2F/b']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => splitRequestPath(bad), /refused/));
  }
});

describe('web: find patterns', () => {
  it('matches a substring anywhere, case-insensitively', () => {
    const m = matcher('Database.yml');
    assert.ok(m('shared/config/database.yml'));
    assert.ok(!m('shared/config/db.yml'));
  });
  it('matches a name pattern at any depth, a path pattern from the top, ** across folders', () => {
    assert.ok(matcher('*.pdf')('a/b/invoice.pdf'));
    assert.ok(!matcher('*.pdf')('a/b/invoice.pdf.txt'));
    assert.ok(matcher('shared/config/*.yml')('shared/config/database.yml'));
    assert.ok(!matcher('shared/config/*.yml')('x/shared/config/database.yml'));
    assert.ok(!matcher('shared/*.yml')('shared/config/database.yml'));
    assert.ok(matcher('shared/**.yml')('shared/config/database.yml'));
    assert.ok(matcher('a.b')('a.b') && !matcher('a?b')('a/b'));
  });
});

describe('web: escaping templates', () => {
  it('escapes every value, keeps fragments and raw markup', () => {
    const name = '<script>alert("x")</script>&\'';
    const out = html`<td title="${name}">${name}${html`<b>${name}</b>`}${raw('<br>')}${[1, '<i>']}</td>`.text;
    assert.equal(out, '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</b><br>1&lt;i&gt;</td>');
  });
});

describe('web: accounts', () => {
  it('stores scrypt hashes in a 0600 file and verifies only the right password', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'etc', 'users.json');
      await setUser(file, 'ops', 'correct horse', ['shop']);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
      const text = await readFile(file, 'utf8');
      assert.doesNotMatch(text, /correct horse/);
      const a = (await readAccounts(file)).users['ops']!;
      assert.deepEqual(a.apps, ['shop']);
      assert.match(a.hash, /^scrypt\$16384\$8\$1\$/);
      assert.equal(await verifyPassword('correct horse', a.hash), true);
      assert.equal(await verifyPassword('correct horsf', a.hash), false);
      assert.equal(await verifyPassword('x', 'plain'), false);
      assert.notEqual(await hashPassword('same'), await hashPassword('same'), 'salted');
      await assert.rejects(setUser(file, 'ops', 'short', '*'), /shorter than 8/);
      await assert.rejects(setUser(file, '../x', 'long enough', '*'), /not allowed/);
    } finally {
      await cleanup();
    }
  });
});

describe('web: sessions and throttle', () => {
  it('expires sessions', () => {
    let t = 0;
    const s = new Sessions(1000, () => t);
    const a = s.create('ops');
    assert.equal(s.get(a.id)?.user, 'ops');
    t = 1000;
    assert.equal(s.get(a.id), undefined);
  });
  it('lets four failures pass, then makes each further attempt wait twice as long', () => {
    let t = 0;
    const th = new Throttle(() => t);
    const k = ['u:ops', 'a:1.2.3.4'];
    for (let i = 0; i < 4; i++) th.fail(k);
    assert.equal(th.wait(k), 0);
    th.fail(k);
    assert.equal(th.wait(k), 1000);
    t = 1000;
    th.fail(k);
    assert.equal(th.wait(k), 2000);
    assert.equal(th.wait(['u:other']), 0);
    th.succeed(k);
    assert.equal(th.wait(k), 0);
  });
});

describe('web: tar writer', () => {
  it('writes long names, links and empty folders that GNU tar unpacks as they were', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const long = 'n'.repeat(120);
      await makeTree(path.join(dir, 'src'), { [long]: { [`${long}.txt`]: 'deep\n' }, empty: {}, link: { symlink: '../outside' }, 'ü.txt': 'utf8\n' });
      const out = path.join(dir, 'a.tar.gz');
      await pipeline(tarGz(path.join(dir, 'src'), 'top'), createWriteStream(out));
      await mkdir(path.join(dir, 'x'));
      execFileSync('tar', ['-xzf', out, '-C', path.join(dir, 'x')]);
      assert.equal(await readFile(path.join(dir, 'x', 'top', long, `${long}.txt`), 'utf8'), 'deep\n');
      assert.equal(await readFile(path.join(dir, 'x', 'top', 'ü.txt'), 'utf8'), 'utf8\n');
      assert.ok((await stat(path.join(dir, 'x', 'top', 'empty'))).isDirectory());
      assert.equal(execFileSync('readlink', [path.join(dir, 'x', 'top', 'link')]).toString().trim(), '../outside');
    } finally {
      await cleanup();
    }
  });
});
