/** The web interface's security list, against a real server and a real Chromium. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { checkBinding } from '../../../../lib/features/web/server.js';
import { tempDir } from '../../../helpers/tree.js';
import { ADMIN, CUSTOMER, buildWebSite, launch, signIn, type WebSite } from '../../../helpers/web.js';

describe('web interface security', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let web: WebSite;
  let browser: Browser;
  let customer: Page;
  let admin: Page;
  let docsPoint: string;
  let shopPoint: string;
  before(async () => {
    tmp = await tempDir('tierback-websec-');
    web = await buildWebSite(tmp.dir);
    browser = await launch();
    ({ page: customer } = await signIn(browser, web.url, CUSTOMER));
    ({ page: admin } = await signIn(browser, web.url, ADMIN));
    const pts = async (app: string) => ((await (await admin.context().request.get(`${web.url}/api/apps/${app}/points`)).json()) as { points: { id: string; tier: string }[] }).points.find((p) => p.tier === 'remote')!.id;
    docsPoint = await pts('docs');
    shopPoint = await pts('shop');
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await tmp?.cleanup();
  });

  it('a customer sees only their app on the overview and in the API', async () => {
    const apps = await customer.$$eval('table.status tbody tr', (trs) => [...new Set(trs.map((tr) => tr.getAttribute('data-app')))]);
    assert.deepEqual(apps, ['docs']);
    const status = (await (await customer.context().request.get(`${web.url}/api/status`)).json()) as { rows: { app: string }[] };
    assert.deepEqual([...new Set(status.rows.map((r) => r.app))], ['docs']);
    const list = (await (await customer.context().request.get(`${web.url}/api/apps`)).json()) as { apps: { name: string }[] };
    assert.deepEqual(list.apps.map((a) => a.name), ['docs']);
    const report = await (await customer.context().request.get(`${web.url}/report`)).text();
    const reportApps = [...report.matchAll(/<tr><td><a href="\/app\/([^"]+)"/g)].map((m) => m[1]);
    assert.ok(reportApps.length > 0);
    assert.deepEqual([...new Set(reportApps)], ['docs']);
  });

  it('a customer cannot see or fetch another app by any URL: pages, listing, file, folder, dumps, find, API', async () => {
    const p = encodeURIComponent(shopPoint);
    const urls = [
      '/app/shop',
      `/app/shop/browse?point=${p}`,
      `/app/shop/file?point=${p}&path=db`,
      `/app/shop/tar?point=${p}&path=`,
      '/app/shop/dumps',
      '/app/shop/find?q=database.yml',
      '/api/apps/shop/points',
      '/api/apps/shop/history',
      `/api/apps/shop/list?point=${p}`,
      '/api/apps/shop/find?q=yml',
    ];
    for (const u of urls) {
      const r = await customer.context().request.get(`${web.url}${u}`, { maxRedirects: 0 });
      assert.equal(r.status(), 404, u);
      assert.doesNotMatch(await r.text(), /production|database\.yml|orders/, u);
    }
    // The admin reaches the same URLs: the 404s are the account's, not broken URLs.
    assert.equal((await admin.context().request.get(`${web.url}/api/apps/shop/list?point=${p}`)).status(), 200);
    const audit = await readFile(web.auditFile, 'utf8');
    assert.match(audit, /"event":"refused","user":"drawmgt","ip":"127\.0\.0\.1","app":"shop"/);
  });

  it('refuses traversal, encoded forms, NUL, absolute paths and symlinks that leave the point; downloads never follow a link', async () => {
    const p = encodeURIComponent(docsPoint);
    const bad = [
      ['browse', '..'],
      ['browse', 'files/../..'],
      ['browse', '%2e%2e'],
      ['file', '%252e%252e%252fetc%252fpasswd'],
      ['file', '/etc/passwd'],
      ['file', 'files/report.txt%00'],
      ['browse', 'files/escape'],
      ['file', 'files/escape'],
      ['browse', 'files/escape/passwd'],
      ['file', 'files/escape/passwd'],
      ['tar', 'files/escape'],
    ];
    for (const [route, rel] of bad) {
      const r = await customer.context().request.get(`${web.url}/app/docs/${route}?point=${p}&path=${rel}`);
      assert.ok([400, 403].includes(r.status()), `${route} ${rel}: ${r.status()}`);
      assert.doesNotMatch(await r.text(), /root:x:0:0/);
    }
    // Encoded slashes and dots in the path part are refused before routing.
    const raw = await customer.context().request.get(`${web.url}/app/docs/..%2f..%2fetc`);
    assert.equal(raw.status(), 400);
    const ok = await customer.context().request.get(`${web.url}/app/docs/file?point=${p}&path=files/report.txt`);
    assert.equal(ok.status(), 200);
    const audit = await readFile(web.auditFile, 'utf8');
    assert.match(audit, /"event":"download","user":"drawmgt","ip":"127\.0\.0\.1","app":"docs","point":"[^"]+","path":"files\/report\.txt"/);
    assert.match(audit, /"event":"refused","user":"drawmgt","ip":"127\.0\.0\.1","app":"docs","path":"[^"]*files\/escape\/passwd","reason":"\\"files\/escape\\" is a link that leaves the point"/);
  });

  it('signs out, and the old session cookie no longer opens anything', async () => {
    const { context, page } = await signIn(browser, web.url, CUSTOMER);
    await Promise.all([page.waitForURL(`${web.url}/login`), page.click('nav.top button')]);
    const r = await context.request.get(`${web.url}/api/status`);
    assert.equal(r.status(), 401);
    await context.close();
  });

  // Last of the sign-ins: it throttles 127.0.0.1 (per account and per address) for the tests after it.
  it('slows down a wrong password five times, even for the right one next; without a secret in the log', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    for (let i = 0; i < 5; i++) {
      await page.goto(`${web.url}/login`);
      await page.fill('input[name=user]', ADMIN.user);
      await page.fill('input[name=password]', `wrong-${i}`);
      await page.click('button[type=submit]');
      assert.match((await page.textContent('#message')) ?? '', /Wrong user or password/);
    }
    await page.goto(`${web.url}/login`);
    await page.fill('input[name=user]', ADMIN.user);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    assert.match((await page.textContent('#message')) ?? '', /Too many failed sign-ins: wait \d+ s/);
    assert.equal(page.url(), `${web.url}/login`);
    // The API's Basic auth is throttled the same way.
    const r = await ctx.request.get(`${web.url}/api/status`, { headers: { authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } });
    assert.equal(r.status(), 429);
    await ctx.close();
    const audit = await readFile(web.auditFile, 'utf8');
    assert.match(audit, /"event":"signin-throttled","user":"admin"/);
    assert.doesNotMatch(audit, /wrong-\d|admin-password|customer-password|tierback_session/);
    assert.equal((await stat(web.auditFile)).mode & 0o777, 0o600);
    assert.equal((await stat(web.usersFile)).mode & 0o777, 0o600);
  });

  it('binds loopback unless TLS is given', () => {
    assert.doesNotThrow(() => checkBinding({}));
    assert.throws(() => checkBinding({ listen: '0.0.0.0' }), /without TLS is refused/);
    assert.doesNotThrow(() => checkBinding({ listen: '0.0.0.0', tls: { cert: 'c', key: 'k' } }));
  });
});
