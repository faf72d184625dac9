/** defaults.prune.after_job / after_pull: the runners prune after each successful run (real jobs, real rsync pulls). */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseInventory } from '../../../../lib/site/load.js';
import { runJobs } from '../../../../lib/tiers/jobs/run.js';
import { runPulls } from '../../../../lib/tiers/pull/pull.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { tempDir } from '../../../helpers/tree.js';

function site(dir: string, afterRuns: boolean) {
  const partition = path.join(dir, 'partition');
  const text = `version: 1
defaults:
  partition: ${partition}
  timezone: UTC
  keep_dumps: 10
  retention: { local: { last: 2 }, remote: { last: 2 } }
  prune: { after_job: ${afterRuns}, after_pull: ${afterRuns} }
servers: [{ fqdn: srv.test.example, role: both }]
apps:
  - { name: dumpy, server: srv.test.example, path: ${dir}, relpath: dumpy.test.example, type: command, options: { argv: [printf, hello] } }
backup_servers:
  - { server: srv.test.example, pulls: [{ server: srv.test.example, transport: local }] }
`;
  return parseInventory(text, path.join(dir, 'inventory.yaml'));
}

const day = (n: number) => new Date(Date.UTC(2026, 10, n, 1, 0, 0));

for (const afterRuns of [true, false]) {
  describe(`prune after runs: ${afterRuns ? 'on' : 'off'}`, async () => {
    const { dir, cleanup } = await tempDir();
    after(cleanup);
    const s = site(dir, afterRuns);
    await mkdir(path.join(s.apps[0]!.partition, 'local', '_host'), { recursive: true });
    await writeFile(path.join(dir, 'marker'), 'x');
    const log = silentLogger();

    it(`${afterRuns ? 'keeps only the 2 newest' : 'keeps all 4'} dumps after 4 jobs`, async () => {
      for (const n of [1, 2, 3, 4]) {
        const [o] = await runJobs(s, s.apps, { log, now: () => day(n) });
        assert.equal(o!.status, 'ok', o!.error?.message);
      }
      const db = path.join(s.apps[0]!.mount, 'dumpy.test.example', 'db');
      const dumps = (await readdir(db)).filter((f) => f.startsWith('dumpy-')).sort();
      assert.equal(dumps.length, afterRuns ? 2 : 4, dumps.join(' '));
      assert.ok(dumps.at(-1)!.startsWith('dumpy-2026-11-04T010000Z'));
    });
    it(`${afterRuns ? 'keeps only the 2 newest' : 'keeps all 3'} snapshots after 3 pulls, the newest current`, async () => {
      for (const n of [5, 6, 7]) {
        const [o] = await runPulls(s, s.backupServers[0]!, { log, now: () => day(n), retries: 0 });
        assert.equal(o!.status, 'ok', o!.error);
      }
      const snaps = (await readdir(path.join(s.apps[0]!.partition, 'snapshots', 'srv.test.example'))).filter((n) => /Z$/.test(n)).sort();
      assert.deepEqual(snaps, afterRuns ? ['2026-11-06T010000Z', '2026-11-07T010000Z'] : ['2026-11-05T010000Z', '2026-11-06T010000Z', '2026-11-07T010000Z']);
    });
  });
}
