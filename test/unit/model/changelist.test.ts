/** Change lists as files: written from a walk, read back checked, and compared by a streaming merge. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ChangeListError, ChangeListWriter, comparePaths, diffLists, readList, walkSorted, type ListEntry } from '../../../lib/model/changelist.js';
import { tempDir } from '../../helpers/tree.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('tierback-changelist-')));
after(() => cleanup());

const e = (rel: string, type: ListEntry['type'] = 'f', size = 1, mtimeNs = 1n, mode = 0o644): ListEntry => ({ rel, type, size, mtimeNs, mode });
async function* from(xs: ListEntry[]) {
  for (const x of xs) yield x;
}
async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
async function listFile(name: string, lines: string[]): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, gzipSync(`${lines.join('\n')}\n`));
  return f;
}

describe('change lists', () => {
  it('compares paths component by component without splitting them (same order as split-and-compare)', () => {
    const bySplit = (a: string, b: string) => {
      const x = a.split('/');
      const y = b.split('/');
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return x.length - y.length;
    };
    const names = ['a', 'a-b', 'a.b', 'a/b', 'a/b/c', 'a/b-c', 'ab', 'a b', 'A', 'é', 'a/é', 'z', 'a\u0001', 'a/\u{1F600}', 'a/\uFFFF'];
    for (const a of names) for (const b of names) assert.equal(Math.sign(comparePaths(a, b)), Math.sign(bySplit(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  });

  it('orders paths component by component: a folder\'s entries come right after it', () => {
    const xs = ['a-c', 'a/b', 'a', 'a/b/c', 'b'].sort(comparePaths);
    assert.deepEqual(xs, ['a', 'a/b', 'a/b/c', 'a-c', 'b']);
  });

  it('a walk written and read back gives every entry, in order, with its facts', async () => {
    const t = path.join(dir, 'tree');
    await mkdir(path.join(t, 'a/b'), { recursive: true });
    await writeFile(path.join(t, 'a/b/c.txt'), 'hello');
    await writeFile(path.join(t, 'a-c'), 'x');
    await symlink('/etc/passwd', path.join(t, 'link'));
    await writeFile(path.join(t, '.tierback-manifest'), 'not listed');
    const f = path.join(dir, 'tree.gz');
    const w = new ChangeListWriter(f, 'run-1');
    for await (const x of walkSorted(t)) await w.add(x);
    await w.close();
    const got = await all(readList(f));
    assert.deepEqual(got.map((x) => `${x.type} ${x.rel}`), ['d a', 'd a/b', 'f a/b/c.txt', 'f a-c', 'l link']);
    assert.equal(got[2]!.size, 5);
  });

  it('the merge of two lists names what changed, what went, and what changed type', async () => {
    const a = [e('a', 'd'), e('a/x'), e('a/y'), e('b'), e('c', 'f')];
    const b = [e('a', 'd'), e('a/x', 'f', 2), e('b'), e('c', 'd'), e('c/z'), e('d')];
    const d = await all(diffLists(from(a), from(b)));
    assert.deepEqual(
      d.map((x) => (x.deleted ? `- ${x.deleted.rel}` : `${x.retyped ? '~' : '+'} ${x.changed!.rel}`)),
      ['+ a/x', '- a/y', '~ c', '+ c/z', '+ d'],
    );
  });

  it('refuses a list that is cut short, out of order, leaves its folder or could not name every entry', async () => {
    const ok = ['# tierback files v1', '# run r'];
    const cases: [string, string[], RegExp][] = [
      ['short', [...ok, 'f 1 1 644 a'], /cut short/],
      ['order', [...ok, 'f 1 1 644 b', 'f 1 1 644 a', '# end entries=2 files=2 bytes=2'], /out of order/],
      ['escape', [...ok, 'f 1 1 644 ../etc/passwd', '# end entries=1 files=1 bytes=1'], /leaves the folder/],
      ['incomplete', [...ok, '# incomplete', '# end entries=0 files=0 bytes=0'], /could not list/],
      ['totals', [...ok, 'f 1 1 644 a', '# end entries=2 files=2 bytes=2'], /does not match/],
    ];
    for (const [name, lines, re] of cases) {
      await assert.rejects(all(readList(await listFile(name, lines))), (err: Error) => err instanceof ChangeListError && re.test(err.message), name);
    }
    await assert.rejects(all(readList(path.join(dir, 'missing.gz'))), ChangeListError);
    await writeFile(path.join(dir, 'plain'), 'not gzip');
    await assert.rejects(all(readList(path.join(dir, 'plain'))), ChangeListError);
  });
});
