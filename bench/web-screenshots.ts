/**
 * Screenshots of the web interface's main pages for docs/web.md, taken with Chromium on the test
 * site (test/helpers/web.ts): overview, app, folder, find, dumps. Small PNGs in docs/images/.
 *   npx tsc -p . && node build/bench/web-screenshots.js
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, buildWebSite, launch, signIn } from '../test/helpers/web.js';
import { tempDir } from '../test/helpers/tree.js';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/images');
const tmp = await tempDir('tierback-shots-');
const web = await buildWebSite(tmp.dir);
const browser = await launch();
try {
  const { page } = await signIn(browser, web.url, ADMIN);
  await page.setViewportSize({ width: 1100, height: 700 });
  const points = ((await (await page.context().request.get(`${web.url}/api/apps/docs/points`)).json()) as { points: { id: string; tier: string }[] }).points;
  const older = points.find((p) => p.tier === 'remote')!.id;
  const shots: [string, string][] = [
    ['web-overview.png', '/'],
    ['web-app.png', '/app/docs'],
    ['web-browse.png', `/app/docs/browse?point=${encodeURIComponent(older)}&path=files`],
    ['web-find.png', '/app/docs/find?q=report.txt'],
    ['web-dumps.png', '/app/shop/dumps'],
  ];
  for (const [file, url] of shots) {
    await page.goto(`${web.url}${url}`);
    await page.screenshot({ path: path.join(OUT, file) });
    console.log(`wrote docs/images/${file}`);
  }
} finally {
  await browser.close();
  await web.close();
  await tmp.cleanup();
}
