import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CLI_PARALLEL, EXAMPLE, FIXTURES, mapLimit, tierback, type CliResult } from '../../helpers/cli.js';

const dir = path.join(FIXTURES, 'inventory');
const fixtures = readdirSync(dir).filter((f) => /^invalid-.*\.yaml$/.test(f)).sort();

function expectations(file: string): { path: string; re: RegExp } {
  const text = readFileSync(path.join(dir, file), 'utf8');
  const p = /^# expect-path: (.+)$/m.exec(text)?.[1];
  const re = /^# expect: (.+)$/m.exec(text)?.[1];
  assert.ok(p && re, `${file} lacks its "# expect-path:" / "# expect:" header`);
  return { path: p, re: new RegExp(re) };
}

describe('cli: the bad-input corpus (test/fixtures/inventory/invalid-*.yaml)', { concurrency: CLI_PARALLEL }, () => {
  it('has one fixture per rule, each expecting its own message', () => {
    assert.ok(fixtures.length >= 30, `only ${fixtures.length} fixtures`);
    const seen = new Set(fixtures.map((f) => { const e = expectations(f); return `${e.path} ${e.re.source}`; }));
    assert.ok(seen.size >= fixtures.length - 2, 'fixtures should not share the same expectation');
  });
  for (const f of fixtures) {
    it(`rejects ${f} with exit 2, its path and message, and no stack trace`, async () => {
      const { path: where, re } = expectations(f);
      const r = await tierback(['inventory', 'check', '-i', path.join(dir, f)]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(path.join(dir, f)), 'names the file');
      const line = r.stderr.split('\n').find((l) => l.trimStart().startsWith(`${where} `) || l.trimStart().startsWith(`${where}:`));
      assert.ok(line, `no problem at ${where} in:\n${r.stderr}`);
      assert.match(line, re);
      assert.match(line, /hint: /);
      assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace without --debug');
    });
  }
  it('reports the problems of a file with many at once', async () => {
    const r = await tierback(['inventory', 'check', '-i', path.join(dir, 'invalid-many-problems.yaml'), '--json']);
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as { valid: boolean; problems: { path: string }[] };
    assert.equal(out.valid, false);
    assert.ok(out.problems.length >= 6, JSON.stringify(out.problems));
  });
  it('shows a stack trace with --debug', async () => {
    const r = await tierback(['inventory', 'check', '-i', path.join(dir, 'invalid-version.yaml'), '--debug']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^\s+at /m);
  });
});

