/** `tierback users` and `tierback serve` run from the bundle (fastify and scrypt in its chunks). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { EXAMPLE, ROOT } from '../../../helpers/cli.js';
import { freePort, waitFor } from '../../../helpers/net.js';
import { tempDir } from '../../../helpers/tree.js';

let dir: string;
let cleanup: () => Promise<void>;
let bundle: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-webbundle-'));
  bundle = path.join(dir, 'tierback', 'tierback.mjs');
  await execa(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), path.join(dir, 'tierback')], { cwd: ROOT });
  await copyFile(EXAMPLE, path.join(dir, 'site.yaml'));
});
after(async () => cleanup());

describe('bundle: the web interface', () => {
  it('adds an account and serves the site; the account signs in and sees only its app', async () => {
    const env = { TIERBACK_INVENTORY: path.join(dir, 'site.yaml'), NODE_PATH: '' };
    const add = await execa(process.execPath, [bundle, 'users', 'add', 'hydro', '--apps', 'hydro', '--users', 'users.json', '--generate', 'hydro.pw'], { cwd: dir, env, reject: false });
    assert.equal(add.exitCode, 0, add.stderr);
    assert.equal((await stat(path.join(dir, 'users.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dir, 'hydro.pw'))).mode & 0o777, 0o600);
    const password = (await readFile(path.join(dir, 'hydro.pw'), 'utf8')).trim();
    const port = await freePort();
    const proc = execa(process.execPath, [bundle, 'serve', '--users', 'users.json', '--port', String(port)], { cwd: dir, env, reject: false });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${url}/login`)).ok, 'serve from the bundle');
      const auth = { authorization: `Basic ${Buffer.from(`hydro:${password}`).toString('base64')}` };
      const r = await fetch(`${url}/api/apps`, { headers: auth });
      assert.equal(r.status, 200);
      assert.deepEqual(((await r.json()) as { apps: { name: string }[] }).apps.map((a) => a.name), ['hydro']);
      assert.equal((await fetch(`${url}/api/apps`)).status, 401);
    } finally {
      proc.kill('SIGTERM');
      await proc;
    }
  });
});
