/** The single-file build runs on a machine with only Node: copied alone into an empty folder, no node_modules. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, EXAMPLE } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tree.js';

let dir: string;
let cleanup: () => Promise<void>;
let bundle: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-bundle-'));
  bundle = path.join(dir, 'tierback.mjs');
  const r = await execa(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), bundle], { cwd: ROOT });
  assert.match(r.stdout, /tierback\.mjs: [\d.]+ MB/);
  await copyFile(EXAMPLE, path.join(dir, 'site.yaml'));
});
after(async () => cleanup());

const run = (args: string[]) => execa(process.execPath, [bundle, ...args], { cwd: dir, reject: false, env: { TIERBACK_INVENTORY: '', NODE_PATH: '' } });

describe('bundle: dist/tierback.mjs', () => {
  it('is alone in its folder (nothing to resolve modules from)', async () => {
    assert.deepEqual((await readdir(dir)).sort(), ['site.yaml', 'tierback.mjs']);
  });
  it('prints the version of package.json (embedded: no package.json beside it)', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });
  it('is the size docs/install.md says, within 10% (measured here)', async () => {
    const mb = (await stat(bundle)).size / 1e6;
    const said = /npm run bundle\s+# -> dist\/tierback\.mjs \(about ([\d.]+) MB\)/.exec(await readFile(path.join(ROOT, 'docs/install.md'), 'utf8'));
    assert.ok(said, 'docs/install.md says no size for dist/tierback.mjs');
    const docs = Number(said[1]);
    assert.ok(Math.abs(mb - docs) / mb <= 0.1, `the bundle is ${mb.toFixed(2)} MB; docs/install.md says about ${docs} MB: write the measured size there`);
  });
  it('prints help listing the commands', async () => {
    const r = await run(['--help']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /tierback inventory/);
    assert.match(r.stdout, /tierback schedule/);
    assert.match(r.stdout, /EXIT STATUS/);
  });
  it('checks an inventory, and names a missing one with exit code 3', async () => {
    const ok = await run(['inventory', 'check', '-i', 'site.yaml']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.match(ok.stdout, /OK: 4 servers, 4 VMs, 14 apps/);
    const bad = await run(['inventory', 'check', '-i', 'missing.yaml']);
    assert.equal(bad.exitCode, 3);
    assert.match(bad.stderr, /cannot read inventory missing\.yaml/);
  });
  it('prints a schedule (zod, js-yaml, yargs and the library all bundled)', async () => {
    const r = await run(['schedule', 'web', '-i', 'site.yaml']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^30 1 \* \* \* root \/usr\/local\/bin\/tierback job www /m);
  });
});
