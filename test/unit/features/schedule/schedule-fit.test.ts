import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventory } from '../../../../lib/site/load.js';
import { planSchedule, scheduleSettings } from '../../../../lib/features/schedule/index.js';
import { fixedMinute, lateJobWarnings, layoutServerJobs } from '../../../../lib/features/schedule/fit.js';
import { scheduleInventory, type ScheduleApp } from '../../../helpers/schedule-site.js';

/** A site with `n` default-schedule apps on one server (in two VMs), pulled at `pull`; `extra` apps after them. */
function site(n: number, opts: { schedule?: string; pull?: string; extra?: ScheduleApp[]; schedules?: string } = {}) {
  const apps = Array.from({ length: n }, (_, i): ScheduleApp => [`app${i}`, i % 2 ? 'web' : 'db', `a${i}`]);
  return parseInventory(
    scheduleInventory({
      head: [`defaults: { schedule: "${opts.schedule ?? '30 1 * * *'}", pull_schedule: "${opts.pull ?? '0 3 * * *'}" }`, `schedules: { bin: /usr/local/bin/tierback${opts.schedules ?? ''} }`],
      app: 'a.example.org',
      backup: 'b.example.org',
      vms: ['web', 'db'],
      apps: [...apps, ...(opts.extra ?? [])],
    }),
    '/etc/tierback/fit.yaml',
  );
}

/** Minute of the day of a laid-out cron line ("m h * * *"), counted past midnight from `base`. */
function startOf(cron: string, base: number): number {
  const m = fixedMinute(cron)!;
  return m < base ? m + 1440 : m;
}

describe('schedule: jobs laid out to end before the pull', () => {
  it('20 apps with 5-minute estimates between 01:30 and a 03:00 pull: all end by 02:50, two side by side', () => {
    const s = site(20);
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s));
    assert.equal(layout.lanes, 2);
    assert.deepEqual(layout.late, []);
    const starts = [...planSchedule(s, 'web').entries, ...planSchedule(s, 'db').entries].map((e) => startOf(e.cron, 90));
    assert.equal(starts.length, 20);
    for (const st of starts) assert.ok(st >= 90 && st + 5 <= 170, `start ${st} ends after 02:50`);
  });

  it('lays jobs one after another by their durations from history, longest first not reordered', () => {
    const s = site(3);
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s), new Map([['app0', 40 * 60], ['app1', 90]]));
    assert.deepEqual([...layout.slots.values()].map((x) => [x.app, x.offset, x.durationMin, x.durationSource]), [
      ['app0', 0, 40, 'history'],
      ['app1', 40, 2, 'history'],
      ['app2', 42, 5, 'estimate'],
    ]);
    assert.equal(planSchedule(s, 'db', new Map([['app0', 40 * 60], ['app1', 90]])).entries.find((e) => e.id === 'job-app2')!.cron, '12 2 * * *');
  });

  it('prefers apps[].duration to history and estimate', () => {
    const s = site(2, { extra: [['big', 'web', 'big', ', duration: 1h']] });
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s), new Map([['big', 60]]));
    assert.deepEqual([layout.slots.get('big')!.durationMin, layout.slots.get('big')!.durationSource], [60, 'inventory']);
  });

  it('300 apps never wrap round the day: starts stay within a day of the first, and the late ones are reported with how late', () => {
    const s = site(300);
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s));
    assert.equal(layout.lanes, 2); // job_lanes default
    const offsets = [...layout.slots.values()].map((x) => x.offset);
    assert.ok(offsets.every((o) => o >= 0 && o < 1440));
    // per lane, starts only grow
    for (const lane of [0, 1]) {
      const mine = [...layout.slots.values()].filter((x) => x.lane === lane).map((x) => x.offset);
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
    }
    assert.ok(layout.late.length > 200, `late: ${layout.late.length}`);
    const last = layout.late.at(-1)!;
    assert.equal(last.pullAt, '03:00');
    assert.ok(last.lateMin > 0);
    // the old stagger put app288 back at 01:30; now its start is after 01:30 of the same cycle
    const cron = planSchedule(s, 'db').entries.find((e) => e.id === 'job-app288')!.cron;
    assert.ok(startOf(cron, 90) > 90, cron);
  });

  it('counts the night: jobs at 23:50 carried by a 03:15 pull the next morning fit', () => {
    const s = site(4, { schedule: '50 23 * * *', pull: '15 3 * * *' });
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s));
    assert.deepEqual(layout.late, []);
    assert.equal(layout.lanes, 1);
  });

  it('checks explicit schedules without moving them', () => {
    const s = site(1, { extra: [['late', 'web', 'l', ', schedule: "55 2 * * *", duration: 20m']] });
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s));
    assert.deepEqual(layout.late.map((l) => [l.app, l.endsAt, l.lateMin, l.source]), [['late', '03:15', 15, 'apps[1].schedule']]);
    assert.equal(planSchedule(s, 'web').entries.find((e) => e.id === 'job-late')!.cron, '55 2 * * *');
    assert.deepEqual(lateJobWarnings(s, scheduleSettings(s)).map((w) => w.path), ['apps[1]']);
  });

  it('uses more lanes only up to schedules.job_lanes', () => {
    const s = site(60, { schedules: ', job_lanes: 4' });
    const layout = layoutServerJobs(s, 'a.example.org', scheduleSettings(s));
    assert.equal(layout.lanes, 4);
    assert.deepEqual(layout.late, []);
  });
});
