/**
 * A web interface over a real site for the tests: the demo site (test/helpers/demosite.ts) backed up
 * on two days (two snapshots), an admin and a customer account, the server on a free loopback port,
 * and a real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { setUser } from '../../lib/features/web/accounts.js';
import { startServer } from '../../lib/features/web/server.js';
import { backUp, buildDemoSite, keepCopy, type DemoSite } from './demosite.js';

export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
export const ADMIN = { user: 'admin', password: 'admin-password-1' };
export const CUSTOMER = { user: 'drawmgt', password: 'customer-password-1' };

export interface WebSite {
  demo: DemoSite;
  url: string;
  usersFile: string;
  auditFile: string;
  /** The docs tree as it was on day 1 (the older snapshot). */
  day1: string;
  close: () => Promise<void>;
}

export async function buildWebSite(dir: string): Promise<WebSite> {
  const demo = await buildDemoSite(path.join(dir, 'site'));
  const day1At = new Date(Date.now() - 2 * 86_400_000);
  await backUp(demo.site, day1At, new Date(day1At.getTime() + 3_600_000));
  const day1 = path.join(dir, 'day1-docs');
  await keepCopy(demo.docs, day1);
  await writeFile(path.join(demo.docs, 'report.txt'), 'report v2, changed on day 2\n');
  const day2At = new Date(Date.now() - 86_400_000);
  await backUp(demo.site, day2At, new Date(day2At.getTime() + 3_600_000));
  const usersFile = path.join(dir, 'etc', 'web-users.json');
  await setUser(usersFile, ADMIN.user, ADMIN.password, '*');
  await setUser(usersFile, CUSTOMER.user, CUSTOMER.password, ['docs']);
  const auditFile = path.join(dir, 'log', 'web-audit.log');
  const server = await startServer({ site: demo.site, usersFile, auditFile, port: 0 });
  return { demo, url: server.url, usersFile, auditFile, day1, close: server.close };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

/** A fresh browser context (its own cookies), signed in. */
export async function signIn(browser: Browser, url: string, who: { user: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1300, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${url}/login`);
  await page.fill('input[name=user]', who.user);
  await page.fill('input[name=password]', who.password);
  await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
  return { context, page };
}
