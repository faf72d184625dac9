/**
 * `tierback status --site`: every backup server's feed, read here (the one the command runs on) or
 * over real SSH (sshd on loopback, a key restricted to the feed), merged into one view: freshest
 * local rows, remote rows per backup server, a row per backup server (one down, one refusing the
 * key), and a row for a server no backup server pulls.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { CLI, tierback } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';
import { freePort } from '../../../helpers/net.js';
import { generateKey, startSshd, sshEntry, type Sshd } from '../../../helpers/sshd.js';
import { jobRan, pulled, snapshotOf } from '../../../helpers/site-view.js';
import type { SiteReport } from '../../../../lib/features/siteview/index.js';
import type { StatusRow } from '../../../../lib/features/status/index.js';

const HOUR = 3_600_000;
const B1 = 'b1.test';
const B2 = 'b2.test';
const B3 = 'b3.test';
const B4 = 'b4.test';

let dir: string;
let cleanup: () => Promise<void>;
let inv: string;
let siteKey: { private: string; public: string };
const daemons: Sshd[] = [];

function yaml(ssh: Record<string, Record<string, string | number | boolean>>): string {
  const e = (s: string) => (ssh[s] ? `, ssh: ${JSON.stringify(ssh[s])}` : '');
  return `version: 1
site: sv
defaults: { timezone: UTC, stale_after: 26h }
monitoring: { prometheus: { textfile: /prom/tierback.prom } }
servers:
  - { fqdn: app1.test, role: app, partition: /p/app1 }
  - { fqdn: app2.test, role: app, partition: /p/app2 }
  - { fqdn: app3.test, role: app, partition: /p/app3 }
  - { fqdn: ${B1}, role: backup, partition: /p/b1${e(B1)} }
  - { fqdn: ${B2}, role: backup, partition: /p/b2${e(B2)} }
  - { fqdn: ${B3}, role: backup, partition: /p/b3${e(B3)} }
  - { fqdn: ${B4}, role: backup, partition: /p/b4${e(B4)} }
vms:
  - { name: web1, server: app1.test }
  - { name: web2, server: app2.test }
  - { name: web3, server: app3.test }
apps:
  - { name: alpha, server: app1.test, vm: web1, path: /srv/alpha, relpath: alpha.example.org, type: files }
  - { name: gamma, server: app2.test, vm: web2, path: /srv/gamma, relpath: gamma.example.org, type: files }
  - { name: omega, server: app3.test, vm: web3, path: /srv/omega, relpath: omega.example.org, type: files }
backup_servers:
  - { server: ${B1}, pulls: [app1.test, app2.test] }
  - { server: ${B2}, pulls: [app1.test] }
  - { server: ${B3}, pulls: [app3.test] }
  - { server: ${B4}, pulls: [app3.test] }
`;
}

const site = (args: string[]) => tierback(['status', '--site', '-i', inv, '--root', dir, '--host', B1, ...args]);

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-siteview-'));
  const now = Date.now();
  // b1 pulled app1 30 h ago (alpha's newest run in that snapshot is 31 h old) and app2 2 h ago.
  await jobRan(await snapshotOf(dir, '/p/b1', 'app1.test', new Date(now - 30 * HOUR), 'web1'), 'alpha', new Date(now - 31 * HOUR));
  await pulled(dir, '/p/b1', 'app1.test', new Date(now - 30 * HOUR));
  await jobRan(await snapshotOf(dir, '/p/b1', 'app2.test', new Date(now - 2 * HOUR), 'web2'), 'gamma', new Date(now - 3 * HOUR));
  await pulled(dir, '/p/b1', 'app2.test', new Date(now - 2 * HOUR));
  // b2 pulled app1 an hour ago: it holds the fresher view of alpha's local tier.
  await jobRan(await snapshotOf(dir, '/p/b2', 'app1.test', new Date(now - HOUR), 'web1'), 'alpha', new Date(now - 2 * HOUR));
  await pulled(dir, '/p/b2', 'app1.test', new Date(now - HOUR));

  siteKey = await generateKey(path.join(dir, 'keys'), 'site_ed25519');
  const other = await generateKey(path.join(dir, 'keys'), 'other_ed25519');
  const sshd2 = await startSshd({ authorizedKeys: [] });
  const sshd4 = await startSshd({ authorizedKeys: [other.public] });
  daemons.push(sshd2, sshd4);
  const deadPort = await freePort(); // nothing listens there: b3 is down
  inv = path.join(dir, 'inventory.yaml');
  await writeFile(
    inv,
    yaml({
      [B2]: sshEntry(sshd2, siteKey.private),
      [B3]: { host: '127.0.0.1', port: deadPort, user: sshd2.user, host_key: sshd2.hostKey, identity: siteKey.private },
      [B4]: sshEntry(sshd4, siteKey.private),
    }),
  );
  // The line `ssh authorize --site-view` prints is the whole of b2's authorized_keys.
  const a = await tierback(['ssh', 'authorize', B2, '--site-view', '-i', inv, '--command', `${process.execPath} ${CLI}`, '--remote-inventory', inv, '--root', dir]);
  assert.equal(a.code, 0, a.stderr);
  const line = a.stdout.split('\n').find((l) => l.startsWith('restrict,'));
  assert.ok(line, a.stdout);
  await sshd2.setAuthorizedKeys([line]);
});
after(async () => {
  for (const d of daemons) await d.cleanup();
  await cleanup();
});

describe('status --site: one view of every backup server', () => {
  let report: SiteReport;
  const row = (p: (r: StatusRow) => boolean) => report.rows.filter(p);

  before(async () => {
    const r = await site(['--json']);
    assert.equal(r.code, 1, r.stderr);
    report = JSON.parse(r.stdout) as SiteReport;
  });

  it('merges the remote rows of the backup server read here and of one read over SSH', () => {
    const alphaRemote = row((r) => r.app === 'alpha' && r.tier === 'remote');
    assert.deepEqual(alphaRemote.map((r) => `${r.backupServer}:${r.state}`).sort(), [`${B1}:STALE`, `${B2}:OK`]);
    assert.deepEqual(row((r) => r.app === 'gamma' && r.tier === 'remote').map((r) => `${r.backupServer}:${r.state}`), [`${B1}:OK`]);
    const b2 = report.feeds.find((f) => f.backupServer === B2)!;
    assert.equal(b2.via, 'ssh');
    assert.equal(b2.ok, true, b2.reason);
  });

  it('keeps the freshest view of each local tier: the snapshot pulled last', () => {
    const local = row((r) => r.app === 'alpha' && r.tier === 'local');
    assert.equal(local.length, 1);
    assert.equal(local[0]!.seenBy, B2);
    assert.equal(local[0]!.state, 'OK');
    assert.equal(row((r) => r.app === 'gamma' && r.tier === 'local')[0]?.seenBy, B1);
  });

  it('shows each backup server as a row: reachable ones OK, a down one and a refused key FAILED with the reason', () => {
    const bs = (b: string) => row((r) => r.subject === 'backup-server' && r.backupServer === b)[0]!;
    assert.equal(bs(B1).state, 'OK');
    assert.equal(bs(B2).state, 'OK');
    assert.ok(bs(B2).lastSuccess, 'its last pull');
    assert.equal(bs(B3).state, 'FAILED');
    assert.match(bs(B3).reason, /connection refused/);
    assert.equal(bs(B4).state, 'FAILED');
    assert.match(bs(B4).reason, /key refused/);
  });

  it('shows a server no reachable backup server has pulled as a MISSING row, saying why', () => {
    const u = row((r) => r.subject === 'unpulled');
    assert.deepEqual(u.map((r) => `${r.server}:${r.state}`), ['app3.test:MISSING']);
    assert.match(u[0]!.reason, new RegExp(`${B3} is unreachable, ${B4} is unreachable`));
  });

  it('--check is CRITICAL (exit 2) naming the backup server that is down', async () => {
    const c = await site(['--check']);
    assert.equal(c.code, 2, c.stdout + c.stderr);
    assert.match(c.stdout, /^TIERBACK CRITICAL - /);
    assert.match(c.stdout, new RegExp(`\\(backup server\\)/remote@${B3.replace('.', '\\.')}=FAILED`));
  });

  it('the table names the reason of the unreachable backup server', async () => {
    const t = await site([]);
    assert.equal(t.code, 1);
    const line = t.stdout.split('\n').find((l) => l.startsWith('(backup server)') && l.includes(B3));
    assert.match(line ?? '', /FAILED.*unreachable: connection refused/);
  });

  it('report --site writes the merged page; monitor export --site the merged metrics', async () => {
    const html = path.join(dir, 'site.html');
    const r = await tierback(['report', '--site', '--html', html, '-i', inv, '--root', dir, '--host', B1]);
    assert.equal(r.code, 0, r.stderr);
    const page = await readFile(html, 'utf8');
    assert.match(page, /unreachable: connection refused/);
    // The compact report rows (lib/features/report/page.ts): app, tier, backup server, state.
    assert.match(page, /<tr><td>alpha<td>remote<td>b[12]\.test<td class=(OK|STALE)>/);
    const stdout = await tierback(['report', '--site', '-i', inv, '--root', dir, '--host', B1]);
    assert.equal(stdout.code, 0, stdout.stderr);
    assert.match(stdout.stdout, /^<!DOCTYPE html>[\s\S]*unreachable: key refused/);
    await mkdir(path.join(dir, 'prom'), { recursive: true });
    const m = await tierback(['monitor', 'export', '--site', '-i', inv, '--root', dir, '--host', B1]);
    assert.equal(m.code, 0, m.stderr);
    const prom = await readFile(path.join(dir, 'prom/tierback.prom'), 'utf8');
    assert.match(prom, new RegExp(`tierback_ok\\{app="\\(backup server\\)",tier="remote",server="${B3}",backup_server="${B3}"\\} 0`));
    assert.match(prom, new RegExp(`tierback_ok\\{app="alpha",tier="remote",server="app1.test",backup_server="${B2}"\\} 1`));
  });
});

describe('the site-view key runs the feed and nothing else', () => {
  it('a client asking for a shell command gets the feed, never the command', async () => {
    const d = daemons[0]!;
    const r = await execa('ssh', ['-p', String(d.port), '-l', d.user, '-i', siteKey.private, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${d.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', d.host, 'sh -c id; echo SHELL-RAN'], { reject: false });
    assert.doesNotMatch(r.stdout, /uid=\d+|SHELL-RAN/);
    assert.match(r.stdout.split('\n')[0]!, /^\{"feed":"tierback-status"/);
    assert.match(r.stdout, /"end":true/);
  });

  it('refuses a terminal: no shell session either', async () => {
    const d = daemons[0]!;
    const r = await execa('ssh', ['-tt', '-p', String(d.port), '-l', d.user, '-i', siteKey.private, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${d.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', d.host], { reject: false, input: 'id; echo SHELL-RAN\nexit\n' });
    assert.doesNotMatch(r.stdout, /uid=\d+|SHELL-RAN/);
  });
});

describe('status --site: a backup server whose host key is not the pinned one', () => {
  it('is a FAILED row saying so, and the site view still reads the others', async () => {
    const [d2, d4] = daemons as [Sshd, Sshd];
    const wrong = path.join(dir, 'wrong-hostkey.yaml');
    await writeFile(wrong, yaml({ [B2]: sshEntry(d2, siteKey.private, { hostKey: d4.hostKey }), [B4]: sshEntry(d4, siteKey.private) }));
    const r = await tierback(['status', '--site', '--json', '-i', wrong, '--root', dir, '--host', B1]);
    const rep = JSON.parse(r.stdout) as SiteReport;
    const b2 = rep.rows.find((x) => x.subject === 'backup-server' && x.backupServer === B2)!;
    assert.equal(b2.state, 'FAILED');
    assert.match(b2.reason, /host key mismatch/);
    assert.ok(rep.rows.some((x) => x.app === 'gamma' && x.tier === 'remote' && x.state === 'OK'));
  });
});
