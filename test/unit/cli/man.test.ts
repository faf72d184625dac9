/** `tierback man`: tierback(1) generated from the yargs definitions, with every command (drift check). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { commands } from '../../../cli/commands/index.js';
import { commandPaths } from '../../../cli/man-page.js';
import { EXIT_CODES } from '../../../lib/base/exit-codes.js';
import { tierback } from '../../helpers/cli.js';

describe('man: tierback(1)', () => {
  it('has a section for every command and subcommand yargs knows, with its options and examples', async () => {
    const r = await tierback(['man']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\.TH TIERBACK 1 /);
    const paths = commandPaths(commands as never);
    assert.ok(paths.length >= 35, `only ${paths.length} command paths`);
    for (const p of ['offsite usb', 'inventory diff', 'ssh authorize', 'status', 'man', 'completion']) assert.ok(paths.some((x) => x.join(' ') === p), p);
    const sections = new Set(r.stdout.split('\n').filter((l) => l.startsWith('.SS ')));
    for (const p of paths) assert.ok(sections.has(`.SS "tierback ${p.join(' ').replace(/-/g, '\\-')}"`), `no section for ${p.join(' ')}`);
    // The top-level --help's command list, the other source of command names, agrees.
    const help = await tierback(['--help']);
    for (const line of help.stdout.split('\n')) {
      const name = /^ {2}tierback ([a-z-]+)/.exec(line)?.[1];
      if (name) assert.ok(paths.some((p) => p[0] === name), `--help lists ${name}, the man page does not`);
    }
    assert.match(r.stdout, /^Examples:$/m);
    assert.match(r.stdout, /\\-\\-tier/, 'options of status, escaped for roff');
  });
  it('ends with the EXIT STATUS table of lib/base/exit-codes.ts', async () => {
    const r = await tierback(['man']);
    const exit = r.stdout.slice(r.stdout.indexOf('.SH EXIT STATUS'));
    assert.ok(exit.length > 0);
    for (const e of EXIT_CODES) assert.match(exit, new RegExp(`^\\.B ${e.code}\\n${e.name}: `, 'm'), `exit code ${e.code}`);
  });
  it('is valid roff that man renders without warnings', async () => {
    const r = await tierback(['man']);
    const groff = await execa('groff', ['-man', '-ww', '-z'], { input: r.stdout, reject: false });
    assert.equal(groff.exitCode, 0);
    assert.equal(groff.stderr, '', groff.stderr);
  });
});
