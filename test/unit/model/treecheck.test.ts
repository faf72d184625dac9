import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { describeUnsafe, localTreeProblem, unsafeLevel } from '../../../lib/model/treecheck.js';
import { makeTree, tempDir } from '../../helpers/tree.js';

describe('treecheck: no symlink below a trusted root', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  await makeTree(dir, {
    part: { local: { web: { _history: { 'backup-x-20261130': 'v=1\n', 'backup-y-20261130': { symlink: '/etc/passwd' } }, 'a.ch': { deep: {} }, dangling: { symlink: 'nowhere' }, file: 'x' } } },
    linked: { symlink: 'part' },
  });
  const part = path.join(dir, 'part');

  it('accepts real folders, missing levels, and a root that is itself a symlink', () => {
    assert.equal(unsafeLevel(part, ['local', 'web', 'a.ch', 'deep']), undefined);
    assert.equal(unsafeLevel(part, ['local', 'web', 'new.ch', 'deeper']), undefined);
    assert.equal(unsafeLevel(path.join(dir, 'linked'), ['local', 'web']), undefined);
    assert.equal(unsafeLevel(part, ['local', 'web', '_history', 'backup-x-20261130'], { lastIsFile: true }), undefined);
  });
  it('names the first symlink, where it points, and a dangling one', () => {
    const u = unsafeLevel(path.join(part, 'local', 'web'), ['_history', 'backup-y-20261130'], { lastIsFile: true });
    assert.equal(u?.kind, 'symlink');
    assert.equal(u?.index, 1);
    assert.match(describeUnsafe(u!), /backup-y-20261130 is a symlink to \/etc\/passwd/);
    const d = unsafeLevel(part, ['local', 'web', 'dangling', 'x']);
    assert.equal(d?.path, path.join(part, 'local', 'web', 'dangling'));
    assert.match(describeUnsafe(d!), /is a symlink to nowhere \(dangling\)/);
  });
  it('refuses a file where a folder belongs', () => {
    const u = unsafeLevel(part, ['local', 'web', 'file']);
    assert.equal(u?.kind, 'not a folder');
    assert.match(describeUnsafe(u!), /file exists but is not a folder/);
  });
  it('localTreeProblem: status reason for a symlinked VM folder or _history', async () => {
    assert.equal(localTreeProblem(part, 'web'), undefined);
    await makeTree(path.join(part, 'local'), { db: { symlink: path.join(dir, 'elsewhere') } });
    assert.match(localTreeProblem(part, 'db') ?? '', /^refused: .*local\/db is a symlink to .*elsewhere \(dangling\)/);
  });
});
