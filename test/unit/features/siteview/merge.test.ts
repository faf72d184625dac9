/** The site view's merge (freshest local rows, rows only from their own backup server, clean text) and ssh failure reasons. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../../../lib/site/load.js';
import { SiteMerger } from '../../../../lib/features/siteview/merge.js';
import { sshFailureReason, type FeedResult } from '../../../../lib/features/siteview/index.js';
import type { StatusRow } from '../../../../lib/features/status/index.js';

const site = parseInventory(
  `version: 1
site: t
servers:
  - { fqdn: app1.t, role: app, partition: /p/a }
  - { fqdn: b1.t, role: backup, partition: /p/b1 }
  - { fqdn: b2.t, role: backup, partition: /p/b2 }
vms: [{ name: web, server: app1.t }]
apps: [{ name: alpha, server: app1.t, vm: web, path: /srv/a, relpath: a.org, type: files }]
backup_servers:
  - { server: b1.t, pulls: [app1.t] }
  - { server: b2.t, pulls: [app1.t] }
`,
  'inv.yaml',
);
const NOW = new Date('2026-11-30T12:00:00Z');
const base = { app: 'alpha', server: 'app1.t', vm: 'web', relpath: 'a.org', paused: false, running: false, staleAfterS: 93600, shrinkThreshold: 20 } as const;
const local = (extra: Partial<StatusRow>): StatusRow => ({ ...base, tier: 'local', state: 'OK', reason: 'ok', ...extra });
const feeds: FeedResult[] = [
  { backupServer: 'b1.t', via: 'local', ok: true, ms: 1 },
  { backupServer: 'b2.t', via: 'ssh', ok: true, ms: 1 },
];

describe('site view merge', () => {
  it('keeps the local row of the snapshot pulled last, in any order', () => {
    for (const order of [0, 1]) {
      const m = new SiteMerger();
      const rows = [local({ seenBy: 'b1.t', seenAt: '2026-11-30T01:00:00Z', state: 'STALE' }), local({ seenBy: 'b2.t', seenAt: '2026-11-30T03:00:00Z' })];
      if (order) rows.reverse();
      m.add(rows[0]!, rows[0]!.seenBy!);
      m.add(rows[1]!, rows[1]!.seenBy!);
      const r = m.report(site, feeds, NOW, '', 'named').rows.filter((x) => x.tier === 'local');
      assert.deepEqual(r.map((x) => `${x.seenBy}:${x.state}`), ['b2.t:OK']);
    }
  });

  it('prefers a local tier read on this machine over any snapshot', () => {
    const m = new SiteMerger();
    m.add(local({ state: 'FAILED', reason: 'last run failed' }), 'b1.t');
    m.add(local({ seenBy: 'b2.t', seenAt: '2026-11-30T11:00:00Z' }), 'b2.t');
    const r = m.report(site, feeds, NOW, '', 'named').rows.filter((x) => x.tier === 'local');
    assert.deepEqual(r.map((x) => `${x.seenBy ?? 'here'}:${x.state}`), ['here:FAILED']);
  });

  it('takes a remote row only from the feed of its own backup server, and strips control characters', () => {
    const m = new SiteMerger();
    m.add({ ...base, tier: 'remote', backupServer: 'b1.t', state: 'OK', reason: 'ok\x1b[2J', lastSuccess: '2026-11-30T04:00:00Z' }, 'b1.t');
    m.add({ ...base, tier: 'remote', backupServer: 'b1.t', state: 'FAILED', reason: 'forged' }, 'b2.t');
    const rep = m.report(site, feeds, NOW, '', 'named');
    const remote = rep.rows.filter((x) => x.tier === 'remote' && !x.subject);
    assert.deepEqual(remote.map((x) => `${x.backupServer}:${x.state}:${x.reason}`), ['b1.t:OK:ok?[2J']);
    const b2 = rep.rows.find((x) => x.subject === 'backup-server' && x.backupServer === 'b2.t')!;
    assert.equal(b2.state, 'MISSING', 'b2 sent no pull of its own');
    assert.equal(rep.rows.filter((x) => x.subject === 'unpulled').length, 0, 'b1 pulled app1');
  });
});

describe('ssh failure reasons', () => {
  it('names what an operator acts on', () => {
    assert.match(sshFailureReason('ssh: connect to host 127.0.0.1 port 1: Connection refused\n', 255, false), /^connection refused/);
    assert.match(sshFailureReason('user@127.0.0.1: Permission denied (publickey).\n', 255, false), /^key refused/);
    assert.match(sshFailureReason('Host key verification failed.\n', 255, false), /^host key mismatch/);
    assert.match(sshFailureReason('ssh: connect to host 10.0.0.1 port 22: Connection timed out\n', 255, false), /^timeout/);
    assert.match(sshFailureReason('', undefined, true), /^timeout/);
    assert.match(sshFailureReason('error: no such inventory\n', 4, false), /^the feed failed \(exit 4\): error: no such inventory/);
  });
});
