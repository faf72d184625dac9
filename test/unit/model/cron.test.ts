import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCron, cronFieldValues } from '../../../lib/model/cron.js';
import { InventoryError } from '../../../lib/base/errors.js';
import { parseInventory } from '../../../lib/site/load.js';

describe('cron: each field checked for its range, the field named', () => {
  it('accepts numbers, ranges, steps, lists, *, names standing alone, day of week 7 and the @ forms', () => {
    for (const ok of ['30 1 * * *', '*/15 * * * *', '0 0-23/2 1,15 * *', '1,2,3 */2 1-31/2 1-12 0-7', '0 4 * * sun', '0 4 1 DEC *', '0 4 * * 7', '@daily', '@hourly', '@midnight', ' 0  4 * * * ']) {
      assert.equal(checkCron(ok), undefined, ok);
    }
  });
  const cases: [string, RegExp][] = [
    ['61 25 32 13 8', /minute 61 is out of range 0-59/],
    ['0 25 * * *', /hour 25 is out of range 0-23/],
    ['0 0 32 * *', /day of month 32 is out of range 1-31/],
    ['0 0 0 * *', /day of month 0 is out of range 1-31/],
    ['0 0 * 13 *', /month 13 is out of range 1-12/],
    ['0 0 * * 8', /day of week 8 is out of range 0-7/],
    ['0 0 * * 1-9', /day of week 9 is out of range 0-7/],
    ['0-60/5 * * * *', /minute 60 is out of range 0-59/],
    ['0 0 5-2 * *', /day of month range 5-2 runs backwards/],
    ['*/0 * * * *', /minute step \/0 must be at least 1/],
    ['0 0 * jan-mar *', /month "jan-mar" is not valid: a name .* must stand alone/],
    ['0 0 * * mon,tue', /day of week "mon,tue" is not valid/],
    ['0 0 * * funday', /day of week "funday" is not valid/],
    ['0 0 * *', /not a cron schedule \(4 fields, not 5\)/],
    ['@fortnightly', /not a cron schedule/],
  ];
  for (const [expr, re] of cases) {
    it(`rejects "${expr}"`, () => {
      const v = checkCron(expr);
      assert.ok(v, expr);
      assert.match(v.message, re);
      assert.ok(v.hint.length > 0);
    });
  }
  it('gives the values of a field, names and 7 (Sunday) as numbers', () => {
    assert.deepEqual(cronFieldValues('mar', 3), [3]);
    assert.deepEqual(cronFieldValues('sun', 4), [0]);
    assert.deepEqual(cronFieldValues('5-7', 4), [0, 5, 6]);
    assert.equal(cronFieldValues('*', 0), undefined);
    assert.throws(() => cronFieldValues('24', 1), /hour 24 is out of range/);
  });
  it('reports a bad schedule at its inventory path, the field named', () => {
    const text = `version: 1
servers: [{ fqdn: a.ch }]
defaults: { schedule: "0 3 * * *", pull_schedule: "0 24 * * *" }
schedules: { verify: "0 6 * * 9" }
`;
    try {
      parseInventory(text, 't.yaml');
      assert.fail('expected invalid');
    } catch (err) {
      assert.ok(err instanceof InventoryError);
      const byPath = new Map(err.problems.map((p) => [p.path, p.message]));
      assert.match(byPath.get('defaults.pull_schedule') ?? '', /hour 24 is out of range 0-23/);
      assert.match(byPath.get('schedules.verify') ?? '', /day of week 9 is out of range 0-7/);
      assert.equal(err.problems.length, 2);
    }
  });
});
