/**
 * `tierback schedule --check` reads the durations of the jobs from the history this machine sees
 * and says which jobs will not end before the pull; the schedule it prints lays them out by those
 * durations. `inventory check` warns from the inventory alone.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { jobHistoryDir } from '../../../../lib/model/convention.js';
import { appendRecord, newRunId } from '../../../../lib/model/history.js';
import { tempDir } from '../../../helpers/tree.js';
import { tierback } from '../../../helpers/cli.js';
import { scheduleInventory } from '../../../helpers/schedule-site.js';

let dir: string;
let cleanup: () => Promise<void>;
let inv: string;
const NOW = '2026-03-10T12:00:00Z';

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-schedule-check-'));
  const part = path.join(dir, 'part');
  inv = path.join(dir, 'site.yaml');
  await writeFile(
    inv,
    scheduleInventory({
      head: ['defaults: { schedule: "30 1 * * *", pull_schedule: "0 3 * * *" }'],
      app: 'app1.example.org',
      backup: 'backup1.example.org',
      appServer: `, partition: ${part}`,
      vms: ['web'],
      apps: [['big', 'web', 'big'], ['small', 'web', 'small'], ['tail', 'web', 'tail', ', schedule: "40 2 * * *", duration: 30m']],
    }),
  );
  // Five nights of "big" taking 70-110 minutes (median 90), as its job writes them.
  for (const [day, mins] of [[5, 70], [6, 110], [7, 90], [8, 95], [9, 85]] as const) {
    const start = new Date(`2026-03-0${day}T01:30:00Z`);
    const end = new Date(start.getTime() + mins * 60_000);
    const run = newRunId(start);
    const base = { run, name: 'big', kind: 'job', tier: 'local' as const, start, type: 'files' };
    await appendRecord(jobHistoryDir(part, 'web'), { ...base, status: 'running' }, 'UTC');
    await appendRecord(jobHistoryDir(part, 'web'), { ...base, status: 'ok', end, durationS: mins * 60, files: 10, mb: 1 }, 'UTC');
  }
});
after(async () => cleanup());

describe('schedule --check', () => {
  it('lays the jobs out by the durations in history and says which end after the pull, by how much', async () => {
    const env = { TIERBACK_HOST: 'app1.example.org', TZ: 'UTC' };
    const r = await tierback(['schedule', 'app1.example.org', '--check', '-i', inv, '--now', NOW], { env });
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^LATE app tail: expected to end at 03:10 \(30 min, apps\[\]\.duration\), 10 min after the pull at 03:00 by backup1\.example\.org \[apps\[2\]\.schedule\]$/m);
    assert.match(r.stdout, /2 of 3 app job\(s\) of app1\.example\.org end before the pull at 03:00 by backup1\.example\.org, 2 side by side; 1 duration\(s\) estimated/);
    // "small" starts after "big"'s 90 minutes: 03:00 would collide with the pull, so two run side by side
    const j = await tierback(['schedule', 'web', '--json', '-i', inv, '--now', NOW], { env });
    assert.equal(j.code, 0, j.stderr);
    const plan = JSON.parse(j.stdout) as { plan: { entries: { id: string; cron: string; source: string }[] } };
    const crons = Object.fromEntries(plan.plan.entries.map((e) => [e.id, e.cron]));
    assert.deepEqual(crons, { 'job-big': '30 1 * * *', 'job-small': '30 1 * * *', 'job-tail': '40 2 * * *' });
    assert.match(plan.plan.entries[1]!.source, /lane 2 of 2/);
  });

  it('inventory check warns about the explicit job that ends after the pull, from the inventory alone', async () => {
    const r = await tierback(['inventory', 'check', '-i', inv]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^warning: apps\[2\]: app tail: expected to end at 03:10 .*10 min after the pull at 03:00/m);
  });
});
