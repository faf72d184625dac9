/** The demo ends with the one command that serves its sandbox; run it as printed and sign in with Chromium. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { CLI, ROOT, tierback } from '../../../helpers/cli.js';
import { freePort, waitFor } from '../../../helpers/net.js';
import { tempDir } from '../../../helpers/tree.js';
import { launch } from '../../../helpers/web.js';

describe('demo: the web interface', () => {
  it('prints the serve command last; that command serves the sandbox and the demo account signs in', async () => {
    const { dir: parent, cleanup } = await tempDir('tierback-webdemo-');
    after(cleanup);
    const dir = path.join(parent, 'demo');
    const r = await tierback(['demo', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const lines = r.stdout.trimEnd().split('\n');
    const command = lines.at(-1)!;
    assert.match(command, /^node build\/cli\/tierback\.js serve --inventory \S+ --users \S+$/);
    const intro = lines.at(-2)!;
    const m = /sign in as "(\w+)" with the password in (\S+) \(/.exec(intro);
    assert.ok(m, intro);
    const [, user, passwordFile] = m;
    assert.equal((await stat(passwordFile!)).mode & 0o777, 0o600);
    const password = (await readFile(passwordFile!, 'utf8')).trim();
    assert.doesNotMatch(r.stdout, new RegExp(password), 'the password is never printed');
    const port = await freePort();
    const argv = command.split(' ').slice(2);
    const proc = execa(process.execPath, [CLI, ...argv, '--port', String(port)], { cwd: ROOT, reject: false, env: { TIERBACK_INVENTORY: '' } });
    const browser = await launch();
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/login`)).ok, 'tierback serve');
      const page = await browser.newPage();
      await page.goto(`${url}/login`);
      await page.fill('input[name=user]', user!);
      await page.fill('input[name=password]', password);
      await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
      const states = await page.$$eval('table.status td.state', (tds) => tds.map((td) => td.textContent));
      assert.equal(states.length, 6);
      assert.ok(states.every((s) => s === 'OK'), states.join(' '));
    } finally {
      await browser.close();
      proc.kill('SIGTERM');
      await proc;
    }
  });
});
