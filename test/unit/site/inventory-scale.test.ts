/**
 * Inventory check at scale: 100k apps are checked in seconds, nested and
 * shared relpaths among them are still found, and files too large or expanding through YAML
 * aliases are refused in bounded time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InventoryError } from '../../../lib/base/errors.js';
import { MAX_INVENTORY_BYTES, loadInventory, validateInventoryText } from '../../../lib/site/load.js';
import { crossFieldProblems } from '../../../lib/site/rules.js';
import { tierback } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tree.js';
import { problemsOf as problemsOfText } from '../../helpers/inventory-problems.js';

const N = 100_000;

/** An inventory of `n` files apps in one VM, with `extra` app lines at the end. */
function bigInventory(n: number, extra: string[] = []): string {
  const lines = ['version: 1', 'servers:', '  - { fqdn: zg-3.softxs.ch }', 'vms:', '  - { name: web, server: zg-3.softxs.ch }', 'apps:'];
  for (let i = 0; i < n; i++) lines.push(`  - { name: app${i}, server: zg-3.softxs.ch, vm: web, path: /srv/app${i}, relpath: "v${i % 100}.softxs.ch/app${i}", type: files }`);
  return `${[...lines, ...extra].join('\n')}\n`;
}

const NESTED = [
  // inside app7's folder, and holding app12's folder: both nested, found among 100k
  '  - { name: inner, server: zg-3.softxs.ch, vm: web, path: /srv/inner, relpath: "v7.softxs.ch/app7/data", type: files }',
  '  - { name: outer, server: zg-3.softxs.ch, vm: web, path: /srv/outer, relpath: "v12.softxs.ch", type: files }',
  '  - { name: twin, server: zg-3.softxs.ch, vm: web, path: /srv/twin, relpath: "v99.softxs.ch/app99999", type: files }',
];

let tmp: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir: tmp, cleanup } = await tempDir('tierback-invscale-')));
after(() => cleanup());

const problemsOf = (text: string, file = 'big.yaml') => problemsOfText(text, file, validateInventoryText);

describe('inventory check: 100k apps', () => {
  it('the cross-field rules of 100k apps take well under 5 s, and still find nested and shared relpaths', () => {
    const raw = { version: 1, servers: [{ fqdn: 'zg-3.softxs.ch' }], vms: [{ name: 'web', server: 'zg-3.softxs.ch' }], apps: [] as Record<string, unknown>[] };
    for (let i = 0; i < N; i++) raw.apps.push({ name: `app${i}`, server: 'zg-3.softxs.ch', vm: 'web', path: `/srv/app${i}`, relpath: `v${i % 100}.softxs.ch/app${i}`, type: 'files', options: {} });
    raw.apps.push({ name: 'inner', server: 'zg-3.softxs.ch', vm: 'web', path: '/srv/inner', relpath: 'v7.softxs.ch/app7/data', type: 'files', options: {} });
    const t = Date.now();
    const problems = crossFieldProblems(raw);
    const ms = Date.now() - t;
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.deepEqual(problems.map((p) => [p.path, p.message]), [[`apps[${N}].relpath`, `"v7.softxs.ch/app7/data" and "v7.softxs.ch/app7" of app "app7" (apps[7]) are nested`]]);
  });

  it('the whole check of a 100k-app file (YAML, schema, rules) reports each clash with its path', () => {
    const t = Date.now();
    const problems = problemsOf(bigInventory(N, NESTED));
    const ms = Date.now() - t;
    assert.ok(ms < 20_000, `took ${ms} ms`);
    const lines = problems.map((p) => `${p.path} ${p.message}`);
    assert.ok(lines.includes(`apps[${N}].relpath "v7.softxs.ch/app7/data" and "v7.softxs.ch/app7" of app "app7" (apps[7]) are nested`), lines.join('\n'));
    // v12.softxs.ch holds app12, app112, ... app99912: a thousand apps inside it.
    const outer = problems.filter((p) => p.path === `apps[${N + 1}].relpath`);
    assert.equal(outer.length, N / 100);
    assert.match(outer[0]!.message, /"v12\.softxs\.ch" and "v12\.softxs\.ch\/app12" of app "app12" \(apps\[12\]\) are nested/);
    assert.ok(lines.includes(`apps[${N + 2}].relpath "v99.softxs.ch/app99999" on VM web is already used by app "app99999" (apps[99999])`), lines.join('\n'));
    assert.equal(problems.length, 2 + N / 100);
  });

  it('the CLI checks a valid 100k-app file and says OK', async () => {
    const file = path.join(tmp, 'big.yaml');
    await writeFile(file, bigInventory(N));
    const t = Date.now();
    const r = await tierback(['inventory', 'check', '-i', file]);
    const ms = Date.now() - t;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK: 1 servers, 1 VMs, 100000 apps/);
    assert.ok(ms < 30_000, `took ${ms} ms`);
  });
});

describe('inventory check: bounded input', () => {
  it('refuses a 50 MB file before reading it, naming the file and the limit (exit 2)', async () => {
    const file = path.join(tmp, 'huge.yaml');
    await writeFile(file, '');
    await truncate(file, 50 * 1024 * 1024);
    const r = await tierback(['inventory', 'check', '-i', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.match(r.stderr, /is 50\.0 MB, more than the 32\.0 MB an inventory may be/);
    await assert.rejects(loadInventory({ file }), (e: unknown) => e instanceof InventoryError && e.problems[0]!.path === '(file)');
    assert.equal(MAX_INVENTORY_BYTES, 32 * 1024 * 1024);
  });

  it('refuses YAML aliases that expand far beyond the file ("billion laughs") quickly', () => {
    const lines = ['version: 1', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    lines.push('servers: [{ fqdn: a.ch }]');
    const t = Date.now();
    const problems = problemsOf(lines.join('\n'));
    assert.ok(Date.now() - t < 2000, `took ${Date.now() - t} ms`);
    assert.deepEqual(problems.map((p) => p.path), ['(file)']);
    assert.match(problems[0]!.message, /expands to more values than the file holds/);
  });

  it('still reads a file that uses an alias or two', () => {
    const text = `version: 1
defaults: { retention: { local: &keep { daily: 7 }, remote: *keep } }
servers: [{ fqdn: a.ch }]
`;
    assert.deepEqual(validateInventoryText(text, 'a.yaml').defaults.retention.remote, { daily: 7 });
  });
});
