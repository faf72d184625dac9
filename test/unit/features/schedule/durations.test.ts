/** recentJobDurations: the median job duration of each app of a server, from one scan of the machine. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { recentJobDurations } from '../../../../lib/features/schedule/durations.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { buildFleetSite, FLEET_BACKUP, serverName } from '../../../helpers/fleet-site.js';
import { tempDir } from '../../../helpers/tree.js';

describe('recentJobDurations', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const fleet = buildFleetSite(dir, { servers: 3, appsPerServer: 4, days: 12 });
  const site = parseInventory(readFileSync(fleet.inventory, 'utf8'), fleet.inventory);

  it('gives every app of the server its median from the history carried to the backup server', async () => {
    const d = await recentJobDurations(site, serverName(2), { root: dir, host: FLEET_BACKUP, now: fleet.now });
    assert.deepEqual([...d.entries()].sort(), [['app0005', 120], ['app0006', 120], ['app0007', 120], ['app0008', 120]]);
  });

  it('is empty (every app estimated) when this machine cannot be scanned', async () => {
    const d = await recentJobDurations(site, serverName(2), { root: dir, host: 'nowhere.test', now: fleet.now });
    assert.equal(d.size, 0);
  });
});
