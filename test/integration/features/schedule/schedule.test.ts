/**
 * Schedules checked by real parsers: the cron.d file by cron-parser (the most used npm cron
 * parser; it computes the next runs, so a line it accepts is also checked for *when* it runs),
 * systemd units by `systemd-analyze verify` and their OnCalendar= by `systemd-analyze calendar`,
 * whose next elapses must equal cron-parser's for the same schedule.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { CronExpressionParser } from 'cron-parser';
import { tempDir } from '../../../helpers/tree.js';
import { tierback } from '../../../helpers/cli.js';
import { scheduleInventory } from '../../../helpers/schedule-site.js';

const INVENTORY = (bin: string) =>
  scheduleInventory({
    head: ['defaults: { schedule: "30 1 * * *", pull_schedule: "0 4 * * *" }', `schedules: { bin: ${bin}, stagger: 7m }`, 'monitoring: { prometheus: { textfile: /var/lib/prometheus/node-exporter/tierback.prom } }'],
    app: 'app1.example.org',
    backup: 'backup1.example.org',
    vms: ['web'],
    apps: [['alpha', 'web', 'a'], ['beta', 'web', 'b'], ['gamma', 'web', 'g', ', schedule: "5 2 1,15 * 3"'], ['delta', 'web', 'd', ', schedule: "@weekly"']],
    pull: ', schedule: "*/30 2-5 * * 1-5"',
  });

let dir: string;
let cleanup: () => Promise<void>;
let inv: string;
const haveSystemd = await execa('systemd-analyze', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-schedule-'));
  inv = path.join(dir, 'site.yaml');
  // The program must exist for systemd-analyze verify: use this node binary.
  await writeFile(inv, INVENTORY(process.execPath));
});
after(async () => cleanup());

/** cron.d line -> [five fields, user, command]. */
function cronLines(text: string): { expr: string; user: string; command: string }[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#') && !/^[A-Z_]+=/.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      return { expr: f.slice(0, 5).join(' '), user: f[5]!, command: f.slice(6).join(' ') };
    });
}

function nextRuns(expr: string, from: Date, n: number): string[] {
  const it = CronExpressionParser.parse(expr, { currentDate: from, tz: 'UTC', strict: false });
  return Array.from({ length: n }, () => it.next().toDate().toISOString());
}

