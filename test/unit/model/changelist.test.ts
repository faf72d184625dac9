/** Change lists as files: written from a walk, read back checked, and compared by a streaming merge. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ChangeListError, ChangeListWriter, comparePaths, comparePathsAt, leaves, readList, readListBatches, readListLines, walkSorted, type ListEntry } from '../../../lib/model/changelist.js';
import { diffBatches, diffListFiles, diffLists } from '../../../lib/model/changelist-diff.js';
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
    // Within list lines (the path after the facts, without slicing it out): the same order.
    for (const a of names) for (const b of names) assert.equal(Math.sign(comparePathsAt(`f 1 2 644 ${a}`, 10, `d 0 12 75 ${b}`, 10)), Math.sign(bySplit(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)} in lines`);
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

  it('tells a path that leaves its folder from names with dots (one scan, no split)', () => {
    for (const rel of ['..', '.', '../a', './a', 'a/..', 'a/.', 'a/../b', 'a/./b', '/a', 'a/', 'a//b', '']) assert.equal(leaves(rel) || rel === '', true, rel);
    for (const rel of ['a', '.a', '..a', 'a..', 'a/.b', 'a/..b', 'a/b.', 'a.b/c..d', '...', 'a/...', 'f1.bin']) assert.equal(leaves(rel), false, rel);
    // From an index (a list line's path): what comes before it does not count.
    for (const rel of ['..', '../a', 'a/.', '/a', 'a//b']) assert.equal(leaves(`f 1 1 644 ${rel}`, 10), true, rel);
    for (const rel of ['a', '.a', 'a/..b', 'f1.bin']) assert.equal(leaves(`f 1 1 644 ${rel}`, 10) || leaves(`./a/${rel}`, 4), false, rel);
  });

  it('refuses malformed entry fields (size, mtime, octal mode) like a parse of each field would', async () => {
    const ok = ['# tierback files v1', '# run r'];
    for (const bad of ['f x 1 644 a', 'f 1 1x 644 a', 'f 1 1 648 a', 'f  1 644 a', 'f 1 1 644 ', 'g 1 1 644 a', 'f1 1 644 a', '#x']) {
      await assert.rejects(all(readList(await listFile('bad', [...ok, bad, '# end entries=1 files=1 bytes=1']))), (err: Error) => err instanceof ChangeListError && /not an entry/.test(err.message), bad);
    }
    const got = await all(readList(await listFile('good', [...ok, 'f 12 1767225600123456789 0755 a b', '# end entries=1 files=1 bytes=12'])));
    assert.deepEqual(got, [{ rel: 'a b', type: 'f', size: 12, mtimeNs: 1767225600123456789n, mode: 0o755 }]);
  });

  it('the batched merge of two large lists gives the same differences as a merge of entries, whatever the batch boundaries', async () => {
    // Two lists of 20,000 entries (several gzip chunks each): a few changed, deleted, added and retyped.
    const n = 20000;
    const folder = (i: number) => `d${String(Math.floor(i / 50)).padStart(4, '0')}`;
    const name = (i: number) => `${folder(i)}/f${String(i).padStart(6, '0')}`;
    const lines = (variant: boolean) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        if (i % 50 === 0) out.push(`d 0 1 755 ${folder(i)}`);
        if (variant && i % 997 === 0) continue; // deleted
        const type = variant && i % 1999 === 0 ? 'l' : 'f';
        const size = variant && i % 101 === 0 ? 2 : 1;
        out.push(`${type} ${size} 1 644 ${name(i)}`);
        if (variant && i % 1503 === 0) out.push(`f 1 1 644 ${name(i)}x`); // added
      }
      const files = out.filter((l) => l.startsWith('f '));
      const bytes = files.reduce((t, l) => t + Number(l.split(' ')[1]), 0);
      return ['# tierback files v1', '# run r', ...out, `# end entries=${out.length} files=${files.length} bytes=${bytes}`];
    };
    const a = await listFile('big-a', lines(false));
    const b = await listFile('big-b', lines(true));
    const show = (x: { deleted?: ListEntry; changed?: ListEntry; retyped?: boolean }) => (x.deleted ? `- ${x.deleted.rel}` : `${x.retyped ? '~' : '+'} ${x.changed!.rel}`);
    const byEntry = (await all(diffLists(readList(a), readList(b)))).map(show);
    const batched: string[] = [];
    let batches = 0;
    for await (const ds of diffBatches(readListBatches(a), readListBatches(b))) {
      batches++;
      batched.push(...ds.map(show));
    }
    assert.deepEqual(batched, byEntry);
    // By lines (what a pull uses): the same differences, with the same facts.
    const full = (x: { deleted?: ListEntry; changed?: ListEntry; before?: ListEntry; retyped?: boolean }) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    const byLines: string[] = [];
    for await (const ds of diffListFiles(readListLines(a), readListLines(b))) byLines.push(...ds.map(full));
    assert.deepEqual(byLines, (await all(diffLists(readList(a), readList(b)))).map(full));
    assert.ok(byEntry.length > 200, `${byEntry.length} differences`);
    assert.ok(batches > 1, 'several batches');
    assert.ok(byEntry.includes(`- ${name(997)}`) && byEntry.includes(`~ ${name(1999)}`) && byEntry.includes(`+ ${name(1503)}x`) && byEntry.includes(`+ ${name(101)}`));
    // Equal lists: no difference at all.
    assert.deepEqual(await all(diffBatches(readListBatches(b), readListBatches(b))), []);
    assert.deepEqual(await all(diffListFiles(readListLines(b), readListLines(b))), []);
    // The same facts written with other digits ("0644"): a line that differs, reported only when the facts do.
    const c = await listFile('big-c', lines(true).map((l) => l.replace(/^f 1 1 644 (d0000\/f00000[1-4])$/, 'f 1 1 0644 $1')));
    assert.deepEqual(await all(diffListFiles(readListLines(b), readListLines(c))), []);
    // A reader that stops after its first batch, and a list whose gzip stops mid-stream: both end, neither hangs.
    const it = readListLines(b)[Symbol.asyncIterator]();
    assert.equal((await it.next()).done, false);
    await it.return(undefined);
    const cut = path.join(dir, 'cut.gz');
    const bytes = await readFile(b);
    await writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(all(readListLines(cut)), ChangeListError);
    const garbled = Buffer.from(bytes);
    garbled.fill(0x55, 2000, 2400);
    await assert.rejects(all(readListLines(path.join(dir, 'garbled.gz'))), ChangeListError); // not written yet: missing
    await writeFile(path.join(dir, 'garbled.gz'), garbled);
    await assert.rejects(all(readListLines(path.join(dir, 'garbled.gz'))), ChangeListError);
  });
});
