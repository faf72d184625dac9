/** Headless Chromium (Debian's `chromium`) to render pages: screenshots and the DOM after layout. */
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';


async function run(args: string[]): Promise<string> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'tierback-chromium-'));
  try {
    const r = await execa(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { timeout: 90_000, reject: false },
    );
    if (r.exitCode !== 0) throw new Error(`chromium failed (${r.exitCode}): ${String(r.stderr).slice(-2000)}`);
    return String(r.stdout);
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

export async function screenshot(html: string, png: string, size = '1400,1000'): Promise<void> {
  await run([`--screenshot=${png}`, `--window-size=${size}`, pathToFileURL(html).href]);
}

export async function dumpDom(html: string): Promise<string> {
  return run(['--dump-dom', pathToFileURL(html).href]);
}
