import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EtaEstimator, formatEta, type ProgressSample } from '../../../lib/base/progress.js';

/** Feeds samples in order; returns the eta after each. */
function run(samples: ProgressSample[]): (number | undefined)[] {
  const e = new EtaEstimator();
  return samples.map((s) => e.add(s));
}

/** One sample a second for `seconds` seconds from `t0`, `perS` items a second from `done0`. */
function steady(t0: number, seconds: number, done0: number, perS: number, total: number | undefined, totalsKnown = true): ProgressSample[] {
  return Array.from({ length: seconds }, (_, i) => ({ atMs: (t0 + i) * 1000, done: done0 + i * perS, total, totalsKnown }));
}

describe('EtaEstimator', () => {
  it('gives no eta while a stream has not reported its total, however steady the rate', () => {
    assert.deepEqual(run(steady(0, 30, 0, 100, 5000, false)), Array(30).fill(undefined));
  });

  it('gives no eta for the first seconds, then one that falls as time passes at a steady rate', () => {
    const etas = run(steady(0, 30, 0, 100, 10_000));
    assert.deepEqual(etas.slice(0, 5), Array(5).fill(undefined));
    const given = etas.slice(5) as number[];
    assert.ok(given.every((x) => typeof x === 'number'));
    assert.equal(given[0], (10_000 - 500) / 100);
    for (let i = 1; i < given.length; i++) assert.equal(given[i], given[i - 1]! - 1, 'one second later, one second less');
  });

  it('forgets the eta when the total jumps (a stream started), and gives one again once it has held', () => {
    const a = steady(0, 10, 0, 100, 2000);
    const b = steady(10, 10, 1000, 100, 6000);
    const etas = run([...a, ...b]);
    assert.equal(typeof etas[9], 'number');
    assert.deepEqual(etas.slice(10, 15), Array(5).fill(undefined), 'no eta right after the jump');
    assert.equal(etas[15], (6000 - 1500) / 100);
  });

  it('gives no eta while the rate is unsteady (bursts)', () => {
    const samples: ProgressSample[] = [];
    let done = 0;
    for (let i = 0; i < 20; i++) {
      done += i % 10 < 8 ? 1 : 1000; // 8 slow seconds, then 2 fast ones
      samples.push({ atMs: i * 1000, done, total: 100_000, totalsKnown: true });
    }
    const etas = run(samples);
    assert.ok(etas.slice(5, 18).some((x) => x === undefined));
  });

  it('says 0 when everything is done, and nothing for no progress at all', () => {
    assert.deepEqual(run(steady(0, 8, 0, 0, 500)), Array(8).fill(undefined));
    const e = new EtaEstimator();
    assert.equal(e.add({ atMs: 0, done: 500, total: 500, totalsKnown: true }), 0);
  });
});

describe('formatEta', () => {
  it('writes minutes:seconds, with hours when there are any', () => {
    assert.equal(formatEta(5), '0:05');
    assert.equal(formatEta(245), '4:05');
    assert.equal(formatEta(3723), '1:02:03');
  });
});
