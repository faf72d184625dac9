/** pruneDumps on a real local-tier db/ folder. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useCleanups } from '../../../helpers/tree.js';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../../../lib/model/convention.js';
import { appendRecord } from '../../../../lib/model/history.js';
import { pruneDumps } from '../../../../lib/tiers/retention/index.js';
import { freshSite } from '../../../helpers/snapshots.js';

const at = (d: number, h = 1) => new Date(Date.UTC(2025, 0, d, h, 30, 0));

async function fresh(extra?: Parameters<typeof freshSite>[1]) {
  const f = await freshSite('tierback-prune-dumps-', extra);
  const app = f.site.apps[0]!;
  const db = C.localDumpDir(f.partition, app.vm, app.relpath);
  await mkdir(db, { recursive: true });
  return { ...f, app, db };
}

describe('pruneDumps', () => {
  const keep = useCleanups();

  it('applies the policy per database, removes a dump with its companion files, never touches other files', async () => {
    const f = keep(await fresh({ appRetention: '{ daily: 3 }' }));
    for (let d = 1; d <= 10; d++) {
      const s = C.snapshotStamp(at(d));
      await writeFile(path.join(f.db, C.dumpFileName('hydro', s, 'sql.gz')), `dump ${d}`);
      await writeFile(path.join(f.db, `${C.dumpFileName('hydro', s, 'sql.gz')}.sha256`), `sum ${d}`);
      if (d % 2 === 0) await writeFile(path.join(f.db, C.dumpFileName('hydro_jobs', s, 'dump')), `jobs ${d}`);
    }
    // Two dumps the same day: only the later one is the day's.
    await writeFile(path.join(f.db, C.dumpFileName('hydro', C.snapshotStamp(at(10, 0)), 'sql.gz')), 'early');
    await writeFile(path.join(f.db, 'README'), 'keep me');
    await writeFile(path.join(f.db, '.hydro.partial-x'), 'being written');
    const outside = path.join(f.dir, 'outside.sql.gz');
    await writeFile(outside, 'not ours');
    await symlink(outside, path.join(f.db, C.dumpFileName('hydro', C.snapshotStamp(at(1, 5)), 'sql.gz')));

    const results = await pruneDumps(f.site, f.app, { now: at(11) });
    assert.deepEqual(results.map((r) => r.subject), ['hydro/hydro', 'hydro/hydro_jobs']);
    const [hydro, jobs] = results as [(typeof results)[0], (typeof results)[0]];
    assert.deepEqual(hydro.kept.map((k) => k.id), [8, 9, 10].reverse().map((d) => `hydro-${C.snapshotStamp(at(d))}`));
    assert.equal(hydro.removed.length, 8);
    assert.deepEqual(jobs.kept.map((k) => k.id), [6, 8, 10].reverse().map((d) => `hydro_jobs-${C.snapshotStamp(at(d))}`));
    assert.equal(hydro.policySource, 'defaults.retention.local');

    const left = (await readdir(f.db)).sort();
    const want = [
      ...[8, 9, 10].flatMap((d) => [C.dumpFileName('hydro', C.snapshotStamp(at(d)), 'sql.gz'), `${C.dumpFileName('hydro', C.snapshotStamp(at(d)), 'sql.gz')}.sha256`]),
      ...[6, 8, 10].map((d) => C.dumpFileName('hydro_jobs', C.snapshotStamp(at(d)), 'dump')),
      C.dumpFileName('hydro', C.snapshotStamp(at(1, 5)), 'sql.gz'),
      'README',
      '.hydro.partial-x',
    ].sort();
    assert.deepEqual(left, want);
    assert.equal(await readFile(outside, 'utf8'), 'not ours');
    assert.deepEqual(hydro.skipped.map((s) => s.id).sort(), [C.dumpFileName('hydro', C.snapshotStamp(at(1, 5)), 'sql.gz'), 'README'].sort());
    const hist = await readdir(C.jobHistoryDir(f.partition, 'web'));
    assert.deepEqual(hist, ['backup-prune-hydro-20250111']);
  });

  it('keeps everything while the newest job has failed beyond the grace; the newest dump survives any policy', async () => {
    const f = keep(await fresh({ appRetention: '{ within: 1h }' }));
    for (let d = 1; d <= 4; d++) await writeFile(path.join(f.db, C.dumpFileName('hydro', C.snapshotStamp(at(d)), 'sql.gz')), 'x');
    const hist = C.jobHistoryDir(f.partition, 'web');
    await appendRecord(hist, { run: 'j5', name: 'hydro', kind: 'job', tier: 'local', status: 'failed', start: at(5), end: at(5), error: 'mysqldump: access denied' }, 'UTC');
    const [held] = await pruneDumps(f.site, f.app, { now: at(6) });
    assert.match(held!.held!, /newest job \(run j5.*\) failed: mysqldump: access denied/);
    assert.equal((await readdir(f.db)).length, 4);
    await appendRecord(hist, { run: 'j6', name: 'hydro', kind: 'job', tier: 'local', status: 'ok', start: at(6), end: at(6) }, 'UTC');
    const [ok] = await pruneDumps(f.site, f.app, { now: at(6) });
    assert.equal(ok!.held, undefined);
    assert.deepEqual(ok!.kept.map((k) => [k.id, k.reasons]), [[`hydro-${C.snapshotStamp(at(4))}`, ['newest']]]);
    assert.deepEqual(await readdir(f.db), [C.dumpFileName('hydro', C.snapshotStamp(at(4)), 'sql.gz')]);
  });

  it('dry run lists the same decision and removes nothing', async () => {
    const f = keep(await fresh({ appRetention: '{ last: 1 }' }));
    for (let d = 1; d <= 3; d++) await writeFile(path.join(f.db, C.dumpFileName('hydro', C.snapshotStamp(at(d)), 'sql.gz')), 'x');
    const [r] = await pruneDumps(f.site, f.app, { now: at(4), dryRun: true });
    assert.equal(r!.removed.length, 2);
    assert.equal((await readdir(f.db)).length, 3);
  });

  it('refuses a db folder that is a symlink out of the partition', async () => {
    const f = keep(await fresh());
    const { rm } = await import('node:fs/promises');
    await rm(f.db, { recursive: true });
    await mkdir(path.join(f.dir, 'etc'));
    await symlink(path.join(f.dir, 'etc'), f.db);
    await assert.rejects(pruneDumps(f.site, f.app, { now: at(4) }), /outside/);
  });
});
