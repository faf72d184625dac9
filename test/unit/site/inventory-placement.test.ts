import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InventoryError } from '../../../lib/base/errors.js';
import { parseInventory } from '../../../lib/site/load.js';
import type { Site } from '../../../lib/model/inventory/model.js';
import { parseSize } from '../../../lib/model/inventory/placement.js';

/** A fleet of `n` servers with log-normal sizes (a fixed seed), pulled by `backups` backup servers with `pulls: auto`. */
function fleet(n: number, backups: string[], opts: { capacity?: Record<string, string>; extra?: string } = {}): string {
  let seed = 20261130;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const gauss = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  const lines = ['version: 1', 'servers:'];
  for (let i = 0; i < n; i++) {
    const gb = Math.max(1, Math.round(Math.exp(Math.log(50) + gauss())));
    lines.push(`  - { fqdn: s${i}.example.org, size: ${gb}G${i % 10 === 0 ? ', copies: 2' : ''} }`);
  }
  for (const b of backups) lines.push(`  - { fqdn: ${b}, role: backup }`);
  lines.push('backup_servers:');
  for (const b of backups) lines.push(`  - { server: ${b}, pulls: auto${opts.capacity?.[b] ? `, capacity: ${opts.capacity[b]}` : ''} }`);
  return `${lines.join('\n')}\n${opts.extra ?? ''}`;
}

const B = (k: number) => Array.from({ length: k }, (_, i) => `b${i}.example.org`);

/** server -> sorted list of its backup servers. */
function owners(site: Site): Map<string, string> {
  const m = new Map<string, string[]>();
  for (const b of site.backupServers) for (const p of b.pulls) m.set(p.server, [...(m.get(p.server) ?? []), b.server]);
  return new Map([...m].map(([k, v]) => [k, v.sort().join(',')]));
}

describe('inventory: pulls: auto', () => {
  it('pulls every server exactly its copies times, never twice from one backup server', () => {
    const site = parseInventory(fleet(200, B(4)), 'fleet.yaml');
    const o = owners(site);
    assert.equal(o.size, 200);
    for (let i = 0; i < 200; i++) {
      const by = o.get(`s${i}.example.org`)!.split(',');
      assert.equal(by.length, i % 10 === 0 ? 2 : 1, `s${i}`);
      assert.equal(new Set(by).size, by.length);
    }
    assert.ok(site.backupServers.every((b) => b.pulls.every((p) => p.placed === true)));
  });

  it('balances bytes within 10% of the fair share on a 200-server fleet', () => {
    const site = parseInventory(fleet(200, B(4)), 'fleet.yaml');
    const bytes = B(4).map((b) => site.placement.backupBytes.get(b)!);
    const mean = bytes.reduce((a, b) => a + b) / bytes.length;
    for (const x of bytes) assert.ok(Math.abs(x / mean - 1) <= 0.1, `${bytes.map((v) => (v / mean).toFixed(3)).join(' ')}`);
  });

  it('is stable: adding a fifth backup server moves about a fifth of the servers, the rest stay', () => {
    const four = owners(parseInventory(fleet(200, B(4)), 'fleet.yaml'));
    const five = owners(parseInventory(fleet(200, B(5)), 'fleet.yaml'));
    let moved = 0;
    for (const [s, by] of four) if (five.get(s) !== by) moved++;
    // 20% is the least any placement can move (the new backup server takes its fifth); 2-copy servers move with either copy.
    assert.ok(moved >= 0.18 * 200 && moved <= 0.3 * 200, `moved ${moved} of 200`);
  });

  it('is deterministic and independent of the order of backup_servers', () => {
    const a = owners(parseInventory(fleet(60, B(3)), 'a.yaml'));
    const b = owners(parseInventory(fleet(60, [...B(3)].reverse()), 'b.yaml'));
    assert.deepEqual([...a].sort(), [...b].sort());
  });

  it('gives a backup server with twice the capacity about twice the bytes', () => {
    const site = parseInventory(fleet(200, B(3), { capacity: { 'b0.example.org': '40T', 'b1.example.org': '20T', 'b2.example.org': '20T' } }), 'cap.yaml');
    const [b0, b1, b2] = B(3).map((b) => site.placement.backupBytes.get(b)!);
    assert.ok(b0! / ((b1! + b2!) / 2) > 1.8 && b0! / ((b1! + b2!) / 2) < 2.2, `${b0} ${b1} ${b2}`);
  });

  it('adds the missing copy of a hand-listed server on another backup server', () => {
    const site = parseInventory(
      `version: 1
servers:
  - { fqdn: a.example.org, copies: 2 }
  - { fqdn: c.example.org }
  - { fqdn: x.example.org, role: backup }
  - { fqdn: y.example.org, role: backup }
backup_servers:
  - { server: x.example.org, pulls: [a.example.org] }
  - { server: y.example.org, pulls: auto }
`,
      'mix.yaml',
    );
    assert.deepEqual(owners(site).get('a.example.org'), 'x.example.org,y.example.org');
    assert.deepEqual(owners(site).get('c.example.org'), 'y.example.org');
    assert.deepEqual(site.warnings, []);
  });
});

describe('inventory check: who pulls whom', () => {
  const base = (backup: string) => `version: 1
servers:
  - { fqdn: a.example.org }
  - { fqdn: lost.example.org }
  - { fqdn: x.example.org, role: backup }
backup_servers:
${backup}
`;
  it('errors on a server pulled by no backup server, naming it and what to do', () => {
    assert.throws(
      () => parseInventory(base('  - { server: x.example.org, pulls: [a.example.org] }'), 'none.yaml'),
      (err: unknown) =>
        err instanceof InventoryError &&
        err.problems.some((p) => p.path === 'servers[1]' && /lost\.example\.org" is pulled by no backup server/.test(p.message) && /pulls: auto/.test(p.hint ?? '')),
    );
  });
  it('warns when a server is pulled more often than its copies', () => {
    const site = parseInventory(
      `version: 1
servers:
  - { fqdn: a.example.org }
  - { fqdn: x.example.org, role: backup }
  - { fqdn: y.example.org, role: backup }
backup_servers:
  - { server: x.example.org, pulls: [a.example.org] }
  - { server: y.example.org, pulls: [a.example.org] }
`,
      'twice.yaml',
    );
    assert.deepEqual(site.warnings.map((w) => w.path), ['servers[0]']);
    assert.match(site.warnings[0]!.message, /pulled by 2 backup servers \(x\.example\.org, y\.example\.org\) but has copies: 1/);
  });
  it('parses sizes in powers of 1000', () => {
    assert.deepEqual(['300G', '1.5T', '800M', '12', 'x'].map(parseSize), [300e9, 1.5e12, 800e6, 12, undefined]);
  });
});
