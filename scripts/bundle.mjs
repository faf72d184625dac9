#!/usr/bin/env node
/**
 * The installable build: bundles the CLI and every runtime dependency into one folder,
 * dist/tierback/ (`tierback.mjs`, the entry, and `chunks/`), which runs on a machine with only
 * Node >= 20 installed (no node_modules). `npm run bundle [-- OUTDIR]`.
 *
 * Code splitting (esbuild `splitting`): each command's module (cli/commands/names.ts imports them
 * lazily) and what only it uses become chunks loaded when that command runs, so `--version` parses
 * yargs and not the web server, ssh2 or zod (startup: docs/decisions.md). Node resolves the
 * symlink /usr/local/bin/tierback to the entry's real path, so the chunks are found beside it.
 *
 * ssh2's optional native parts (cpu-features, build/Release/sshcrypto.node) are left out: ssh2
 * loads them inside try/catch and falls back to pure JavaScript, so the bundle works without them.
 */
import { build } from 'esbuild';
import { chmod, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'dist/tierback');
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

// Chunk names carry a hash: remove the previous build's (only what this script writes).
await rm(path.join(outdir, 'chunks'), { recursive: true, force: true });
await rm(path.join(outdir, 'tierback.mjs'), { force: true });

await build({
  entryPoints: { tierback: path.join(root, 'cli/tierback.ts') },
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: false,
  sourcemap: false,
  legalComments: 'inline',
  external: ['cpu-features', '*.node'],
  define: {
    // cli/version.ts: --version of a build with no package.json beside it.
    TIERBACK_BUNDLED_VERSION: JSON.stringify(pkg.version),
    // CommonJS dependencies read __dirname/__filename; the banner gives every chunk its own under
    // names no bundled ES module declares (a module declaring `__dirname` keeps its own).
    __dirname: '__tierback_dirname',
    __filename: '__tierback_filename',
  },
  // CommonJS dependencies (pino, ssh2) call require() for Node built-ins: give each ES chunk one.
  banner: {
    js: [
      "import { createRequire as __tierbackCreateRequire } from 'node:module';",
      "import { fileURLToPath as __tierbackFileURLToPath } from 'node:url';",
      "import { dirname as __tierbackDirname } from 'node:path';",
      'const require = __tierbackCreateRequire(import.meta.url);',
      'const __tierback_filename = __tierbackFileURLToPath(import.meta.url);',
      'const __tierback_dirname = __tierbackDirname(__tierback_filename);',
    ].join(' '),
  },
  logLevel: 'warning',
});
const entry = path.join(outdir, 'tierback.mjs');
await chmod(entry, 0o755);
const chunks = await readdir(path.join(outdir, 'chunks'));
let bytes = (await stat(entry)).size;
for (const c of chunks) bytes += (await stat(path.join(outdir, 'chunks', c))).size;
process.stdout.write(`${path.relative(process.cwd(), outdir) || outdir}/tierback.mjs: ${(bytes / 1e6).toFixed(2)} MB with ${chunks.length} chunks (tierback ${pkg.version}, Node >= 20)\n`);
