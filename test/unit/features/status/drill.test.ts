/** A failing restore drill (`tierback verify`, kind=verify) turns the app red on that tier. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { siteStatus } from '../../../../lib/features/status/index.js';
import { APP_SERVER, BACKUP_SERVER, HOUR, ago, localHistory, makeSnapshot, pullHistory, writeRun, writeSite } from '../../../helpers/history-site.js';
import { tempDir } from '../../../helpers/tree.js';

const now = new Date('2026-11-20T12:00:00Z');

describe('status: restore drills', async () => {
  const { dir: root, cleanup } = await tempDir();
  after(cleanup);
  const { site } = await writeSite(root);
  for (const app of ['alpha', 'beta', 'gamma']) await writeRun(localHistory(root), { name: app, start: ago(now, 3 * HOUR), files: 10, mb: 1 });
  await writeRun(localHistory(root, '_host'), { name: 'delta', start: ago(now, 3 * HOUR), files: 10, mb: 1 });
  // alpha: the drill after the job failed. beta: a failed drill, then a passing one.
  await writeRun(localHistory(root), { name: 'verify-alpha', kind: 'verify', tier: 'drill', start: ago(now, 2 * HOUR), status: 'failed', error: 'db/alpha-x.sqlite.sql.gz: sha256 differs from the manifest' });
  await writeRun(localHistory(root), { name: 'verify-beta', kind: 'verify', tier: 'drill', start: ago(now, 2 * HOUR), status: 'failed', error: 'old failure' });
  await writeRun(localHistory(root), { name: 'verify-beta', kind: 'verify', tier: 'drill', start: ago(now, 1 * HOUR), status: 'ok' });
  // The remote tier: a good pull; a snapshot drill of gamma failed on the backup server.
  const jobs = await makeSnapshot(root, ago(now, 2 * HOUR));
  for (const app of ['alpha', 'beta', 'gamma']) await writeRun(jobs, { name: app, start: ago(now, 3 * HOUR), files: 10, mb: 1 });
  await writeRun(pullHistory(root), { name: `pull-${APP_SERVER}`, kind: 'pull', tier: 'remote', start: ago(now, 2 * HOUR) });
  await writeRun(pullHistory(root), { name: 'verify-gamma', kind: 'verify', tier: 'drill', start: ago(now, 1 * HOUR), status: 'failed', error: 'git fsck: missing blob' });

  const local = await siteStatus(site, { root, host: APP_SERVER, now, tier: 'local' });
  const remote = await siteStatus(site, { root, host: BACKUP_SERVER, now, tier: 'remote' });
  const row = (r: typeof local, app: string) => r.rows.find((x) => x.app === app)!;

  it('turns an app FAILED when its newest drill failed, naming the drill', () => {
    assert.equal(row(local, 'alpha').state, 'FAILED');
    assert.match(row(local, 'alpha').reason, /restore drill failed: .*sha256 differs/);
    assert.equal(row(local, 'alpha').drill?.status, 'failed');
  });
  it('is green again once a later drill passes', () => {
    assert.equal(row(local, 'beta').state, 'OK');
    assert.equal(row(local, 'beta').drill?.status, 'ok');
  });
  it('leaves apps without drills alone', () => {
    assert.equal(row(local, 'delta').state, 'OK');
    assert.equal(row(local, 'delta').drill, undefined);
  });
  it('reads snapshot drills from the backup server\'s history for the remote row only', () => {
    assert.equal(row(remote, 'gamma').state, 'FAILED');
    assert.match(row(remote, 'gamma').reason, /git fsck/);
    assert.equal(row(remote, 'alpha').state, 'OK');
  });
});
