/** The copy by lists split into parts (lib/tiers/pull/parts.ts): whole folders per part, few changes in one. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { PART_FILES, fileParts } from '../../../../lib/tiers/pull/parts.js';
import { tempDir } from '../../../helpers/tree.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('tierback-parts-')));
after(() => cleanup());

async function split(parts: number, files: string[]): Promise<string[][]> {
  const p = fileParts(dir, parts);
  for (const f of files) await p.add(f);
  await p.close();
  const out: string[][] = [];
  for (const l of p.sinks) out.push(l ? (await readFile(l.file, 'utf8')).split('\n').filter(Boolean) : []);
  return out;
}

describe('the copy by lists in parts', () => {
  it('keeps a few changes in one rsync', async () => {
    const files = Array.from({ length: PART_FILES }, (_, i) => `app/d${i}/f`);
    const got = await split(4, files);
    assert.deepEqual(got[0], files);
    assert.deepEqual(got.slice(1), [[], [], []]);
  });

  it('spreads many changes evenly, a folder never split between parts, every file exactly once', async () => {
    // 1,000 changed files, 5 per folder (the bench's shape), 7 parts.
    const files = Array.from({ length: 1000 }, (_, i) => `vm${i % 7}/d${String(Math.floor(i / 5)).padStart(4, '0')}/f${i}`).sort();
    const got = await split(7, files);
    assert.deepEqual(got.flat().sort(), files);
    const sizes = got.map((g) => g.length);
    assert.ok(Math.min(...sizes) >= 100 && Math.max(...sizes) <= 190, `sizes ${sizes.join(',')}`);
    const partOf = new Map<string, number>();
    got.forEach((g, k) => g.forEach((f) => {
      const folder = f.slice(0, f.lastIndexOf('/'));
      assert.equal(partOf.get(folder) ?? k, k, `${folder} in two parts`);
      partOf.set(folder, k);
    }));
  });

  it('one part is one list, in the given order', async () => {
    const files = Array.from({ length: 100 }, (_, i) => `a/f${String(i).padStart(3, '0')}`);
    assert.deepEqual((await split(1, files))[0], files);
  });
});
