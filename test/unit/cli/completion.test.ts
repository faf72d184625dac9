/** Shell completion: `tierback --get-yargs-completions <words>`, as the bash and zsh scripts call it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from '../../../cli/commands/index.js';
import { commandTable } from '../../../cli/commands/names.js';
import { commandName } from '../../../cli/command-tree.js';
import { commandWord } from '../../../cli/startup.js';
import { EXAMPLE, tierback } from '../../helpers/cli.js';

const complete = async (words: string[], env: Record<string, string> = {}) => {
  const r = await tierback(['--get-yargs-completions', 'tierback', ...words], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout.split('\n').filter(Boolean);
};

describe('completion: commands, options and inventory names', () => {
  it('completes a partial app name with the inventory\'s apps (-i on the line)', async () => {
    assert.deepEqual(await complete(['status', '-i', EXAMPLE, 'h']), ['hydro', 'hcmc2']);
    assert.deepEqual(await complete(['-i', EXAMPLE, 'history', 'hy']), ['hydro']);
  });
  it('reads the inventory named by $TIERBACK_INVENTORY when no -i is given', async () => {
    assert.deepEqual(await complete(['job', 'hy'], { TIERBACK_INVENTORY: EXAMPLE }), ['hydro']);
    assert.deepEqual(await complete(['job', 'hy'], { TIERBACK_INVENTORY: '/nonexistent/inventory.yaml' }), []);
  });
  it('completes servers and backup servers where a positional or an option takes them', async () => {
    assert.deepEqual(await complete(['-i', EXAMPLE, 'pull', 'zg']), ['zg-1.softxs.ch', 'zg-3.softxs.ch']);
    assert.deepEqual(await complete(['-i', EXAMPLE, 'ssh', 'authorize', '']), ['odin.softxs.ch', 'loki.softxs.ch']);
    assert.deepEqual(await complete(['-i', EXAMPLE, 'pull', '--backup-server', 'o']), ['odin.softxs.ch']);
    // A boolean option before the positional does not take it as its value.
    assert.deepEqual(await complete(['-i', EXAMPLE, 'job', '--dry-run', 'hy']), ['hydro']);
  });
  it('completes command names, subcommands, options and choices', async () => {
    assert.deepEqual(await complete(['sta']), ['status']);
    assert.deepEqual(await complete(['inventory', '']), ['check', 'show', 'schema', 'diff']);
    assert.ok((await complete(['status', '--'])).includes('--tier'));
    assert.deepEqual(await complete(['status', '--tier', '']), ['local', 'remote', 'offsite', 'all']);
    assert.deepEqual(await complete(['status', '--log-format', 'j']), ['json', 'journal']);
  });
  it('describes options for zsh (name:description)', async () => {
    const zsh = await complete(['status', '--ti'], { SHELL: '/bin/zsh' });
    assert.deepEqual(zsh, ['--tier:Which tier to show']);
  });
  it('prints the bash and zsh scripts', async () => {
    const bash = await tierback(['completion', '--shell', 'bash']);
    assert.equal(bash.code, 0, bash.stderr);
    assert.match(bash.stdout, /complete -o bashdefault -o default -F _tierback_yargs_completions tierback/);
    const zsh = await tierback(['completion', '--shell', 'zsh']);
    assert.match(zsh.stdout, /^#compdef tierback/);
    assert.match(zsh.stdout, /tierback --get-yargs-completions/);
  });
});

describe('startup: the table of lazily loaded commands (cli/commands/names.ts)', () => {
  it('names every command of cli/commands/index.ts, and loads the same module', async () => {
    assert.deepEqual(commandTable.map((c) => c.name).sort(), commands.map((c) => commandName(c as never)).sort(), 'add the missing command to cli/commands/names.ts');
    for (const entry of commandTable) assert.equal(await entry.load(), commands.find((c) => commandName(c as never) === entry.name), entry.name);
  });
  it('finds the command word after global options and their values', () => {
    assert.equal(commandWord(['-i', 'site.yaml', '--debug', 'status', 'hydro']), 'status');
    assert.equal(commandWord(['--log-format', 'json', 'job']), 'job');
    assert.equal(commandWord(['--version']), undefined);
  });
});
