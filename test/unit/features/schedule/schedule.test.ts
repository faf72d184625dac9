import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../../../lib/site/load.js';
import { normalizeCron, planSchedule, shiftCron } from '../../../../lib/features/schedule/index.js';
import { cronToOnCalendar, expandCronField, renderCron, renderSystemd, shellWord } from '../../../../lib/features/schedule/render.js';
import { EXAMPLE } from '../../../helpers/cli.js';
import { scheduleInventory } from '../../../helpers/schedule-site.js';

const example = () => parseInventory(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);

const SMALL = scheduleInventory({
  head: [
    'defaults: { schedule: "50 23 * * *", pull_schedule: "15 3 * * *" }',
    'schedules: { bin: /opt/tierback/tierback.mjs, inventory: /etc/tierback/site.yaml, stagger: 10m, log_dir: /var/log/tb }',
    'monitoring: { prometheus: { textfile: /var/lib/prometheus/node-exporter/tierback.prom } }',
  ],
  app: 'a.example.org',
  backup: 'b.example.org',
  vms: ['web', 'db'],
  apps: [['one', 'web', 'one'], ['two', 'db', 'two'], ['three', 'web', 'three', ', schedule: "0 */6 * * *"'], ['four', 'web', 'four'], ['old', 'web', 'old', ', status: paused'], ['host', '', 'host']],
});
const small = () => parseInventory(SMALL, '/etc/tierback/small.yaml');

describe('schedule: plans from the inventory', () => {
  it('gives a VM one job line per active app, staggered across the whole server, explicit schedules untouched', () => {
    const plan = planSchedule(small(), 'web');
    assert.equal(plan.kind, 'vm');
    assert.deepEqual(
      plan.entries.map((e) => [e.id, e.cron]),
      [
        ['job-one', '50 23 * * *'],
        ['job-three', '0 */6 * * *'],
        // slot 2 on server a: "two" (VM db) took slot 1; 23:50 + 20m wraps past midnight
        ['job-four', '10 0 * * *'],
      ],
    );
    assert.deepEqual(plan.skipped.map((s) => s.app), ['old']);
    assert.equal(plan.entries[1]!.source, 'apps[2].schedule');
  });
  it('runs the same command lines the other commands expect, with the configured program and inventory', () => {
    const plan = planSchedule(small(), 'db');
    assert.deepEqual(plan.entries.map((e) => e.argv), [['/opt/tierback/tierback.mjs', 'job', 'two', '-i', '/etc/tierback/site.yaml']]);
    assert.equal(plan.entries[0]!.log, '/var/log/tb/job-two.log');
    assert.equal(plan.entries[0]!.cron, '0 0 * * *');
  });
  it('gives a server its own apps (no VM) and a status export; a backup server pulls, prunes, drills', () => {
    const a = planSchedule(small(), 'a.example.org');
    assert.deepEqual(a.entries.map((e) => e.id), ['job-host', 'status']);
    const b = planSchedule(small(), 'b.example.org');
    assert.deepEqual(b.entries.map((e) => [e.id, e.cron]), [
      ['pull', '15 3 * * *'],
      ['prune', '15 5 * * *'],
      ['verify', '0 6 * * 0'],
      ['status', '*/15 * * * *'],
    ]);
    assert.deepEqual(b.entries[0]!.argv.slice(1), ['pull', '--backup-server', 'b.example.org', '-i', '/etc/tierback/site.yaml']);
  });
  it('names unknown hosts with a hint', () => {
    assert.throws(() => planSchedule(small(), 'nope'), /neither a server nor a VM.*small\.yaml/);
  });
  it('covers every app of the example site exactly once across all hosts', () => {
    const site = example();
    const hosts = [...site.vms.map((v) => v.name), ...site.servers.map((s) => s.fqdn)];
    const jobs = hosts.flatMap((h) => planSchedule(site, h).entries.filter((e) => e.kind === 'job').map((e) => e.argv[2]));
    assert.deepEqual([...jobs].sort(), site.apps.map((a) => a.name).sort());
  });
});

