import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tierback } from '../../helpers/cli.js';
import { useTempDir } from '../../helpers/tree.js';
import { ago, DAY, HOUR, localHistory, makeSnapshot, pullHistory, writeRun, writeSite } from '../../helpers/history-site.js';

// The CLI reads the real clock: histories are crafted relative to now.
const NOW = new Date();

describe('tierback status / history (CLI)', () => {
  const tmp = useTempDir('tierback-status-cli-');
  let inv: string;
  before(async () => {
    ({ file: inv } = await writeSite(tmp.dir));
    for (const app of ['alpha', 'beta', 'gamma', 'delta']) {
      await writeRun(localHistory(tmp.dir, app === 'delta' ? '_host' : 'web'), { name: app, start: ago(NOW, DAY + HOUR), mb: 10, files: 3 });
      await writeRun(localHistory(tmp.dir, app === 'delta' ? '_host' : 'web'), { name: app, start: ago(NOW, HOUR), mb: 10, files: 3 });
    }
  });

  it('all OK: exit 0, a table, --check says OK with perfdata', async () => {
    const r = await tierback(['status', '-i', inv, '--root', tmp.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^APP\s+TIER\s+ON\s+STATE/m);
    assert.match(r.stdout, /alpha\s+local\s+app1\.test\.example\s+OK/);
    const c = await tierback(['status', '-i', inv, '--root', tmp.dir, '--check']);
    assert.equal(c.code, 0);
    assert.match(c.stdout, /^TIERBACK OK - 4\/4 ok \| ok=4 .*oldest_age=\d+s$/);
  });

  it('a failure: exit 1, --check CRITICAL (2), --json lists it; TIERBACK_ROOT works like --root', async () => {
    await writeRun(localHistory(tmp.dir), { name: 'beta', start: ago(NOW, 10 * 60_000), minutes: 1, status: 'failed', error: 'disk full' });
    const r = await tierback(['status', '-i', inv, '--root', tmp.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /beta\s+local.*FAILED.*disk full/);
    const c = await tierback(['status', '-i', inv, '--check'], { env: { TIERBACK_ROOT: tmp.dir } });
    assert.equal(c.code, 2);
    assert.match(c.stdout, /^TIERBACK CRITICAL - 3\/4 ok, 1 failed; beta\/local=FAILED \| .*failed=1/);
    const j = await tierback(['status', '-i', inv, '--root', tmp.dir, '--json', 'beta']);
    const report = JSON.parse(j.stdout) as { rows: { app: string; state: string; reason: string }[] };
    assert.deepEqual(report.rows.map((x) => [x.app, x.state]), [['beta', 'FAILED']]);
  });

  it('--check is UNKNOWN (3) with a reason when the inventory cannot be read, or nothing is visible', async () => {
    const c = await tierback(['status', '-i', `${tmp.dir}/nope.yaml`, '--check']);
    assert.equal(c.code, 3);
    assert.match(c.stdout, /^TIERBACK UNKNOWN - cannot read inventory/);
    const e = await tierback(['status', '-i', inv, '--root', `${tmp.dir}/empty`, '--check']);
    assert.equal(e.code, 3);
    assert.match(e.stdout, /no app backups visible/);
  });

  it('history APP --since lists runs from local and pulled copies once, plus the pulls', async () => {
    const carried = await makeSnapshot(tmp.dir, ago(NOW, 30 * 60_000));
    const old = await writeRun(localHistory(tmp.dir), { name: 'alpha', start: ago(NOW, 40 * DAY), mb: 9 });
    // The pulled copy holds the same two recent runs as the local history.
    await writeRun(carried, { name: 'alpha', start: ago(NOW, 2 * DAY), mb: 8 });
    await writeRun(pullHistory(tmp.dir), { name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', start: ago(NOW, 30 * 60_000) });
    const r = await tierback(['history', 'alpha', '-i', inv, '--root', tmp.dir, '--since', '30d', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const h = JSON.parse(r.stdout) as { entries: { run: string; kind: string; seenIn: string[] }[] };
    assert.ok(!h.entries.some((e) => e.run === old), 'a run older than --since is listed');
    assert.equal(h.entries.filter((e) => e.kind === 'job').length, 3);
    assert.equal(h.entries.filter((e) => e.kind === 'pull').length, 1);
    const all = await tierback(['history', 'alpha', '-i', inv, '--root', tmp.dir, '--no-pulls']);
    assert.match(all.stdout, /4 runs/);
    const bad = await tierback(['history', 'alpha', '-i', inv, '--root', tmp.dir, '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a duration/);
  });
});
