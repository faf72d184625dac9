import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { EXAMPLE } from '../../helpers/cli.js';
import { InventoryError } from '../../../lib/base/errors.js';
import { knownKeysAt, locateInventory, parseInventory } from '../../../lib/site/load.js';
import { findApp, pullersOf } from '../../../lib/model/inventory/model.js';
import { HOST_VM } from '../../../lib/model/convention.js';
import { problemsOf } from '../../helpers/inventory-problems.js';

const exampleText = readFileSync(EXAMPLE, 'utf8');


describe('inventory: the example site', () => {
  const site = parseInventory(exampleText, EXAMPLE);
  it('loads the three SoftXS servers and the backup server', () => {
    assert.deepEqual(site.servers.map((s) => s.fqdn), ['zg-1.softxs.ch', 'zg-3.softxs.ch', 'loki.softxs.ch', 'odin.softxs.ch']);
  });
  it('resolves the Hydro demo to VM web on zg-3 with the default partition and mount', () => {
    const hydro = findApp(site, 'hydro');
    assert.equal(hydro.server, 'zg-3.softxs.ch');
    assert.equal(hydro.vm, 'web');
    assert.equal(hydro.relpath, 'v2.softxs.ch/hydro');
    assert.equal(hydro.partition, '/v01/backup');
    assert.equal(hydro.mount, '/backup');
    assert.equal(hydro.keepDumps, 7);
    assert.equal(hydro.staleAfterMs, 26 * 3600 * 1000);
  });
  it('puts the DrawMGT apps of zg-1 ("n/a" VM) on the reserved host VM', () => {
    const drawmgt = site.apps.filter((a) => a.server === 'zg-1.softxs.ch');
    assert.equal(drawmgt.length, 9);
    for (const a of drawmgt) {
      assert.equal(a.vm, HOST_VM);
      assert.equal(a.mount, '/v01/backup/local/_host');
      assert.equal(a.type, 'files');
    }
  });
  it('knows which backup servers pull which server', () => {
    assert.deepEqual(pullersOf(site, 'zg-3.softxs.ch').map((b) => b.server), ['odin.softxs.ch', 'loki.softxs.ch']);
    assert.deepEqual(pullersOf(site, 'zg-1.softxs.ch').map((b) => b.server), ['odin.softxs.ch']);
  });
  it('applies the site retention per tier', () => {
    assert.deepEqual(findApp(site, 'hydro').retention, { daily: 7 });
    assert.equal(site.backupServers[0]!.retention.yearly, 120);
  });
  it('suggests the closest app name for a typo', () => {
    assert.throws(() => findApp(site, 'hydor'), /no app "hydor"/);
    try {
      findApp(site, 'hydor');
    } catch (err) {
      assert.match((err as { hint: string }).hint, /did you mean "hydro"/);
    }
  });
});

