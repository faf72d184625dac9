/**
 * The report page in a real Chromium (playwright-core): sorting a column and typing in the filter
 * change what is shown; the page makes no network request and logs no error, opened from the file
 * (offline) and served under a strict Content-Security-Policy that allows only its script's hash.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { REPORT_SCRIPT_HASH } from '../../../../lib/features/report/index.js';
import { tierback } from '../../../helpers/cli.js';
import { buildFleetSite, FLEET_BACKUP } from '../../../helpers/fleet-site.js';
import { tempDir } from '../../../helpers/tree.js';
import { launch } from '../../../helpers/web.js';

/** A page that records every request and every console error or page error. */
async function watched(browser: Browser, url: string): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, requests, errors };
}

const visibleApps = (page: Page, table: string) => page.$$eval(`${table} tbody tr:not([hidden])`, (trs) => trs.map((tr) => tr.querySelectorAll('td')[0]?.textContent ?? ''));

describe('the report page in Chromium', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let file: string;
  let browser: Browser;
  let server: Server;
  let url: string;
  before(async () => {
    tmp = await tempDir('tierback-report-page-');
    const fleet = buildFleetSite(tmp.dir, { servers: 6, appsPerServer: 5, days: 32 });
    file = path.join(tmp.dir, 'report.html');
    const r = await tierback(['report', '--html', file, '-i', fleet.inventory, '--root', tmp.dir, '--host', FLEET_BACKUP]);
    assert.equal(r.code, 0, r.stderr);
    const text = await readFile(file);
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; script-src ${REPORT_SCRIPT_HASH}` });
      res.end(text);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    server?.close();
    await tmp?.cleanup();
  });

  it('opened from the file: no request but the page itself, no console error, day strips drawn', async () => {
    const { page, requests, errors } = await watched(browser, pathToFileURL(file).href);
    assert.deepEqual(requests, [pathToFileURL(file).href]);
    assert.deepEqual(errors, []);
    // The problems (the failed pull of s006... and the rest) come first, their strips drawn: 30 days each.
    const strips = await page.$$eval('table.t.p tbody tr td.d', (tds) => tds.map((td) => td.querySelectorAll('i').length));
    assert.ok(strips.length > 0);
    assert.ok(strips.every((n) => n === 30), strips.join(','));
    await page.close();
  });

  it('under a CSP that allows only the script hash: sorting a column and the filters change what is shown', async () => {
    const { page, requests, errors } = await watched(browser, url);
    // s001 was last pulled 3 days ago: all its rows are problems; s002's are all OK.
    const group = 'details:nth-of-type(2) table.t';
    const before = await visibleApps(page, group);
    assert.ok(before.length >= 5, before.join(','));
    // Sort by app, twice: descending the second time.
    await page.click(`${group} th:text-is("App")`);
    const asc = await visibleApps(page, group);
    assert.deepEqual(asc, [...before].sort());
    await page.click(`${group} th:text-is("App")`);
    const desc = await visibleApps(page, group);
    assert.deepEqual(desc, [...asc].reverse());
    assert.notDeepEqual(desc, asc);
    assert.equal(await page.getAttribute(`${group} th:text-is("App")`, 'aria-sort'), 'descending');
    // The filter: one app's rows only, everywhere; the groups without it hide.
    await page.fill('#q', 'app0012');
    const shown = await page.$$eval('table.t tbody tr:not([hidden])', (trs) => trs.map((tr) => tr.querySelectorAll('td')[0]?.textContent));
    assert.deepEqual([...new Set(shown)], ['app0012']);
    assert.equal(shown.length, 2, 'its remote and offsite rows');
    assert.match((await page.textContent('#n')) ?? '', /^2 rows match$/);
    assert.equal(await page.locator('details:not([hidden])').count(), 1);
    // The state filter: FAILED rows only (the failed pull's server).
    await page.fill('#q', '');
    await page.selectOption('#st', 'FAILED');
    const states = await page.$$eval('table.t tbody tr:not([hidden])', (trs) => trs.map((tr) => tr.querySelectorAll('td')[3]?.textContent));
    assert.ok(states.length > 0);
    assert.ok(states.every((s) => s === 'FAILED'), states.join(','));
    assert.deepEqual(requests, [url]);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
