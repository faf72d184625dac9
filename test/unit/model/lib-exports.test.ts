/**
 * docs/architecture.md: one name, one meaning. No two modules of lib/ export a function or a
 * constant of the same name (a copy, or two meanings under one name); a module may re-export
 * another's (`export { X } from`), which this test does not count.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../helpers/cli.js';

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) yield* sources(rel);
    else if (e.name.endsWith('.ts')) yield rel;
  }
}

const EXPORT = /^export (?:async )?function ([A-Za-z0-9_]+)|^export const ([A-Za-z0-9_]+)/gm;

describe('lib/: one definition per exported name', () => {
  it('no function or constant is exported under the same name by two modules', () => {
    const where = new Map<string, string[]>();
    for (const file of sources('lib')) {
      for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(EXPORT)) {
        const name = (m[1] ?? m[2])!;
        where.set(name, [...(where.get(name) ?? []), file]);
      }
    }
    const twice = [...where].filter(([, files]) => files.length > 1).map(([name, files]) => `${name}: ${files.join(', ')}`);
    assert.ok(where.size > 500, `read the exports of lib/ (${where.size})`);
    assert.deepEqual(twice, []);
  });
});
