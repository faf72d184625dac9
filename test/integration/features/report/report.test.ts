import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dayOf } from '../../../../lib/model/history.js';
import { COLORS } from '../../../../lib/features/report/index.js';
import { dumpDom, screenshot } from '../../../helpers/chromium.js';
import { tierback } from '../../../helpers/cli.js';
import { countColor, readPng } from '../../../helpers/png.js';
import { tempDir } from '../../../helpers/tree.js';
import { ago, DAY, HOUR, localHistory, makeSnapshot, pullHistory, writeRun, writeSite } from '../../../helpers/history-site.js';

const NOW = new Date();

describe('tierback report --html (rendered by headless Chromium)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let html: string;
  let failDay: string;
  before(async () => {
    ({ dir, cleanup } = await tempDir('tierback-report-'));
    const { file: inv } = await writeSite(dir);
    const carried = await makeSnapshot(dir, ago(NOW, HOUR));
    const todayStart = Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), NOW.getUTCDate());
    for (let d = 34; d >= 0; d--) {
      // Half-way through each UTC day up to now, so every one of the 30 days has its run whatever the time.
      const start = new Date(todayStart - d * DAY + (NOW.getTime() - todayStart) / 2);
      await writeRun(localHistory(dir), { name: 'alpha', start, mb: 100 + (34 - d) * 3, files: 1000 + d });
      await writeRun(carried, { name: 'alpha', start, mb: 100 + (34 - d) * 3 });
      // beta fails on day 5 ago (only), and fails then succeeds on day 3 ago (amber).
      if (d === 5) await writeRun(localHistory(dir), { name: 'beta', start, status: 'failed', error: 'pg_dump: connection <refused> & "gone"' });
      else await writeRun(localHistory(dir), { name: 'beta', start, mb: 50 });
      if (d === 3) await writeRun(localHistory(dir), { name: 'beta', start: new Date(start.getTime() + 60_000), status: 'failed', error: 'lock timeout' });
      await writeRun(pullHistory(dir), { name: 'pull-app1.test.example', kind: 'pull', tier: 'remote', start: new Date(start.getTime() + 30_000), ...(d === 7 ? { status: 'failed' as const, error: 'rsync: connection unexpectedly closed' } : {}) });
    }
    failDay = dayOf(new Date(todayStart - 5 * DAY), 'UTC');
    html = path.join(dir, 'out', 'report.html');
    const r = await tierback(['report', '--html', html, '-i', inv, '--root', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*report\.html: 8 rows, 3 failures in 30 days/);
  });
  after(() => (process.env.KEEP_REPORT ? undefined : cleanup()));

  it('is self-contained: one inline script, no network resources, escaped error text', async () => {
    const text = await readFile(html, 'utf8');
    assert.equal((text.match(/<script/g) ?? []).length, 1);
    assert.match(text, /<script>\(function\(\)\{/);
    assert.doesNotMatch(text, /<script[^>]+src|<link|<img|@import|url\(|https?:\/\//i);
    assert.match(text, /pg_dump: connection &lt;refused&gt; &amp; &quot;gone&quot;/);
    assert.equal((await stat(html)).mode & 0o777, 0o644);
  });

  it('the rendered DOM has one row per app and tier, 30 day cells each, and the expected cell states', async () => {
    const dom = await dumpDom(html);
    const gridRow = (app: string, tier: string) => {
      const m = new RegExp(`<tr><td>${app}</td><td>${tier}</td>[^]*?</tr>`).exec(dom);
      assert.ok(m, `no grid row for ${app}/${tier}`);
      return m[0];
    };
    const states = (row: string) => [...row.matchAll(/data-state="(\w+)"/g)].map((m) => m[1]);
    const alpha = states(gridRow('alpha', 'local'));
    assert.equal(alpha.length, 30);
    assert.ok(alpha.every((s) => s === 'ok'), alpha.join(','));
    const beta = gridRow('beta', 'local');
    assert.match(beta, new RegExp(`data-day="${failDay}" data-state="fail"`));
    assert.equal(states(beta).filter((s) => s === 'fail').length, 1);
    assert.equal(states(beta).filter((s) => s === 'warn').length, 1);
    assert.ok(states(gridRow('gamma', 'local')).every((s) => s === 'none'));
    assert.equal(states(gridRow('alpha', 'remote')).filter((s) => s === 'fail').length, 1);
    assert.ok(states(gridRow('gamma', 'remote')).every((s) => s === 'none'), 'a MISSING remote row shows pulls');
    assert.match(dom, /<td class="MISSING">MISSING<\/td>/);
    assert.match(dom, /<tr class="failure">.*rsync: connection unexpectedly closed/);
    assert.match(gridRow('alpha', 'local'), /<svg class="spark"[^>]*aria-label="size from 115\.0 to 202\.0 MB"/);
  });

  it('the screenshot shows green, amber and red cells', async () => {
    const png = path.join(dir, 'report.png');
    await screenshot(html, png);
    const img = await readPng(png);
    assert.equal(img.width, 1400);
    const green = countColor(img, COLORS.ok);
    const amber = countColor(img, COLORS.warn);
    const red = countColor(img, COLORS.fail);
    // 30 green cells of about 16x18 px in 3 rows at least, a few amber and red ones, the state badges.
    assert.ok(green > 30 * 3 * 150, `green pixels: ${green}`);
    assert.ok(amber > 150, `amber pixels: ${amber}`);
    assert.ok(red > 3 * 150, `red pixels: ${red}`);
  });
});
