import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { ExitCode } from '../../../lib/base/errors.js';
import { EXIT_CODES, exitCodesMarkdown, exitCodesText } from '../../../lib/base/exit-codes.js';
import { ROOT, tierback } from '../../helpers/cli.js';

describe('exit codes: one table (lib/base/exit-codes.ts)', () => {
  it('docs/exit-codes.md is exactly what the table generates (run `tierback exit-codes --markdown > docs/exit-codes.md`)', () => {
    assert.equal(readFileSync(`${ROOT}/docs/exit-codes.md`, 'utf8'), exitCodesMarkdown());
  });
  it('names every code of ExitCode once, in order, in the doc, --help and `tierback exit-codes --json`', async () => {
    assert.deepEqual(
      EXIT_CODES.map((e) => [e.name, e.code]),
      Object.entries(ExitCode).sort((a, b) => a[1] - b[1]),
    );
    const doc = exitCodesMarkdown();
    for (const e of EXIT_CODES) assert.ok(doc.includes(`| ${e.code} | ${e.name} | ${e.meaning} |`), e.name);
    const help = await tierback(['--help']);
    assert.equal(help.code, 0);
    assert.ok(help.stdout.includes(exitCodesText()), 'tierback --help ends with the generated EXIT STATUS');
    for (const e of EXIT_CODES) assert.match(help.stdout, new RegExp(`\\n  ${e.code}\\s+${e.name}\\s+${e.meaning.replace(/[/()]/g, '.')}\\n`));
    const json = await tierback(['exit-codes', '--json']);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.stdout), EXIT_CODES);
  });
});

describe('exit codes: the entry point alone sets the process\'s', () => {
  it('no command sets process.exitCode: every handler returns its code through run() (cli/lifecycle.ts)', () => {
    for (const f of readdirSync(`${ROOT}/cli/commands`).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(`${ROOT}/cli/commands/${f}`, 'utf8');
      assert.doesNotMatch(src, /process\.exitCode/, `cli/commands/${f} sets process.exitCode`);
      const handlers = src.match(/\bhandler: /g)?.length ?? 0;
      const parents = src.match(/\bhandler: \(\) => undefined/g)?.length ?? 0; // `x <command>`: yargs demands a subcommand
      // run() or runOnSite() (cli/context.ts), which wraps run()
      assert.equal(src.match(/\bhandler: (run|runOnSite)\(/g)?.length ?? 0, handlers - parents, `cli/commands/${f}: a handler not wrapped in run()`);
    }
  });
});