describe('cli: inventory, paths and which on the example site', () => {
  it('checks the example and says which inventory it used', async () => {
    const r = await tierback(['inventory', 'check', '-i', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /from -i\/--inventory/);
    assert.match(r.stdout, /OK: 4 servers, 4 VMs, 14 apps, 2 backup servers/);
    const env = await tierback(['inventory', 'check'], { env: { TIERBACK_INVENTORY: EXAMPLE } });
    assert.equal(env.code, 0);
    assert.match(env.stdout, /from \$TIERBACK_INVENTORY/);
  });
  it('says where it looked when there is no inventory', async () => {
    const r = await tierback(['inventory', 'check', '-i', '/nonexistent/inv.yaml']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot read inventory \/nonexistent\/inv.yaml \(from -i\/--inventory\): no such file/);
  });
  it('prints the documented paths for v2.softxs.ch/hydro (acceptance)', async () => {
    const r = await tierback(['paths', 'hydro', '-i', EXAMPLE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^local\s+zg-3\.softxs\.ch\s+\/v01\/backup\/local\/web\/v2\.softxs\.ch\/hydro\s/m);
    assert.match(r.stdout, /^remote\s+odin\.softxs\.ch\s+\/v01\/backup\/remote\/zg-3\.softxs\.ch\/web\/v2\.softxs\.ch\/hydro\s/m);
  });
  // Every app of the example is inverted in-process by test/unit/model/paths.test.ts; here the CLI
  // round trip for an app in a VM and one running on its server.
  it('inverts with `which` every path that `paths` prints (acceptance)', async () => {
    for (const app of ['hydro', 'coya']) {
      const r = await tierback(['paths', app, '--json', '-i', EXAMPLE]);
      const { paths } = JSON.parse(r.stdout) as { paths: { kind: string; path: string }[] };
      for (const p of paths.filter((x) => !x.path.includes('<stamp>'))) {
        const w = await tierback(['which', p.path, '--json', '-i', EXAMPLE]);
        assert.equal(w.code, 0, `${p.path}: ${w.stderr}`);
        const owners = JSON.parse(w.stdout) as { app?: string; tier: string }[];
        if (['local', 'vm', 'remote'].includes(p.kind)) assert.ok(owners.some((o) => o.app === app && o.tier === p.kind), `${p.path} -> ${w.stdout}`);
        else assert.ok(owners.length > 0);
      }
    }
  });
  it('exits 3 with a suggestion for an unknown app and an unowned path', async () => {
    const r = await tierback(['paths', 'hydor', '-i', EXAMPLE]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /did you mean "hydro"/);
    const w = await tierback(['which', '/etc/passwd', '-i', EXAMPLE]);
    assert.equal(w.code, 3);
    assert.match(w.stderr, /belongs to no server, VM or app/);
  });
  it('shows the site as a summary table of its apps', async () => {
    const r = await tierback(['inventory', 'show', '-i', EXAMPLE]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /hydro\s+Hydro Demo\s+zg-3\.softxs\.ch\s+web\s+\/home\/v2\/rails\/demo\.softxs\.ch\/hydro\s+v2\.softxs\.ch\/hydro\s+rails\s+active/);
    assert.match(r.stdout, /coya\s+Coya II\s+zg-1\.softxs\.ch\s+n\/a \(_host\)/);
  });
  it('documents exit codes in every command\'s help, with examples', async () => {
    for (const args of [['--help'], ['inventory', 'check', '--help'], ['paths', '--help'], ['which', '--help']]) {
      const r = await tierback(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /EXIT STATUS/);
    }
    assert.match((await tierback(['paths', '--help'])).stdout, /Examples:/);
  });
  it('rejects unknown commands and options with exit 2', async () => {
    const r = await tierback(['nosuchcommand']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error: Unknown argument/);
    const o = await tierback(['paths', 'hydro', '--nosuch', '-i', EXAMPLE]);
    assert.equal(o.code, 2);
  });
});

describe('cli: help of every command (drift check)', () => {
  // Each command's help, run once (CLI_PARALLEL at a time) and read by every check below.
  const helps = new Map<string, Promise<CliResult>>();
  const helpOf = (c: string[]) => {
    const key = c.join(' ');
    if (!helps.has(key)) helps.set(key, tierback([...c, '--help']));
    return helps.get(key)!;
  };
  async function commandsOf(prefix: string[]): Promise<string[][]> {
    const r = await helpOf(prefix);
    const section = r.stdout.split(/\n\s*\n/).find((b) => b.startsWith('Commands:')) ?? '';
    return section
      .split('\n')
      .slice(1)
      .map((l) => /^\s+tierback ((?:[a-z-]+ ?)+?)(?:\s+[<[]|\s{2,}|$)/.exec(l)?.[1]?.trim())
      .filter((x): x is string => !!x)
      .map((x) => x.split(' '));
  }
  it('ends every command\'s help with the exit codes and gives every leaf command examples', async () => {
    const top = await commandsOf([]);
    assert.ok(top.length >= 20, `only ${top.length} commands`);
    const leaves: string[][] = [];
    for (const [k, subs] of (await mapLimit(top, CLI_PARALLEL, commandsOf)).entries()) {
      if (subs.length) leaves.push(...subs);
      else leaves.push(top[k]!);
    }
    const all = [...top, ...leaves];
    for (const [k, r] of (await mapLimit(all, CLI_PARALLEL, helpOf)).entries()) {
      const c = all[k]!;
      assert.equal(r.code, 0, c.join(' '));
      assert.match(r.stdout, /EXIT STATUS/, `${c.join(' ')} --help has no EXIT STATUS`);
      if (k >= top.length) assert.match(r.stdout, /Examples:/, `${c.join(' ')} --help has no examples`);
    }
  });
});
