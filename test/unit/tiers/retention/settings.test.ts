import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../../../lib/site/load.js';
import { dumpPolicy, pruneSettings, resolveHost, resolveNow, snapshotPolicy } from '../../../../lib/tiers/retention/index.js';

function site(extra = '', serverExtra = '', appExtra = '') {
  return parseInventory(
    `version: 1
defaults:
  timezone: Europe/Zurich
${extra}
servers:
  - { fqdn: app1.example.ch${serverExtra} }
  - { fqdn: odin.example.ch, role: backup }
  - { fqdn: odin2.example.ch, role: backup }
apps:
  - { name: hydro, server: app1.example.ch, path: /srv/hydro, relpath: v2.example.ch/hydro, type: rails${appExtra} }
backup_servers:
  - { server: odin.example.ch, pulls: [app1.example.ch] }
`,
    '/tmp/inv.yaml',
  );
}

describe('retention settings: which policy, from where', () => {
  it('uses the built-in default (daily 7) when nothing is set', () => {
    const s = site();
    assert.deepEqual(snapshotPolicy(s, s.backupServers[0]!, 'app1.example.ch'), { policy: { daily: 7 }, source: 'built-in default' });
    assert.deepEqual(dumpPolicy(s, s.apps[0]!), { policy: { daily: 7 }, source: 'built-in default' });
  });
  it('uses the site defaults per tier', () => {
    const s = site('  retention: { local: { daily: 3 }, remote: { weekly: 4 } }');
    assert.deepEqual(snapshotPolicy(s, s.backupServers[0]!, 'app1.example.ch'), { policy: { weekly: 4 }, source: 'defaults.retention.remote' });
    assert.deepEqual(dumpPolicy(s, s.apps[0]!), { policy: { daily: 3 }, source: 'defaults.retention.local' });
  });
  it('lets the pulled server and the app override, and names the inventory path', () => {
    const s = site('  retention: { remote: { weekly: 4 } }', ', retention: { monthly: 2 }', ', retention: { last: 2 }, keep_dumps: 5');
    assert.deepEqual(snapshotPolicy(s, s.backupServers[0]!, 'app1.example.ch'), { policy: { monthly: 2 }, source: 'servers[0].retention' });
    assert.deepEqual(dumpPolicy(s, s.apps[0]!), { policy: { last: 5 }, source: 'apps[0].retention + apps[0].keep_dumps as last' });
  });
  it('defaults prune to grace 0s, no pruning after jobs or pulls', () => {
    assert.deepEqual(pruneSettings(site()), { grace: '0s', graceMs: 0, afterJob: false, afterPull: false });
    assert.deepEqual(pruneSettings(site('  prune: { grace: 2d, after_pull: true }')), { grace: '2d', graceMs: 172_800_000, afterJob: false, afterPull: true });
  });
  it('rejects a bad grace with the inventory path', () => {
    assert.throws(() => site('  prune: { grace: two days }'), (err: Error & { problems?: { path: string }[] }) => err.problems?.[0]?.path === 'defaults.prune.grace');
  });
});

describe('retention settings: now and host', () => {
  it('takes --now, else $TIERBACK_NOW, else the clock', () => {
    assert.equal(resolveNow('2026-01-01T00:00:00+01:00', {}).toISOString(), '2025-12-31T23:00:00.000Z');
    assert.equal(resolveNow(undefined, { TIERBACK_NOW: '2026-02-03T04:05:06Z' }).toISOString(), '2026-02-03T04:05:06.000Z');
    const t = Date.now();
    assert.ok(Math.abs(resolveNow(undefined, {}).getTime() - t) < 5000);
  });
  it('rejects a date it cannot read, naming where it came from', () => {
    assert.throws(() => resolveNow('tomorrow', {}), /--now "tomorrow" is not a date/);
    assert.throws(() => resolveNow(undefined, { TIERBACK_NOW: '01/02/2026' }), /\$TIERBACK_NOW "01\/02\/2026" is not a date/);
  });
  it('finds this host by fqdn, or by a bare name matching one fqdn only', () => {
    const s = site();
    assert.equal(resolveHost(s, 'odin.example.ch', {}), 'odin.example.ch');
    assert.equal(resolveHost(s, 'app1', {}), 'app1.example.ch');
    assert.equal(resolveHost(s, undefined, { TIERBACK_HOST: 'odin2' }), 'odin2.example.ch');
    assert.throws(() => resolveHost(s, 'odin.example.com', {}), /not a server of/);
  });
});
