/** The web interface in a real Chromium: sign in, status, an app, browse, find, download a file and a folder. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readlink, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../../../helpers/tree.js';
import { ADMIN, buildWebSite, launch, signIn, type WebSite } from '../../../helpers/web.js';

/** Every entry under `dir`: relative path -> file content, link target, or "dir". */
async function treeOf(dir: string, rel = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(path.join(dir, rel))).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path.join(dir, r));
    if (st.isSymbolicLink()) out.set(r, `-> ${await readlink(path.join(dir, r))}`);
    else if (st.isDirectory()) {
      out.set(r, 'dir');
      for (const [k, v] of await treeOf(dir, r)) out.set(k, v);
    } else out.set(r, await readFile(path.join(dir, r), 'utf8'));
  }
  return out;
}

describe('web interface in Chromium', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let web: WebSite;
  let browser: Browser;
  let page: Page;
  before(async () => {
    tmp = await tempDir('tierback-web-');
    web = await buildWebSite(tmp.dir);
    browser = await launch();
    ({ page } = await signIn(browser, web.url, ADMIN));
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await tmp?.cleanup();
  });

  it('signs in and shows the status of every app, from the same code as tierback status', async () => {
    const rows = await page.$$eval('table.status tbody tr', (trs) => trs.map((tr) => `${tr.getAttribute('data-app')} ${tr.getAttribute('data-tier')} ${tr.querySelector('td.state')?.textContent}`));
    for (const app of ['shop', 'code', 'docs']) {
      assert.ok(rows.some((r) => r.startsWith(`${app} local `)), rows.join('\n'));
      assert.ok(rows.some((r) => r.startsWith(`${app} remote `)), rows.join('\n'));
    }
    assert.equal(await page.locator('table.grid tbody tr').count(), rows.length);
  });

  it('opens an app and lists its points in time on every tier, with what changed', async () => {
    await page.click('table.status a:text-is("docs")');
    await page.waitForURL(`${web.url}/app/docs`);
    const points = await page.$$eval('table.points tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-point')));
    assert.equal(points.filter((p) => p === 'local').length, 1, points.join(', '));
    assert.equal(points.filter((p) => p?.includes('/')).length, 2, points.join(', '));
  });

  it('browses the older snapshot, finds report.txt across points and downloads the day-1 version byte for byte', async () => {
    const older = (await page.$$eval('table.points tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-point')!))).filter((p) => p.includes('/')).sort()[0]!;
    await page.click(`tr[data-point="${older}"] a`);
    await page.click('tr[data-name="files"] a:text-is("files/")');
    const names = await page.$$eval('table.listing tbody tr', (trs) => trs.map((tr) => `${tr.getAttribute('data-name')}:${tr.getAttribute('data-type')}`));
    assert.deepEqual(names.sort(), ['escape:link', 'notes.md:file', 'report.txt:file', 'sub:folder']);
    assert.match(await page.textContent('tr[data-name="escape"]') ?? '', /→ \/etc \(link, not followed\)/);
    await page.goto(`${web.url}/app/docs/find?q=report.txt`);
    const hits = await page.$$eval('tr.hit', (trs) => trs.map((tr) => tr.getAttribute('data-point')));
    assert.equal(hits.length, 3, hits.join(', '));
    assert.match(await page.textContent('#found') ?? '', /^3 found\.$/);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`tr.hit[data-point="${older}"] a`)]);
    assert.equal(dl.suggestedFilename(), 'report.txt');
    assert.deepEqual(await readFile((await dl.path())!), await readFile(path.join(web.day1, 'report.txt')));
  });

  it('downloads a folder as .tar.gz that unpacks to the same tree, symlinks kept as links', async () => {
    const older = (await page.context().request.get(`${web.url}/api/apps/docs/points`).then((r) => r.json()) as { points: { id: string; tier: string }[] }).points.find((p) => p.tier === 'remote')!.id;
    await page.goto(`${web.url}/app/docs/browse?point=${encodeURIComponent(older)}&path=files`);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-folder')]);
    assert.equal(dl.suggestedFilename(), 'files.tar.gz');
    const out = path.join(tmp.dir, 'unpacked');
    await mkdir(out);
    execFileSync('tar', ['-xzf', (await dl.path())!, '-C', out]);
    assert.deepEqual(await treeOf(path.join(out, 'files')), await treeOf(web.day1));
  });

  it('shows the dumps of an app with the plain commands to load each', async () => {
    await page.goto(`${web.url}/app/shop/dumps`);
    const cmds = await page.$$eval('pre.commands', (ps) => ps.map((p) => p.textContent ?? ''));
    assert.ok(cmds.length >= 2, cmds.join('\n'));
    for (const c of cmds) assert.match(c, /^gunzip -c \/.*\.sqlite\.sql\.gz \| sqlite3 -bail \/tmp\/restore\/production-restored\.sqlite3$/);
  });

  it('answers the same facts as JSON: status, history, points, listings, find', async () => {
    const api = async (u: string) => (await page.context().request.get(`${web.url}${u}`)).json();
    const status = (await api('/api/status')) as { rows: { app: string; tier: string; state: string }[]; counts: Record<string, number> };
    assert.equal(status.rows.length, 6);
    assert.equal(status.counts['OK'], 6);
    const history = (await api('/api/apps/docs/history')) as { entries: { kind: string; status: string }[] };
    assert.equal(history.entries.filter((e) => e.kind === 'job' && e.status === 'ok').length, 2, JSON.stringify(history.entries));
    assert.equal(history.entries.filter((e) => e.kind === 'pull').length, 2);
    const points = (await api('/api/apps/docs/points')) as { points: { id: string; disk?: string; files: number }[] };
    assert.equal(points.points.length, 3);
    assert.equal(points.points[0]!.disk, undefined, 'no on-disk paths');
    const list = (await api(`/api/apps/docs/list?point=local&path=files&limit=2`)) as { entries: { name: string }[]; more: boolean };
    assert.equal(list.entries.length, 2);
    assert.equal(list.more, true);
    const r = await page.context().request.get(`${web.url}/api/apps/docs/find?q=*.md`);
    assert.equal(r.headers()['content-type'], 'application/x-ndjson');
    const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l) as { path?: string; done?: boolean; more?: boolean });
    assert.deepEqual(lines.at(-1), { done: true, more: false });
    assert.equal(lines.filter((l) => l.path === 'files/notes.md').length, 3);
  });

  it('serves the report page under its CSP: its inline script and style run (filter, sort), no console error, app links', async () => {
    const errors: string[] = [];
    const onConsole = (m: { type: () => string; text: () => string }) => {
      if (m.type() === 'error') errors.push(m.text());
    };
    page.on('console', onConsole);
    const r = await page.goto(`${web.url}/report`);
    assert.match(r!.headers()['content-security-policy'] ?? '', /script-src 'sha256-[^']+'/);
    assert.equal(await page.locator('#f').isVisible(), true, 'the script shows the filter bar');
    assert.equal(await page.locator('table.t td.d i').count() > 0, true, 'the script drew the day strips');
    await page.fill('#q', 'docs');
    const shown = await page.$$eval('table.t tbody tr:not([hidden])', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
    assert.ok(shown.length > 0 && shown.every((a) => a === 'docs'), shown.join(','));
    assert.equal(await page.locator('table.t a:text-is("docs")').first().getAttribute('href'), '/app/docs');
    page.off('console', onConsole);
    assert.deepEqual(errors, []);
  });

  it('sends the security headers and a HttpOnly, SameSite=Strict session cookie', async () => {
    const r = await page.goto(`${web.url}/`);
    const h = r!.headers();
    assert.match(h['content-security-policy'] ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(h['x-content-type-options'], 'nosniff');
    const [cookie] = await page.context().cookies();
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(await page.locator('script').count(), 0);
  });
});