describe('schedule: cron.d output read back by cron-parser', () => {
  it('every line parses, and the VM\'s jobs run at the staggered times', async () => {
    const r = await tierback(['schedule', 'web', '-i', inv]);
    assert.equal(r.code, 0, r.stderr);
    const lines = cronLines(r.stdout);
    assert.equal(lines.length, 4);
    const from = new Date('2026-03-02T00:00:00Z'); // a Monday
    const byApp = new Map(lines.map((l) => [l.command.split(' ')[2], l]));
    assert.deepEqual(nextRuns(byApp.get('alpha')!.expr, from, 1), ['2026-03-02T01:30:00.000Z']);
    assert.deepEqual(nextRuns(byApp.get('beta')!.expr, from, 1), ['2026-03-02T01:37:00.000Z']);
    // gamma keeps its own schedule: the 1st/15th OR Wednesdays, at 02:05
    assert.deepEqual(nextRuns(byApp.get('gamma')!.expr, from, 3), ['2026-03-04T02:05:00.000Z', '2026-03-11T02:05:00.000Z', '2026-03-15T02:05:00.000Z']);
    assert.deepEqual(nextRuns(byApp.get('delta')!.expr, from, 1), ['2026-03-08T00:00:00.000Z']);
    for (const l of lines) {
      assert.equal(l.user, 'root');
      assert.match(l.command, new RegExp(`^${process.execPath.replace(/[/.]/g, '\\$&')} job [a-z]+ -i \\S+site\\.yaml >>/var/log/tierback/job-[a-z]+\\.log 2>&1$`));
    }
  });
  it('a backup server gets pull, prune, drill and status lines that parse', async () => {
    const r = await tierback(['schedule', 'backup1.example.org', '-i', inv, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { plan, cron } = JSON.parse(r.stdout) as { plan: { entries: { id: string }[] }; cron: string };
    assert.deepEqual(plan.entries.map((e) => e.id), ['pull', 'prune', 'verify', 'status']);
    const lines = cronLines(cron);
    for (const l of lines) assert.doesNotThrow(() => CronExpressionParser.parse(l.expr, { strict: false }), l.expr);
    // the pull schedule has steps and ranges: no "+2h" shift possible, prune falls back to noon
    assert.deepEqual(nextRuns(lines[1]!.expr, new Date('2026-03-02T00:00:00Z'), 1), ['2026-03-02T12:00:00.000Z']);
  });
});

describe('schedule: systemd units', { skip: haveSystemd ? false : 'systemd-analyze not installed' }, () => {
  it('install writes units that systemd-analyze verify accepts, idempotently, and removes stale ones', async () => {
    const root = path.join(dir, 'root1');
    const first = await tierback(['schedule', 'web', '-i', inv, '--format', 'systemd', '--install', '--root', root, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const r1 = JSON.parse(first.stdout) as { written: string[]; unchanged: string[]; activated: unknown[] };
    assert.equal(r1.written.length, 8);
    assert.deepEqual(r1.activated, [], 'never runs systemctl below a --root');
    const unitDir = path.join(root, 'etc/systemd/system');
    const files = (await readdir(unitDir)).map((f) => path.join(unitDir, f));
    const v = await execa('systemd-analyze', ['verify', ...files], { reject: false, env: { SYSTEMD_LOG_LEVEL: 'warning' } });
    assert.equal(v.exitCode, 0, `${v.stdout}\n${v.stderr}`);
    assert.equal(v.stderr.trim(), '', v.stderr);
    assert.equal(((await stat(files[0]!)).mode & 0o777).toString(8), '644');
    assert.equal(((await stat(path.join(root, 'var/log/tierback'))).mode & 0o777).toString(8), '750');

    const second = JSON.parse((await tierback(['schedule', 'web', '-i', inv, '--format', 'systemd', '--install', '--root', root, '--json'])).stdout) as { written: string[]; unchanged: string[] };
    assert.deepEqual(second.written, []);
    assert.equal(second.unchanged.length, 8);

    // alpha leaves the inventory: its units go, a foreign tierback-* unit stays.
    await writeFile(path.join(unitDir, 'tierback-mine.service'), '[Service]\nExecStart=/bin/true\n');
    const inv2 = path.join(dir, 'site2.yaml');
    await writeFile(inv2, INVENTORY(process.execPath).replace(/^ {2}- \{ name: alpha.*\n/m, ''));
    const third = JSON.parse((await tierback(['schedule', 'web', '-i', inv2, '--format', 'systemd', '--install', '--root', root, '--json'])).stdout) as { removed: string[] };
    assert.deepEqual(third.removed.map((f) => path.basename(f)), ['tierback-job-alpha.service', 'tierback-job-alpha.timer']);
    assert.ok((await readdir(unitDir)).includes('tierback-mine.service'));
  });

  it('OnCalendar= elapses at the same moments as the cron schedule', async () => {
    const r = await tierback(['schedule', 'web', '-i', inv, '--format', 'systemd', '--json']);
    const { units } = JSON.parse(r.stdout) as { units: { name: string; content: string }[] };
    const r2 = JSON.parse((await tierback(['schedule', 'backup1.example.org', '-i', inv, '--json'])).stdout) as { plan: { entries: { cron: string }[] } };
    const plans = JSON.parse((await tierback(['schedule', 'web', '-i', inv, '--json'])).stdout) as { plan: { entries: { id: string; cron: string }[] } };
    const cases = plans.plan.entries.map((e) => ({ cron: e.cron, timer: units.find((u) => u.name === `tierback-${e.id}.timer`)!.content }));
    const pullTimer = (await tierback(['schedule', 'backup1.example.org', '-i', inv, '--format', 'systemd', '--json'])).stdout;
    const pu = (JSON.parse(pullTimer) as { units: { name: string; content: string }[] }).units;
    cases.push({ cron: r2.plan.entries[0]!.cron, timer: pu.find((u) => u.name === 'tierback-pull.timer')!.content });
    for (const c of cases) {
      const cal = [...c.timer.matchAll(/^OnCalendar=(.+)$/gm)].map((m) => m[1]!);
      assert.ok(cal.length > 0);
      for (let attempt = 0; ; attempt++) {
        const from = new Date();
        const sd = await execa('systemd-analyze', ['calendar', '--iterations=6', ...cal], { env: { TZ: 'UTC' } });
        const elapses = [...sd.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => new Date(`${m[1]!.replace(' ', 'T')}Z`).toISOString());
        const merged = [...new Set(elapses)].sort().slice(0, 6);
        const expected = nextRuns(c.cron, from, 6);
        if (attempt === 0 && merged.join() !== expected.join()) continue; // a minute boundary passed in between
        assert.deepEqual(merged, expected, `${c.cron} vs ${cal.join(' | ')}`);
        break;
      }
    }
  });
});

describe('schedule: offsite pushes on a backup server', () => {
  const OFFSITE = (bin: string) => `${INVENTORY(bin).replace('schedule: "*/30 2-5 * * 1-5" }', 'schedule: "0 4 * * *" }')}
offsite:
  recipients: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
  targets:
    - { name: s3-main, remote: "s3:bucket/tierback" }
    - { name: box, remote: "box:backups/site" }
`;
  let inv3: string;
  before(async () => {
    inv3 = path.join(dir, 'site-offsite.yaml');
    await writeFile(inv3, OFFSITE(process.execPath));
  });

  it('cron: a push line per target after prune, parsed back by cron-parser, accepted by the real CLI; no USB line', async () => {
    const r = await tierback(['schedule', 'backup1.example.org', '-i', inv3]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /usb/i);
    const lines = cronLines(r.stdout);
    const offsite = lines.filter((l) => / offsite push /.test(l.command));
    assert.equal(offsite.length, 2);
    const from = new Date('2026-03-02T00:00:00Z');
    const prune = lines.find((l) => / prune /.test(l.command))!;
    assert.deepEqual(nextRuns(prune.expr, from, 1), ['2026-03-02T06:00:00.000Z']);
    assert.deepEqual(offsite.map((l) => nextRuns(l.expr, from, 1)[0]), ['2026-03-02T07:00:00.000Z', '2026-03-02T07:07:00.000Z']);
    for (const [l, target] of [[offsite[0]!, 's3-main'], [offsite[1]!, 'box']] as const) {
      const m = new RegExp(`^\\S+ (offsite push ${target} --backup-server backup1\\.example\\.org -i \\S+) >>/var/log/tierback/offsite-${target}\\.log 2>&1$`).exec(l.command);
      assert.ok(m, l.command);
      // The real CLI takes the line as it is: no usage error (2), target and servers found (not 3).
      const run = await tierback([...m[1]!.split(' '), '--dry-run']);
      assert.ok(run.code !== 2 && run.code !== 3, `${m[1]}: exit ${run.code} ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /Unknown argument|no offsite target/);
    }
  });

  it('systemd: the push units pass systemd-analyze verify and their timers elapse with the cron lines', { skip: haveSystemd ? false : 'systemd-analyze not installed' }, async () => {
    const root = path.join(dir, 'root-offsite');
    const r = await tierback(['schedule', 'backup1.example.org', '-i', inv3, '--format', 'systemd', '--install', '--root', root, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const unitDir = path.join(root, 'etc/systemd/system');
    const names = await readdir(unitDir);
    assert.ok(names.includes('tierback-offsite-s3-main.service') && names.includes('tierback-offsite-box.timer'), names.join(' '));
    const v = await execa('systemd-analyze', ['verify', ...names.map((f) => path.join(unitDir, f))], { reject: false, env: { SYSTEMD_LOG_LEVEL: 'warning' } });
    assert.equal(v.exitCode, 0, `${v.stdout}\n${v.stderr}`);
    assert.equal(v.stderr.trim(), '', v.stderr);
    const timer = await readFile(path.join(unitDir, 'tierback-offsite-box.timer'), 'utf8');
    const cal = [...timer.matchAll(/^OnCalendar=(.+)$/gm)].map((m) => m[1]!);
    const sd = await execa('systemd-analyze', ['calendar', '--iterations=2', ...cal], { env: { TZ: 'UTC' } });
    const elapses = [...sd.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => m[1]!.slice(11));
    assert.deepEqual(elapses, ['07:07:00', '07:07:00']);
  });
});

describe('schedule: cron install', () => {
  it('writes /etc/cron.d/tierback 0644 once, then reports it unchanged', async () => {
    const root = path.join(dir, 'root2');
    const a = await tierback(['schedule', 'backup1.example.org', '-i', inv, '--install', '--root', root]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^written +\S+\/etc\/cron\.d\/tierback$/m);
    const file = path.join(root, 'etc/cron.d/tierback');
    assert.equal(((await stat(file)).mode & 0o777).toString(8), '644');
    assert.equal(cronLines(await readFile(file, 'utf8')).length, 4);
    const b = await tierback(['schedule', 'backup1.example.org', '-i', inv, '--install', '--root', root]);
    assert.match(b.stdout, /^unchanged +\S+\/etc\/cron\.d\/tierback$/m);
  });
  it('keeps a hand-edited pull line (warns, exit 5) until --force; the pull line carries no settings: the run reads them from the inventory', async () => {
    const root = path.join(dir, 'root-edit');
    const file = path.join(root, 'etc/cron.d/tierback');
    assert.equal((await tierback(['schedule', 'backup1.example.org', '-i', inv, '--install', '--root', root])).code, 0);
    const installed = await readFile(file, 'utf8');
    const pullLine = installed.split('\n').find((l) => / pull --backup-server /.test(l))!;
    assert.doesNotMatch(pullLine, /--streams|--concurrency|--transfers|--timeout/, 'transfers, streams, concurrency and timeout come from the inventory at run time');
    const edited = installed.replace(pullLine, pullLine.replace(' pull --backup-server ', ' pull --streams 1 --backup-server '));
    await writeFile(file, edited);
    const again = await tierback(['schedule', 'backup1.example.org', '-i', inv, '--install', '--root', root]);
    assert.equal(again.code, 5, again.stderr);
    assert.match(again.stdout, /^kept +\S+\/etc\/cron\.d\/tierback \(edited by hand: --force replaces it\)$/m);
    assert.match(again.stderr, /edited by hand since tierback installed it: kept as it is/);
    assert.equal(await readFile(file, 'utf8'), edited, 'the hand edit is still there');
    const forced = await tierback(['schedule', 'backup1.example.org', '-i', inv, '--install', '--root', root, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(await readFile(file, 'utf8'), installed);
  });
  it('refuses an unknown host with exit code 3', async () => {
    const r = await tierback(['schedule', 'nowhere', '-i', inv]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /"nowhere" is neither a server nor a VM/);
  });
});
