/**
 * Every numeric option of every command rejects NaN, fractions, negatives and
 * huge values with exit 2 and a message naming the option and its range. The commands and their
 * [number] options are read from `--help`, so an option added later is covered too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInt } from '../../../cli/int-option.js';
import { UsageError } from '../../../lib/base/errors.js';
import { CLI_PARALLEL, mapLimit, tierback } from '../../helpers/cli.js';

/** `tierback X Y <a> [b..]` lines of a help text's Commands section, as [words, placeholders]. */
function commandsOf(help: string): { words: string[]; positionals: string[] }[] {
  const out: { words: string[]; positionals: string[] }[] = [];
  const section = help.split(/\nCommands:\n/)[1]?.split(/\n\n/)[0] ?? '';
  for (const line of section.split('\n')) {
    const m = /^ {2}tierback ((?:[a-z][\w-]* ?)+)((?:[<[][^\s]+[>\]] ?)*)/.exec(line);
    if (!m) continue;
    out.push({ words: m[1]!.trim().split(' '), positionals: (m[2] ?? '').trim().split(' ').filter(Boolean) });
  }
  return out;
}

/** The options shown as [number] in a help text (an entry may wrap over several lines). */
function numberOptions(help: string): { name: string; decimals: boolean }[] {
  const section = help.split(/\nOptions:\n/)[1]?.split(/\n\n/)[0] ?? '';
  const entries = section.split(/\n(?=\s+(?:-\w, )?--)/);
  return entries.flatMap((e) => {
    const m = /^\s+(?:-\w, )?--([\w-]+)/.exec(e);
    return m && /\[number\]/.test(e) ? [{ name: m[1]!, decimals: /decimals allowed/.test(e.replace(/\s+/g, ' ')) }] : [];
  });
}

describe('numeric options', () => {
  it('checkInt accepts whole numbers in range and rejects the rest', () => {
    assert.equal(checkInt('retries', { min: 0, max: 20 }, 0), 0);
    assert.equal(checkInt('retries', { min: 0, max: 20 }, 20), 20);
    assert.equal(checkInt('retries', { min: 0, max: 20 }, undefined), undefined);
    assert.equal(checkInt('retry-delay', { min: 0, max: 3600, decimals: true }, 0.2), 0.2);
    for (const bad of [-1, 21, 1.5, Number.NaN, Infinity, [1, 2], '3']) {
      assert.throws(() => checkInt('retries', { min: 0, max: 20 }, bad), (e: unknown) => e instanceof UsageError && /--retries must be a whole number from 0 to 20/.test(e.message), String(bad));
    }
  });

  it('every [number] option of every command: abc, -1, 1.5 and 1e12 exit 2 naming the option and its range', async () => {
    const top = await tierback(['--help']);
    let level = commandsOf(top.stdout);
    assert.ok(level.length > 15, 'commands found in --help');
    // Every command's help (a level of the command tree at a time, CLI_PARALLEL processes at once), then every bad value.
    const runs: { c: { words: string[] }; opt: string; argv: string[] }[] = [];
    while (level.length) {
      const helps = await mapLimit(level, CLI_PARALLEL, (c) => tierback([...c.words, '--help']));
      const deeper: typeof level = [];
      for (const [k, c] of level.entries()) {
        const help = helps[k]!;
        if (c.positionals.includes('<command>') || c.positionals.includes('<action>')) {
          const subs = commandsOf(help.stdout).filter((s) => s.words.length > c.words.length);
          if (subs.length) {
            deeper.push(...subs);
            continue;
          }
        }
        // Required positionals get a dummy value; an inventory that does not exist would fail with 3, not 2.
        const positionals = c.positionals.filter((p) => p.startsWith('<') && p !== '<command>').map(() => 'x');
        for (const { name: opt, decimals } of numberOptions(help.stdout)) {
          for (const value of decimals ? ['abc', '-1', '1e12', 'Infinity'] : ['abc', '-1', '1.5', '1e12']) {
            runs.push({ c, opt, argv: [...c.words, ...positionals, `--${opt}=${value}`, '-i', '/nonexistent/inventory.yaml'] });
          }
        }
      }
      level = deeper;
    }
    const results = await mapLimit(runs, CLI_PARALLEL, (r) => tierback(r.argv));
    const seen = new Set<string>();
    for (const [k, { c, opt, argv }] of runs.entries()) {
      const r = results[k]!;
      seen.add(`${c.words.join(' ')} --${opt}`);
      assert.equal(r.code, 2, `tierback ${argv.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--${opt} must be a (whole )?number from \\d+ to \\d+`), argv.join(' '));
    }
    for (const known of ['pull --concurrency', 'pull --retries', 'pull --retry-delay', 'pull --connect-timeout', 'pull --streams', 'report --days', 'restore --db-port', 'verify --db-port', 'discover --depth', 'offsite usb --keep', 'offsite lifecycle --transition-days']) {
      assert.ok(seen.has(known), `${known} was checked (found: ${[...seen].join(', ')})`);
    }
  });
});
