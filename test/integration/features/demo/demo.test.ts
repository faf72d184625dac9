/** The README's first command: the demo runs end to end on its embedded site (real git, sqlite3, rsync). */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, readlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';

describe('demo', async () => {
  const { dir: parent, cleanup } = await tempDir();
  after(cleanup);
  const dir = path.join(parent, 'demo');

  it('runs jobs, two pulls, history and status, and exits 0', async () => {
    const r = await tierback(['demo', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Every job and pull succeeded/);
    assert.match(r.stdout, /6 rows: 6 OK/);
    for (const app of ['shop', 'code', 'docs']) assert.match(r.stdout, new RegExp(`^  ${app}\\s+ok\\s`, 'm'));
  });
  it('leaves two dated snapshots, the newest current, sharing unchanged files by hardlink', async () => {
    const snaps = (await readdir(path.join(dir, 'partition/snapshots/sandbox.tierback.test'))).filter((n) => /Z$/.test(n)).sort();
    assert.equal(snaps.length, 2);
    assert.equal(await readlink(path.join(dir, 'partition/remote/sandbox.tierback.test')), `../snapshots/sandbox.tierback.test/${snaps[1]}`);
    const scan = (s: string) => path.join(dir, 'partition/snapshots/sandbox.tierback.test', s, '_host/docs.example.org');
    const files = await readdir(scan(snaps[1]!), { recursive: true });
    const contract = files.find((f) => String(f).endsWith('contract-2026.txt'));
    assert.ok(contract, files.join(', '));
    const [a, b] = await Promise.all([stat(path.join(scan(snaps[0]!), String(contract))), stat(path.join(scan(snaps[1]!), String(contract)))]);
    assert.equal(a.ino, b.ino, 'unchanged file is one inode in both snapshots');
    assert.ok(a.nlink >= 2);
  });
  it('refuses to wipe a folder that is not a demo sandbox', async () => {
    const other = path.join(parent, 'precious');
    await mkdir(other);
    await writeFile(path.join(other, 'data.txt'), 'keep me');
    const r = await tierback(['demo', '--dir', other]);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /not a tierback demo sandbox/);
    assert.ok((await stat(path.join(other, 'data.txt'))).isFile());
  });
});
