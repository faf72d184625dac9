#!/usr/bin/env node
/**
 * Single-file build: bundles the CLI and every runtime dependency into dist/tierback.mjs, which
 * runs on a machine with only Node >= 20 installed (no node_modules). `npm run bundle`.
 *
 * ssh2's optional native parts (cpu-features, build/Release/sshcrypto.node) are left out: ssh2
 * loads them inside try/catch and falls back to pure JavaScript, so the bundle works without them.
 */
import { build } from 'esbuild';
import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist/tierback.mjs');
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

await build({
  entryPoints: [path.join(root, 'cli/tierback.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  sourcemap: false,
  legalComments: 'inline',
  external: ['cpu-features', '*.node'],
  // cli/version.ts: --version of a file with no package.json beside it.
  define: { TIERBACK_BUNDLED_VERSION: JSON.stringify(pkg.version) },
  // CommonJS dependencies (pino, ssh2) call require() for Node built-ins and use __dirname; give the ESM bundle both.
  banner: {
    js: [
      "import { createRequire as __tierbackCreateRequire } from 'node:module';",
      "import { fileURLToPath as __tierbackFileURLToPath } from 'node:url';",
      "import { dirname as __tierbackDirname } from 'node:path';",
      'const require = __tierbackCreateRequire(import.meta.url);',
      'const __filename = __tierbackFileURLToPath(import.meta.url);',
      'const __dirname = __tierbackDirname(__filename);',
    ].join(' '),
  },
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
const { size } = await stat(outfile);
process.stdout.write(`${path.relative(process.cwd(), outfile) || outfile}: ${(size / 1e6).toFixed(2)} MB (tierback ${pkg.version}, Node >= 20)\n`);
