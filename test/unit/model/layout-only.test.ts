/**
 * docs/convention.md: lib/model/layout.ts is the only code that builds paths under a partition, a VM's
 * mount, an app's folder (its tierback files) or a USB drive. This test reads lib/ and fails on a
 * line elsewhere that builds one; the few lines that look like it but are not have a reason below.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../helpers/cli.js';

/** The layout module and the two it is made of. */
const LAYOUT_FILES = new Set(['lib/model/layout.ts', 'lib/model/names.ts', 'lib/model/convention.ts']);

const LAYOUT_CALL = String.raw`\b(?:local(?:Root|VmDir|AppDir|DumpDir)|remote(?:Root|ServerDir|VmDir|AppDir|JobHistoryDir)|snapshots?(?:Root|Dir|AppDir)|partialSnapshotDir|jobHistoryDir|vmHistoryDir|vmAppDir|serverHistoryDir|stateDir|driveRegistryDir|historyDirIn|dumpDir)\(`;
const JOIN = String.raw`(?:path|posix)\.(?:join|resolve)\(`;

export const RULES: ReadonlyArray<{ what: string; re: RegExp }> = [
  { what: 'joins onto a partition or a mount', re: new RegExp(`${JOIN}[^;]*\\b(?:partition|mount)\\b`) },
  { what: 'joins a layout folder or file name', re: new RegExp(`${JOIN}[^;]*\\b(?:HISTORY_DIR|DUMP_DIR|MOVES_DIR|DRIVE_LABEL_FILE|MANIFEST_FILE|OFFSITE_MANIFEST)\\b`) },
  { what: 'joins onto a layout path', re: new RegExp(`${JOIN}\\s*(?:C\\.)?${LAYOUT_CALL}`) },
  { what: 'joins a tier folder name', re: new RegExp(`${JOIN}[^;]*['"\`](?:local|remote|snapshots|history|_history|_moves|\\.tierback)['"\`]`) },
  { what: 'writes a tier folder into a path', re: /['"`}]\/(?:local|remote|snapshots|history|_history|_moves|\.tierback)\b/ },
  { what: 'extends a partition or layout path in a template', re: new RegExp(`\\$\\{[^}]*\\bpartition\\}/[\\w.$]|\\$\\{(?:C\\.)?${LAYOUT_CALL}[^}]*\\}/[\\w.$]`) },
  { what: 'builds or cuts a .partial name', re: /PARTIAL_SUFFIX\.length|\+\s*(?:C\.)?PARTIAL_SUFFIX/ },
  { what: 'builds a working-file name', re: /`\.\$\{[^}]+\}\.(?:partial|old|lock)/ },
  { what: 're-parses working-file names (use parseWorkingName)', re: /(?:partial|old)-\[A-Za-z0-9-\]/ },
];

/** Lines that match a rule but build no path under the layout: file, the line's text (trimmed, a prefix), and why. */
const ALLOWED: ReadonlyArray<{ file: string; line: string; why: string }> = [
  { file: 'lib/features/demo/index.ts', line: "const partition = path.join(dir, 'partition');", why: 'chooses where the demo partition itself lives, inside the demo\'s own folder' },
  { file: 'lib/tiers/offsite/usb.ts', line: 'const mountAbs = path.resolve(mount);', why: 'makes the --mount argument absolute; builds nothing below it' },
  { file: 'lib/tiers/offsite/usb-plan.ts', line: 'const mountAbs = path.resolve(mount);', why: 'the dry run of the same: the --mount argument made absolute' },
  { file: 'lib/model/paths.ts', line: "path: posix.join(C.snapshotsDir(b.partition, app.server), '<stamp>'", why: 'a pattern shown to people (`tierback paths`), with a <stamp> placeholder no real path has' },
];

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) yield* sources(rel);
    else if (e.name.endsWith('.ts')) yield rel;
  }
}

/** Every line of `text` (not a comment) that breaks a rule, unless allowed. */
export function offences(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('*') || line.startsWith('//') || line.startsWith('/*')) return;
    if (ALLOWED.some((a) => a.file === file && line.startsWith(a.line))) return;
    for (const r of RULES) if (r.re.test(line)) out.push(`${file}:${i + 1}: ${r.what}: ${line.slice(0, 120)}`);
  });
  return out;
}

describe('layout: the only code that builds paths', () => {
  it('finds no path building in lib/ outside lib/model/layout.ts', () => {
    const found: string[] = [];
    for (const f of sources('lib')) if (!LAYOUT_FILES.has(f)) found.push(...offences(f, readFileSync(path.join(ROOT, f), 'utf8')));
    assert.deepEqual(found, [], `build these paths with lib/model/layout.ts:\n${found.join('\n')}`);
  });

  it('catches the ways paths were built before the Layout', () => {
    const before = [
      "names = await readdir(path.join(disk, DUMP_DIR));",
      "readOnly: `${s.partition}/local`,",
      "const tmp = path.posix.join(remoteRoot(partition), `.${server}.tmp-${nonce}`);",
      "const history = path.posix.join(snapshotDir(partition, server, stamp), vm, HISTORY_DIR);",
      "const olds = names.filter((n) => n.startsWith(`.${base}.old-`)).sort();",
      "  .map((n) => n.slice(0, -PARTIAL_SUFFIX.length))",
      "const dir = path.join(app.partition, 'snapshots', server);",
      "const WORKING_FILE = /^\\.(.+)\\.(partial-[A-Za-z0-9-]+|old-[A-Za-z0-9-]+|lock)$/;",
    ];
    for (const line of before) assert.equal(offences('lib/x.ts', line).length > 0, true, line);
  });

  it('leaves alone messages, app contents and temp folders', () => {
    const fine = [
      "const dest = path.join(ctx.staging, FILES_DIR);",
      "const secretDir = path.join(os.tmpdir(), `${prefix}${runId}`);",
      "hint: 'give the full path, e.g. /v01/backup/local/web/v2.softxs.ch/hydro',",
      "sourceArg = `${localRoot(source.partition)}/`;",
      "bin: absolutePath.default('/usr/local/bin/tierback'),",
    ];
    for (const line of fine) assert.deepEqual(offences('lib/x.ts', line), [], line);
  });

  it('keeps every allow-list entry in use', () => {
    for (const a of ALLOWED) {
      const text = readFileSync(path.join(ROOT, a.file), 'utf8');
      assert.ok(text.split('\n').some((l) => l.trim().startsWith(a.line)), `${a.file} no longer has "${a.line}": drop it from ALLOWED`);
    }
  });
});
