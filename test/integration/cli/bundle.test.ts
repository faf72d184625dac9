/** The bundled build runs on a machine with only Node: its folder alone, in an empty folder, no node_modules. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT, EXAMPLE } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tree.js';

let dir: string;
let cleanup: () => Promise<void>;
let bundle: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-bundle-'));
  bundle = path.join(dir, 'tierback', 'tierback.mjs');
  const r = await execa(process.execPath, [path.join(ROOT, 'scripts/bundle.mjs'), path.join(dir, 'tierback')], { cwd: ROOT });
  assert.match(r.stdout, /tierback\.mjs: [\d.]+ MB with \d+ chunks/);
  await copyFile(EXAMPLE, path.join(dir, 'site.yaml'));
});
after(async () => cleanup());

const run = (args: string[]) => execa(process.execPath, [bundle, ...args], { cwd: dir, reject: false, env: { TIERBACK_INVENTORY: '', NODE_PATH: '' } });

/** Every file of the bundle folder and its size. */
async function files(): Promise<{ name: string; text: string }[]> {
  const chunks = (await readdir(path.join(dir, 'tierback', 'chunks'))).map((c) => path.join('chunks', c));
  return Promise.all(['tierback.mjs', ...chunks].map(async (name) => ({ name, text: await readFile(path.join(dir, 'tierback', name), 'utf8') })));
}

describe('bundle: dist/tierback/', () => {
  it('is its own folder: the entry and its chunks, nothing to resolve modules from', async () => {
    assert.deepEqual((await readdir(dir)).sort(), ['site.yaml', 'tierback']);
    assert.deepEqual((await readdir(path.join(dir, 'tierback'))).sort(), ['chunks', 'tierback.mjs']);
    assert.ok((await readdir(path.join(dir, 'tierback', 'chunks'))).every((c) => c.endsWith('.mjs')));
  });
  it('parses only the entry point at start-up: yargs, the web server, ssh2, zod are chunks loaded when a command line needs them', async () => {
    const all = new Map((await files()).map((f) => [f.name, f.text]));
    // The static imports of the entry, and theirs: what node parses for `--version`.
    const seen = new Set<string>();
    const todo = ['tierback.mjs'];
    while (todo.length) {
      const name = todo.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const m of all.get(name)!.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*"(\.[^"]+)";|^import\s*"(\.[^"]+)";/gms)) {
        todo.push(path.join(path.dirname(name), (m[1] ?? m[2])!));
      }
    }
    const eager = [...seen].map((n) => all.get(n)!).join('\n');
    assert.match(eager, /cli\/tierback\.ts/);
    // `--version` alone is answered before yargs; every command line loads it (and its command) after.
    for (const lazy of ['yargs', 'fastify', 'ssh2', 'zod', 'js-yaml', 'pino']) assert.doesNotMatch(eager, new RegExp(`node_modules/${lazy}/`), `${lazy} is parsed at startup`);
    const bytes = [...seen].reduce((n, f) => n + Buffer.byteLength(all.get(f)!), 0);
    assert.ok(bytes < 0.1e6, `the start-up part of the bundle is ${(bytes / 1e6).toFixed(2)} MB`);
  });
  it('runs node with a 2 MB young generation through its shebang, as installed (a pull then peaks ~15 MB lower: bench/pull.ts --rss)', async () => {
    const first = (await readFile(bundle, 'utf8')).split('\n', 1)[0];
    assert.equal(first, '#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1');
    assert.equal((await readFile(path.join(ROOT, 'cli/tierback.ts'), 'utf8')).split('\n', 1)[0], first, 'build/ and the bundle run the same way');
  });
  it('runs through a symlink elsewhere (/usr/local/bin/tierback -> the folder): chunks are found beside the real file', async () => {
    await mkdir(path.join(dir, 'bin'));
    await symlink(bundle, path.join(dir, 'bin', 'tierback'));
    const r = await execa(path.join(dir, 'bin', 'tierback'), ['inventory', 'check', '-i', 'site.yaml'], { cwd: dir, reject: false, env: { TIERBACK_INVENTORY: '', NODE_PATH: '' } });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /OK: 4 servers/);
  });
  it('prints the version of package.json (embedded: no package.json beside it)', async () => {
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await run(['--version']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.version);
  });
  it('is the size docs/install.md says, within 10% (measured here)', async () => {
    const mb = (await files()).reduce((n, f) => n + Buffer.byteLength(f.text), 0) / 1e6;
    const said = /npm run bundle\s+# -> dist\/tierback\/ \(about ([\d.]+) MB\)/.exec(await readFile(path.join(ROOT, 'docs/install.md'), 'utf8'));
    assert.ok(said, 'docs/install.md says no size for dist/tierback/');
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
