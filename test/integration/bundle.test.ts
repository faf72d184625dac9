/** The single-file build runs on a machine with only Node: copied alone into an empty folder, no node_modules. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, EXAMPLE } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';

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
