/**
 * Log lines: readable on a terminal (a real pseudo-terminal, `script -qc`), pino JSON when stderr is
 * a pipe, journal priority prefixes on request; --log-format and $TIERBACK_LOG_FORMAT pick.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { journalPriority } from '../../../lib/base/log.js';
import { CLI, EXAMPLE, tierback } from '../../helpers/cli.js';

const CHECK = ['inventory', 'check', '-v', '-i', EXAMPLE];
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

/** Runs the CLI with stdin, stdout and stderr on a pseudo-terminal (util-linux script). */
async function onTerminal(args: string[], env: Record<string, string> = {}): Promise<string> {
  const line = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = await execa('script', ['-qec', line, '/dev/null'], { reject: false, env: { TIERBACK_INVENTORY: '', TIERBACK_LOG_FORMAT: '', ...env } });
  assert.equal(r.exitCode, 0, String(r.stdout));
  return plain(String(r.stdout));
}

describe('logs: readable on a terminal, JSON elsewhere', () => {
  it('on a pseudo-terminal: time, level word, message and facts on one line', async () => {
    const out = await onTerminal(CHECK);
    assert.match(out, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: inventory loaded \{"file":"[^"]+example\.yaml","source":"option"\}$/m);
    assert.doesNotMatch(out, /"level":30/);
  });
  it('on a pipe: one pino JSON object a line', async () => {
    const r = await tierback(CHECK);
    assert.equal(r.code, 0, r.stderr);
    const entry = JSON.parse(r.stderr.trim().split('\n')[0]!) as Record<string, unknown>;
    assert.equal(entry['level'], 30);
    assert.equal(entry['msg'], 'inventory loaded');
  });
  it('--log-format and $TIERBACK_LOG_FORMAT pick either, the option first', async () => {
    assert.match(await onTerminal([...CHECK, '--log-format', 'json']), /^\{"level":30,.*"msg":"inventory loaded"\}$/m);
    assert.match(await onTerminal(CHECK, { TIERBACK_LOG_FORMAT: 'json' }), /^\{"level":30,/m);
    const human = await tierback(CHECK, { env: { TIERBACK_LOG_FORMAT: 'human' } });
    assert.match(human.stderr, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: inventory loaded /m);
    assert.doesNotMatch(human.stderr, /\x1b\[/, 'no colours off a terminal');
    const json = await tierback([...CHECK, '--log-format', 'json'], { env: { TIERBACK_LOG_FORMAT: 'human' } });
    assert.match(json.stderr, /^\{"level":30,/m);
  });
  it('journal: syslog priority prefixes systemd reads, no time of its own', async () => {
    const r = await tierback([...CHECK, '--log-format', 'journal']);
    assert.match(r.stderr, /^<6>INFO: inventory loaded \{"file":"[^"]+","source":"option"\}$/m);
    assert.deepEqual([60, 50, 40, 30, 20, 10].map(journalPriority), [2, 3, 4, 6, 7, 7], 'crit, err, warning, info, debug');
  });
  it('refuses an unknown format with exit 2', async () => {
    const r = await tierback([...CHECK, '--log-format', 'xml']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /log-format/);
  });
});
