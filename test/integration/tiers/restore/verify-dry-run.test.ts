/** `tierback verify --dry-run` on the demo site (real jobs and pull): the plan, and nothing copied, loaded or recorded. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describeCommand } from '../../../../lib/base/exec.js';
import type { DrillPlan } from '../../../../lib/tiers/restore/drill-plan.js';
import { backUp, buildDemoSite, type DemoSite } from '../../../helpers/demosite.js';
import { tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';
import { treeState } from '../../../helpers/treestate.js';

let tmp: string;
let cleanup: () => Promise<void>;
let d: DemoSite;
let scratch: string;

before(async () => {
  ({ dir: tmp, cleanup } = await tempDir('tierback-verify-dry-'));
  d = await buildDemoSite(path.join(tmp, 'demo'));
  await backUp(d.site, new Date('2026-02-01T01:00:00Z'), new Date('2026-02-01T03:00:00Z'));
  scratch = path.join(tmp, 'scratch');
  await mkdir(scratch);
});
after(() => cleanup());

/** The scratch folder's random part made constant. */
const stable = (s: string) => s.replace(/(tierback-drill-[a-z0-9-]+?-)[A-Za-z0-9]{6}\//g, '$1XXXXXX/');

describe('tierback verify --dry-run', () => {
  it('changes nothing (no history line, no scratch folder), prints the plan; the real drill runs the copy it printed', async () => {
    const before = await treeState(tmp);
    const r = await tierback(['verify', 'shop', '--dry-run', '--scratch', scratch, '-i', d.site.file, '--now', '2026-02-01T04:00:00Z']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await treeState(tmp), before, 'nothing copied, loaded or recorded');
    assert.match(r.stdout, /shop: would drill local/);
    assert.match(r.stdout, /history: +\S+\/_history\/backup-verify-shop-20260201 /);
    assert.match(r.stdout, /\.sqlite\.sql\.gz: loaded into \S+production\.sqlite3/);
    const j = await tierback(['verify', 'shop', '--dry-run', '--json', '--scratch', scratch, '-i', d.site.file]);
    assert.equal(j.code, 0, j.stderr);
    const [plan] = JSON.parse(j.stdout) as DrillPlan[];
    assert.equal(plan!.commands[0]!.argv[0], 'rsync');
    assert.deepEqual(await treeState(tmp), before);
    const real = await tierback(['verify', 'shop', '--json', '--scratch', scratch, '-i', d.site.file]);
    assert.equal(real.code, 0, real.stdout + real.stderr);
    const [outcome] = JSON.parse(real.stdout) as { commands: string[] }[];
    assert.equal(stable(outcome!.commands[0]!), stable(describeCommand(plan!.commands[0]!.argv)));
  });
});
