/** tierback's version: embedded by scripts/bundle.mjs in the single file, else read from package.json next to build/. */
import { readFileSync } from 'node:fs';

/** Replaced by the version in the bundle (esbuild `define`); undeclared, so `typeof` is 'undefined', in build/. */
declare const TIERBACK_BUNDLED_VERSION: string | undefined;

export function tierbackVersion(): string {
  if (typeof TIERBACK_BUNDLED_VERSION === 'string') return TIERBACK_BUNDLED_VERSION;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
