/**
 * A snapshot's point names the job run its copy holds (the manifest's `# run`), even when that job
 * started within the same second as the pull (snapshot stamps are to the second): `list` must not
 * show the run before it, or no run at all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { findApp } from '../../../../lib/model/inventory/model.js';
import { listPoints } from '../../../../lib/tiers/restore/points.js';
import { backUp, buildDemoSite, type DemoSite } from '../../../helpers/demosite.js';
import { tempDir } from '../../../helpers/tree.js';

describe('list: the run a snapshot holds', () => {
  let tmp: string;
  let cleanup: () => Promise<void>;
  let d: DemoSite;
  before(async () => {
    ({ dir: tmp, cleanup } = await tempDir('tierback-points-run-'));
    d = await buildDemoSite(path.join(tmp, 'demo'));
    await backUp(d.site, new Date('2026-02-01T01:00:00.000Z'), new Date('2026-02-01T03:00:00.000Z'));
    // Day 2: the job starts 400 ms into the second the pull then starts in (stamp 2026-02-02T010000Z).
    await backUp(d.site, new Date('2026-02-02T01:00:00.400Z'), new Date('2026-02-02T01:00:00.900Z'));
  });
  after(() => cleanup());

  it('is the run of the manifest, not the newest run started before the stamp', async () => {
    const points = await listPoints(d.site, findApp(d.site, 'shop'));
    const remote = points.filter((p) => p.tier === 'remote');
    const local = points.find((p) => p.tier === 'local')!;
    assert.equal(remote.length, 2);
    const current = remote.find((p) => p.snapshot === '2026-02-02T010000Z')!;
    assert.equal(current.status, 'ok');
    assert.equal(current.run, local.run, 'the snapshot holds the day-2 run, as the local folder does');
    assert.equal(current.at.toISOString(), '2026-02-02T01:00:00.400Z');
    assert.notEqual(remote[0]!.run, current.run);
  });
});
