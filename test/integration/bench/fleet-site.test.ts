/**
 * The fleet bench's site generator (bench/fleet-site.ts) at a tiny size: the inventory it writes
 * passes `tierback inventory check`, every server is placed, and `tierback status` on one backup
 * server reads the year of history it wrote (so the bench cannot rot unnoticed).
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { generateFleetSite, type FleetSite } from '../../../bench/fleet-site.js';
import { tierback } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tree.js';
import * as C from '../../../lib/model/convention.js';

describe('bench/fleet-site.ts at a tiny size', () => {
  let fleet: FleetSite;
  let cleanup: () => Promise<void>;
  const now = new Date();
  before(async () => {
    const t = await tempDir('tierback-fleet-site-');
    cleanup = t.cleanup;
    fleet = await generateFleetSite(t.dir, { servers: 10, vmsPerServer: 3, apps: 50, backupServers: 4, days: 5 }, now);
  });
  after(async () => cleanup?.());

  it('writes an inventory that tierback inventory check accepts, with every server placed', async () => {
    const r = await tierback(['inventory', 'check', '-i', fleet.inventory]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const pulled = new Set(fleet.site.backupServers.flatMap((b) => b.pulls.map((p) => p.server)));
    assert.equal(pulled.size, 10);
    assert.equal(fleet.site.apps.length, 50);
    assert.ok(new Set(fleet.site.apps.map((a) => a.type)).size >= 5, 'app types are mixed');
  });

  it('writes a day of history per app and pulled server, which status on a backup server reads', async () => {
    const b = fleet.site.backupServers.find((x) => x.pulls.length > 0)!;
    const hist = await readdir(`${fleet.root}${C.serverHistoryDir(b.partition)}`);
    assert.equal(hist.length, b.pulls.length * 5);
    const r = await tierback(['status', '--json', '-i', fleet.inventory, '--root', fleet.root, '--host', b.server]);
    const rows = (JSON.parse(r.stdout) as { rows: { tier: string; state: string; app: string }[] }).rows;
    const apps = fleet.site.apps.filter((a) => b.pulls.some((p) => p.server === a.server));
    assert.equal(rows.filter((x) => x.tier === 'remote').length, apps.length);
    assert.ok(rows.filter((x) => x.state === 'OK').length >= apps.length - 2, JSON.stringify(rows.filter((x) => x.state !== 'OK')));
  });
});
