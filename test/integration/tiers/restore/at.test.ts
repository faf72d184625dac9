/**
 * `restore --at` with a time of day: two job runs and pulls on the same day, then
 * the earlier one restored by a time of day in the site's timezone (Europe/Zurich), by its snapshot
 * stamp and by the UTC time `list` prints; dates and times that are not real are exit 2 and restore nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadInventory } from '../../../../lib/site/load.js';
import { tierback } from '../../../helpers/cli.js';
import { backUp, buildDemoSite } from '../../../helpers/demosite.js';
import { tempDir } from '../../../helpers/tree.js';

// Zurich is UTC+1 in March: the morning run is 02:00 local, the afternoon run 14:00 local.
const MORNING_JOB = new Date('2026-03-10T01:00:00Z');
const MORNING_PULL = new Date('2026-03-10T03:00:00Z');
const AFTERNOON_JOB = new Date('2026-03-10T13:00:00Z');
const AFTERNOON_PULL = new Date('2026-03-10T15:00:00Z');

let tmp: string;
let cleanup: () => Promise<void>;
let inv: string;
let out: string;
let n = 0;
const fresh = () => path.join(out, `r${++n}`);
const cli = (args: string[]) => tierback([...args, '-i', inv]);
const report = (to: string) => readFile(path.join(to, 'files', 'report.txt'), 'utf8');

before(async () => {
  ({ dir: tmp, cleanup } = await tempDir('tierback-at-'));
  const d = await buildDemoSite(path.join(tmp, 'demo'));
  inv = d.site.file;
  out = path.join(tmp, 'out');
  const text = await readFile(inv, 'utf8');
  assert.match(text, /timezone: UTC/);
  await writeFile(inv, text.replace('timezone: UTC', 'timezone: Europe/Zurich'));
  const site = await loadInventory({ file: inv });
  assert.equal(site.timezone, 'Europe/Zurich');
  await backUp(site, MORNING_JOB, MORNING_PULL);
  await writeFile(path.join(d.docs, 'report.txt'), 'report of the afternoon\n');
  await backUp(site, AFTERNOON_JOB, AFTERNOON_PULL);
});
after(() => cleanup());

describe('restore --at: the earlier of two runs on the same day', () => {
  it('a time of day between the runs, in the site\'s timezone, picks the morning run', async () => {
    // 13:30 in Zurich is 12:30 UTC: after the morning run, before the afternoon run (13:00 UTC).
    const to = fresh();
    const r = await cli(['restore', 'docs', '--at', '2026-03-10 13:30', '--to', to]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /from snapshot [^ ]+\/2026-03-10T030000Z/);
    assert.equal(await report(to), 'report v1\n');
  });

  it('the snapshot stamp and the UTC time list prints pick the morning run too', async () => {
    const to1 = fresh();
    const r1 = await cli(['restore', 'docs', '--at', '2026-03-10T030000Z', '--to', to1]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(await report(to1), 'report v1\n');
    const list = await cli(['list', 'docs']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes(MORNING_JOB.toISOString()), list.stdout);
    const to2 = fresh();
    const r2 = await cli(['restore', 'docs', '--at', MORNING_JOB.toISOString(), '--to', to2]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await report(to2), 'report v1\n');
  });

  it('the day, or a time after the second run, picks the afternoon run', async () => {
    for (const at of ['2026-03-10', '2026-03-10 14:00:00', '2026-03-10T13:00:00Z']) {
      const to = fresh();
      const r = await cli(['restore', 'docs', '--at', at, '--to', to]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await report(to), 'report of the afternoon\n', at);
    }
  });

  it('a date or time that is not real is exit 2 with the accepted forms, and restores nothing', async () => {
    for (const [at, why] of [
      ['2026-13-45', /month 13 is not 1-12/],
      ['2026-02-30', /February 2026 has days 1-28, not 30/],
      ['2026-03-10 25:00', /hour 25 is not 0-23/],
    ] as const) {
      const to = fresh();
      const r = await cli(['restore', 'docs', '--at', at, '--to', to]);
      assert.equal(r.code, 2, `${at}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /2026-02-01 14:05/);
      assert.match(r.stderr, /snapshot stamp \(2026-02-01T140530Z\)/);
      assert.deepEqual(await readdir(out).then((names) => names.filter((x) => x === path.basename(to))), []);
    }
  });
});