describe('inventory: validation reports every problem at once', () => {
  it('collects schema and cross-field problems of one file together, each with its path and app', () => {
    const problems = problemsOf(`version: 1
servers:
  - { fqdn: zg-3.softxs.ch }
apps:
  - { name: a, server: zg-3.softxs.ch, vm: web, path: /a, relpath: ../a, type: files }
  - { name: b, server: zg-9.softxs.ch, path: /b, relpath: b.ch, type: files }
  - { name: c, server: zg-3.softxs.ch, path: /c, relpath: b.ch, type: nope }
`);
    const byPath = new Map(problems.map((p) => [p.path, p]));
    assert.match(byPath.get('apps[0].relpath')!.message, /traversal/);
    assert.equal(byPath.get('apps[0].relpath')!.subject, 'a');
    assert.match(byPath.get('apps[0].vm')!.message, /unknown VM "web"/);
    assert.match(byPath.get('apps[1].server')!.message, /unknown server "zg-9.softxs.ch"/);
    assert.match(byPath.get('apps[2].type')!.message, /unknown job type/);
    assert.ok(problems.every((p) => p.hint && p.hint.length > 0), 'every problem has a hint');
  });
  it('allows the same relpath on two VMs but not twice on one', () => {
    const base = `version: 1
servers: [{ fqdn: s.ch }]
vms: [{ name: a, server: s.ch }, { name: b, server: s.ch }]
apps:
  - { name: x, server: s.ch, vm: a, path: /x, relpath: w.ch, type: files }
  - { name: y, server: s.ch, vm: VM, path: /y, relpath: w.ch, type: files }
`;
    assert.doesNotThrow(() => parseInventory(base.replace('VM', 'b'), 't.yaml'));
    assert.match(problemsOf(base.replace('VM', 'a'))[0]!.message, /already used by app "x"/);
  });
  it('allows the same relpath on the host of two servers', () => {
    assert.doesNotThrow(() =>
      parseInventory(
        `version: 1
servers: [{ fqdn: s1.ch }, { fqdn: s2.ch }]
apps:
  - { name: x, server: s1.ch, path: /x, relpath: w.ch, type: files }
  - { name: y, server: s2.ch, path: /y, relpath: w.ch, type: files }
`,
        't.yaml',
      ),
    );
  });
  it('lets a backup server pull itself only with the local transport', () => {
    const text = `version: 1
servers: [{ fqdn: b.ch, role: both }]
backup_servers: [{ server: b.ch, pulls: [{ server: b.ch, transport: local }] }]
`;
    const site = parseInventory(text, 't.yaml');
    assert.deepEqual(site.backupServers[0]!.pulls, [{ server: 'b.ch', transport: 'local', bwlimit: undefined }]);
  });
  it('knows the keys allowed at each inventory path', () => {
    assert.ok(knownKeysAt([]).includes('backup_servers'));
    assert.ok(knownKeysAt(['apps', 0]).includes('relpath'));
    assert.ok(knownKeysAt(['servers', 2, 'ssh']).includes('host_key'));
    assert.ok(knownKeysAt(['defaults', 'retention', 'remote']).includes('quarterly'));
    assert.deepEqual(knownKeysAt(['apps', 0, 'name']), []);
  });
});

describe('inventory: which file is used', () => {
  it('prefers -i, then $TIERBACK_INVENTORY, then the default path', () => {
    assert.deepEqual(locateInventory({ file: 'a.yaml', env: { TIERBACK_INVENTORY: 'b.yaml' } }), { file: 'a.yaml', source: 'option' });
    assert.deepEqual(locateInventory({ env: { TIERBACK_INVENTORY: 'b.yaml' } }), { file: 'b.yaml', source: 'environment' });
    assert.deepEqual(locateInventory({ env: {} }), { file: '/etc/tierback/inventory.yaml', source: 'default' });
  });
});

describe('inventory: the reference in docs/inventory.md', () => {
  it('is exactly what the schema generates (run `tierback inventory schema --markdown > docs/inventory.md`)', async () => {
    const { inventoryReferenceMarkdown } = await import('../../../lib/site/reference.js');
    const { ROOT } = await import('../../helpers/cli.js');
    const onDisk = readFileSync(`${ROOT}/docs/inventory.md`, 'utf8');
    assert.equal(onDisk, inventoryReferenceMarkdown());
  });
  it('documents every key of the example inventory', async () => {
    const { ROOT } = await import('../../helpers/cli.js');
    const doc = readFileSync(`${ROOT}/docs/inventory.md`, 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
    const paths = keyPaths(yaml.load(exampleText));
    // the walk reaches the deep keys (a walk that stopped at the top would check little)
    for (const deep of ['defaults.retention.remote.quarterly', 'servers[].ssh.user', 'offsite.targets[].remote', 'monitoring.prometheus.textfile']) {
      assert.ok(paths.includes(deep), deep);
    }
    const missing = paths.filter((p) => !documented.has(p));
    assert.deepEqual(missing, [], `keys of inventory/example.yaml without a row in docs/inventory.md: ${missing.join(', ')}`);
  });
});

/** Every key path of a YAML value, as docs/inventory.md writes them: `a.b`, `list[].key`. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => keyPaths(v, `${prefix}[]`)))];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    return [p, ...keyPaths(v, p)];
  });
}
