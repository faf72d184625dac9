import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { assertInside, writeFileAtomic } from '../../../lib/base/fsutil.js';
import { RefusedError } from '../../../lib/base/errors.js';
import { makeTree, tempDir } from '../../helpers/tree.js';

describe('fsutil', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  await makeTree(dir, {
    partition: { local: { web: { 'a.ch': { 'f.txt': 'x' }, escape: { symlink: '/etc' }, inside: { symlink: 'a.ch' } } } },
  });
  const part = path.join(dir, 'partition');

  it('accepts paths inside the partition, existing or not', async () => {
    assert.equal(await assertInside(part, path.join(part, 'local/web/a.ch/f.txt')), path.join(await import('node:fs/promises').then((m) => m.realpath(part)), 'local/web/a.ch/f.txt'));
    await assertInside(part, path.join(part, 'local/web/new/deeper'));
    await assertInside(part, path.join(part, 'local/web/inside/f.txt'));
  });
  it('refuses symlinks and .. that escape the partition', async () => {
    await assert.rejects(assertInside(part, path.join(part, 'local/web/escape/passwd')), RefusedError);
    await assert.rejects(assertInside(part, path.join(part, 'local/../../etc')), RefusedError);
  });
  it('writes files atomically with mode 0600 and leaves no temp file', async () => {
    const file = path.join(dir, 'out', 'state.txt');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    assert.equal(await readFile(file, 'utf8'), 'two');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(path.dirname(file)), ['state.txt']);
  });
});
