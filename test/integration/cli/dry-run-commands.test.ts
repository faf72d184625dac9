/**
 * Drift check: every command that changes anything offers --dry-run (in its --help), and a dry run
 * of each on a fresh site exits 0 and leaves the tree as it was. The per-command tests
 * (pull-, move-, schedule-, offsite-usb-dry-run (with offsite get), restore/verify-dry-run, offsite push)
 * check the plans themselves; report --html is checked here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tierback } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/tree.js';
import { treeState } from '../../helpers/treestate.js';

/** Every command that writes, removes or runs something (read-only commands are not listed). */
const WRITERS = [['job'], ['pull'], ['apply'], ['move'], ['verify'], ['prune'], ['restore'], ['schedule'], ['offsite', 'push'], ['offsite', 'usb'], ['offsite', 'get'], ['report']];

let root: string;
let cleanup: () => Promise<void>;
let inv: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('tierback-dry-all-'));
  const part = path.join(root, 'part');
  const src = path.join(root, 'src');
  await mkdir(src);
  await writeFile(path.join(src, 'a.txt'), 'a');
  await mkdir(path.join(part, 'local/web'), { recursive: true });
  inv = path.join(root, 'inv.yaml');
  await writeFile(
    inv,
    `version: 1\ndefaults: { timezone: UTC }\nservers:\n  - { fqdn: s.test, partition: ${part}, role: both }\nvms:\n  - { name: web, server: s.test, mount: ${path.join(part, 'local/web')} }\napps:\n  - { name: docs, server: s.test, vm: web, path: ${src}, relpath: docs, type: files }\nbackup_servers:\n  - server: s.test\n    pulls: [{ server: s.test, transport: local }]\n`,
  );
});
after(() => cleanup());

describe('every writing command has --dry-run', () => {
  for (const cmd of WRITERS) {
    it(`tierback ${cmd.join(' ')} --help offers --dry-run`, async () => {
      const r = await tierback([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /--dry-run/);
    });
  }

  it('report --html --dry-run builds the page, writes nothing, and says what it would write', async () => {
    const file = path.join(root, 'www', 'index.html');
    const before = await treeState(root);
    const text = await tierback(['report', '--html', file, '--now', '2026-03-05T12:00:00Z', '-i', inv, '--dry-run']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^would write \S+\/www\/index\.html \(mode 0644, \d+ bytes, atomically through \S+index\.html\.tmp-<pid>-<random>\): \d+ rows, 0 failures in 30 days$/);
    const j = await tierback(['report', '--html', file, '--now', '2026-03-05T12:00:00Z', '-i', inv, '--dry-run', '--json']);
    assert.equal(j.code, 0, j.stderr);
    assert.deepEqual(await treeState(root), before, 'report --dry-run changed the tree');
    const plan = JSON.parse(j.stdout) as { file: string; replaces: boolean; mkdir?: string; bytes: number };
    assert.equal(plan.file, file);
    assert.equal(plan.replaces, false);
    assert.equal(plan.mkdir, path.join(root, 'www'));
    const real = await tierback(['report', '--html', file, '--now', '2026-03-05T12:00:00Z', '-i', inv]);
    assert.equal(real.code, 0, real.stderr);
    assert.equal((await stat(file)).size, plan.bytes, 'the page it wrote has the size the plan said (same clock: --now)');
  });

  it('job, pull and apply --dry-run on a fresh site change nothing', async () => {
    const before = await treeState(root);
    for (const args of [['job', 'docs'], ['pull', '--backup-server', 's.test'], ['apply']]) {
      const r = await tierback([...args, '-i', inv, '--dry-run']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.deepEqual(await treeState(root), before, `${args.join(' ')} --dry-run changed the tree`);
    }
  });
});
