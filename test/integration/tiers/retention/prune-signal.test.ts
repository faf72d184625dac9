/**
 * `tierback prune` stopped by SIGTERM while it deletes: exit 130, `status=failed error=interrupted`
 * in history, no `rm` left running, every snapshot either whole under its stamp or hidden as
 * `.<stamp>.deleting` (which the next prune finishes), and the current snapshot untouched.
 * `rm` is slowed by a wrapper on PATH (a fault a real `rm` cannot be made to show on demand).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import * as C from '../../../../lib/model/convention.js';
import { CLI } from '../../../helpers/cli.js';
import { waitFor } from '../../../helpers/net.js';
import { processesWith } from '../../../helpers/procs.js';
import { APP_SERVER, BACKUP_SERVER, dailyAt, freshSite, listStamps, makeSnapshots } from '../../../helpers/snapshots.js';

describe('tierback prune stopped by SIGTERM', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  let partition: string;
  let bin: string;
  const now = '2026-01-01T00:00:00+01:00';

  before(async () => {
    ({ dir, cleanup, partition, file } = await freshSite('tierback-prune-signal-'));
    await makeSnapshots(partition, APP_SERVER, dailyAt('2025-06-01', '2025-12-31', 'Europe/Zurich'));
    bin = path.join(dir, 'bin');
    await execa('mkdir', ['-p', bin]);
    // Each rm waits before doing its work: the prune is still deleting when the signal comes.
    await writeFile(path.join(bin, 'rm'), '#!/bin/sh\nsleep 30\nexec /bin/rm "$@"\n');
    await chmod(path.join(bin, 'rm'), 0o755);
  });
  after(() => cleanup());

  it('exits 130, records error=interrupted, leaves no rm running and no half-deleted snapshot under its stamp', async () => {
    const before = await listStamps(partition, APP_SERVER);
    const child = execa(process.execPath, [CLI, 'prune', '--tier', 'remote', '-i', file, '--host', BACKUP_SERVER, '--now', now], {
      reject: false,
      env: { PATH: `${bin}:${process.env['PATH']}` },
    });
    const snaps = C.snapshotsDir(partition, APP_SERVER);
    // Deleting has begun once a snapshot is hidden as .<stamp>.deleting.
    await waitFor(async () => (await readdir(snaps)).some((n) => C.parseDeletingName(n) !== undefined), 'a snapshot hidden for deletion', 20_000);
    const slowRm = path.join(bin, 'rm');
    await waitFor(async () => (await processesWith(slowRm)).length > 0, 'the slow rm', 20_000);
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 130, `${r.stdout}\n${r.stderr}`);

    const hist = await readFile(path.join(C.serverHistoryDir(partition), (await readdir(C.serverHistoryDir(partition))).find((n) => n.startsWith('backup-prune-'))!), 'utf8');
    const last = hist.trim().split('\n').at(-1)!;
    assert.match(last, /status=failed/);
    assert.match(last, /error=interrupted/);
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await processesWith(slowRm), [], 'no rm of this prune is left running');
    assert.deepEqual(await processesWith(snaps), [], 'nothing is left working in the snapshots');

    // Every name is a whole snapshot (untouched) or a hidden deletion; the newest (current) is kept.
    const after = await listStamps(partition, APP_SERVER);
    assert.ok(after.length < before.length, 'some snapshots were hidden before the signal');
    for (const s of after) assert.ok(before.includes(s));
    assert.ok(after.includes(before.at(-1)!), 'the newest snapshot is kept');
    for (const s of after) assert.ok((await readdir(C.snapshotDir(partition, APP_SERVER, s))).length > 0, `${s} is whole`);

    // The next prune (real rm) finishes the hidden deletions.
    const again = await execa(process.execPath, [CLI, 'prune', '--tier', 'remote', '-i', file, '--host', BACKUP_SERVER, '--now', now], { reject: false });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.deepEqual((await readdir(snaps)).filter((n) => C.parseDeletingName(n) !== undefined), []);
  });
});