describe('schedule: offsite pushes on backup servers', () => {
  const OFFSITE = `${SMALL.replace('backup_servers:\n  - { server: b.example.org, pulls: [a.example.org] }', `  - { name: c1, server: c.example.org, path: /srv/c, relpath: c.example.org, type: files }
backup_servers:
  - { server: b.example.org, pulls: [a.example.org] }
  - { server: d.example.org, pulls: [c.example.org], schedule: "*/30 2-5 * * *" }`).replace('  - { fqdn: b.example.org, role: backup }', `  - { fqdn: b.example.org, role: backup }
  - { fqdn: c.example.org, role: app }
  - { fqdn: d.example.org, role: backup }`)}
offsite:
  recipients: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
  targets:
    - { name: s3-main, remote: "s3:bucket/tb" }
    - { name: box, remote: "box:tb", servers: [a.example.org, c.example.org] }
    - { name: only-c, remote: "s3:c/tb", servers: [c.example.org] }
`;
  const site = () => parseInventory(OFFSITE, '/etc/tierback/small.yaml');

  it('adds one push per target after prune (pull +3h), staggered, naming servers only when the target has others', () => {
    const b = planSchedule(site(), 'b.example.org');
    assert.deepEqual(b.entries.map((e) => [e.id, e.cron, e.source]), [
      ['pull', '15 3 * * *', 'defaults.pull_schedule'],
      ['prune', '15 5 * * *', 'pull schedule +2h'],
      ['verify', '0 6 * * 0', 'schedules.verify (default)'],
      ['offsite-s3-main', '15 6 * * *', 'pull schedule +3h'],
      ['offsite-box', '25 6 * * *', 'pull schedule +3h +10m (stagger)'],
      ['status', '*/15 * * * *', 'schedules.status_export (default)'],
    ]);
    assert.deepEqual(b.entries[3]!.argv, ['/opt/tierback/tierback.mjs', 'offsite', 'push', 's3-main', '--backup-server', 'b.example.org', '-i', '/etc/tierback/site.yaml']);
    // "box" also lists c, which b does not pull: b pushes a only, named on the line.
    assert.deepEqual(b.entries[4]!.argv.slice(1, 7), ['offsite', 'push', 'box', 'a.example.org', '--backup-server', 'b.example.org']);
    assert.deepEqual(b.skipped, [{ app: 'offsite:only-c', id: 'offsite-only-c', reason: 'b.example.org pulls none of the servers of offsite.targets[2] (only-c)' }]);
    assert.match(renderCron(b, site()), /^# offsite-only-c: not scheduled \(b\.example\.org pulls none/m);
    assert.doesNotMatch(renderCron(b, site()), /usb/);
  });

  it('uses schedules.offsite when given; a pull schedule that is no fixed time falls back to 15:00', () => {
    const d = planSchedule(site(), 'd.example.org');
    assert.deepEqual(d.entries.filter((e) => e.kind === 'offsite').map((e) => [e.id, e.cron]), [
      ['offsite-s3-main', '0 15 * * *'],
      ['offsite-box', '10 15 * * *'],
      ['offsite-only-c', '20 15 * * *'],
    ]);
    const own = parseInventory(OFFSITE.replace('stagger: 10m,', 'stagger: 10m, offsite: "30 7 * * 1-5",'), '/etc/tierback/small.yaml');
    const b = planSchedule(own, 'b.example.org').entries.filter((e) => e.kind === 'offsite');
    assert.deepEqual(b.map((e) => [e.cron, e.source]), [['30 7 * * 1-5', 'schedules.offsite'], ['40 7 * * 1-5', 'schedules.offsite +10m (stagger)']]);
  });

  it('gives no offsite line without an offsite block, and none on app servers and VMs', () => {
    assert.ok(!planSchedule(small(), 'b.example.org').entries.some((e) => e.kind === 'offsite'));
    assert.ok(!planSchedule(site(), 'a.example.org').entries.some((e) => e.kind === 'offsite'));
    assert.ok(!planSchedule(site(), 'web').entries.some((e) => e.kind === 'offsite'));
  });

  it('renders systemd units for the pushes', () => {
    const units = renderSystemd(planSchedule(site(), 'b.example.org'), site());
    const svc = units.find((u) => u.name === 'tierback-offsite-s3-main.service')!;
    assert.match(svc.content, /^ExecStart=\/opt\/tierback\/tierback\.mjs offsite push s3-main --backup-server b\.example\.org -i \/etc\/tierback\/site\.yaml$/m);
    assert.match(units.find((u) => u.name === 'tierback-offsite-s3-main.timer')!.content, /^OnCalendar=\*-\*-\* 06:15:00$/m);
  });
});

describe('schedule: cron arithmetic', () => {
  it('shifts fixed times with carry and wrap, leaves steps alone', () => {
    assert.equal(shiftCron('30 1 * * *', 45), '15 2 * * *');
    assert.equal(shiftCron('55 23 * * 1', 10), '5 0 * * 1');
    assert.equal(shiftCron('*/5 1 * * *', 10), '*/5 1 * * *');
    assert.equal(normalizeCron('@weekly'), '0 0 * * 0');
  });
  it('expands fields, treating day-of-week 7 as Sunday', () => {
    assert.deepEqual(expandCronField('*/20', 0), [0, 20, 40]);
    assert.deepEqual(expandCronField('1-3,7', 4), [0, 1, 2, 3]);
    assert.deepEqual(expandCronField('5/10', 0), [5, 15, 25, 35, 45, 55]);
    assert.equal(expandCronField('*', 1), undefined);
    assert.throws(() => expandCronField('61', 0), /out of range/);
  });
  it('writes OnCalendar, splitting cron\'s OR of day-of-month and day-of-week', () => {
    assert.deepEqual(cronToOnCalendar('30 1 * * *'), ['*-*-* 01:30:00']);
    assert.deepEqual(cronToOnCalendar('@weekly'), ['Sun *-*-* 00:00:00']);
    assert.deepEqual(cronToOnCalendar('0 4 1,15 * 1'), ['*-*-01,15 04:00:00', 'Mon *-*-* 04:00:00']);
    assert.deepEqual(cronToOnCalendar('0 4 */10 * 1'), ['*-*-* 04:00:00'.replace('*-*-*', 'Mon *-*-01,11,21,31')]);
  });
  it('quotes shell words and escapes cron\'s %', () => {
    assert.equal(shellWord('/etc/tierback/inventory.yaml'), '/etc/tierback/inventory.yaml');
    assert.equal(shellWord("it's 100%"), "'it'\\''s 100\\%'");
  });
});

describe('schedule: rendering', () => {
  it('writes a cron.d file with PATH, user and a log per command', () => {
    const text = renderCron(planSchedule(small(), 'web'), small());
    assert.match(text, /^PATH=\/usr\/local\/sbin:/m);
    assert.match(text, /^50 23 \* \* \* root \/opt\/tierback\/tierback\.mjs job one -i \/etc\/tierback\/site\.yaml >>\/var\/log\/tb\/job-one\.log 2>&1$/m);
    assert.match(text, /^# job-old: not scheduled \(paused/m);
    assert.ok(text.split('\n').filter((l) => !l.startsWith('#')).every((l) => !l.includes('flock')));
  });
  it('writes one service and one timer per command', () => {
    const units = renderSystemd(planSchedule(small(), 'b.example.org'), small());
    assert.deepEqual(units.map((u) => u.name).filter((n) => n.endsWith('.timer')), ['tierback-pull.timer', 'tierback-prune.timer', 'tierback-verify.timer', 'tierback-status.timer']);
    const pull = units.find((u) => u.name === 'tierback-pull.timer')!.content;
    assert.match(pull, /^OnCalendar=\*-\*-\* 03:15:00$/m);
    assert.match(pull, /^Persistent=true$/m);
    const svc = units.find((u) => u.name === 'tierback-pull.service')!.content;
    assert.match(svc, /^ExecStart=\/opt\/tierback\/tierback\.mjs pull --backup-server b\.example\.org -i \/etc\/tierback\/site\.yaml$/m);
    assert.match(svc, /^StandardOutput=append:\/var\/log\/tb\/pull\.log$/m);
  });
});

describe('schedule: status export only where monitoring asks for it', () => {
  it('emits no status export line when the inventory has no Prometheus textfile', () => {
    const site = parseInventory(SMALL.replace(/^monitoring:.*\n/m, ''), 'site.yaml');
    for (const host of ['a.example.org', 'b.example.org']) {
      assert.ok(!planSchedule(site, host).entries.some((e) => e.kind === 'status'), host);
    }
  });
});
