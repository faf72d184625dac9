/**
 * Every read command's output arrives whole through a pipe into a slow reader
 * (`| jq`, `ssh host tierback ...`), not cut at the pipe's 64 KiB buffer by an early exit.
 * A generated site of 4,000 apps makes each --json output hundreds of KB to MBs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as C from '../../../lib/model/convention.js';
import { HISTORY_HEADER, dayOf, formatRecord } from '../../../lib/model/history.js';
import { CLI } from '../../helpers/cli.js';

const SERVER = 'app1.big.example';
const APPS = 4000;
const VMS = 20;

/** Runs the CLI with stdout into a real OS pipe whose reader starts late and reads slowly. */
async function throughSlowPipe(args: string[]): Promise<{ code: number; text: string }> {
  const r = await execa('bash', ['-c', 'set -o pipefail; "$@" | { sleep 0.5; cat; }', 'pipe', process.execPath, CLI, ...args], {
    reject: false,
    env: { TIERBACK_INVENTORY: '' },
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
  });
  return { code: r.exitCode ?? -1, text: String(r.stdout) };
}

describe('read commands through a pipe', () => {
  let dir: string;
  let inv: string;
  let root: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-pipe-'));
    root = path.join(dir, 'root');
    const apps = Array.from({ length: APPS }, (_, i) => `  - { name: app${String(i).padStart(4, '0')}, server: ${SERVER}, vm: vm${i % VMS}, path: /srv/app${i}, relpath: app${i}.big.example, type: files }`);
    inv = path.join(dir, 'big.yaml');
    await writeFile(
      inv,
      `version: 1
site: big
servers:
  - { fqdn: ${SERVER}, role: app, partition: /p/app }
  - { fqdn: bk.big.example, role: backup, partition: /p/bk }
vms:
${Array.from({ length: VMS }, (_, i) => `  - { name: vm${i}, server: ${SERVER} }`).join('\n')}
apps:
${apps.join('\n')}
backup_servers:
  - { server: bk.big.example, pulls: [${SERVER}] }
`,
    );
    // 12,000 runs of app0000 in one day's history file: a multi-MB `history --json`.
    const hist = path.join(root, C.jobHistoryDir('/p/app', 'vm0'));
    await mkdir(hist, { recursive: true });
    const t0 = Date.now() - 3_600_000;
    const lines = [HISTORY_HEADER];
    for (let i = 0; i < 12_000; i++) {
      const start = new Date(t0 + i * 100);
      const base = { run: `r${i}`, name: 'app0000', kind: 'job', tier: 'local' as const, start, host: 'h' };
      lines.push(formatRecord({ ...base, status: 'running' }), formatRecord({ ...base, status: 'ok', end: new Date(start.getTime() + 50), durationS: 0.05, files: i, mb: 1.5, bytes: 1_500_000 }));
    }
    await writeFile(path.join(hist, C.historyFileName('app0000', dayOf(new Date(t0), 'UTC'))), `${lines.join('\n')}\n`);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: { name: string; args: () => string[]; min: number; check: (v: unknown) => void }[] = [
    { name: 'inventory show --json', args: () => ['inventory', 'show', '--json', '-i', inv], min: 1_000_000, check: (v) => assert.equal((v as { apps: unknown[] }).apps.length, APPS) },
    { name: 'status --json', args: () => ['status', '--json', '-i', inv, '--root', root, '--host', SERVER], min: 1_000_000, check: (v) => assert.equal((v as { rows: unknown[] }).rows.length, APPS) },
    { name: 'history --json', args: () => ['history', 'app0000', '--json', '-i', inv, '--root', root, '--host', SERVER], min: 2_000_000, check: (v) => assert.equal((v as { entries: unknown[] }).entries.length, 12_000) },
    { name: 'orphans --json', args: () => ['orphans', '--json', '-i', inv, '--root', root, '--server', SERVER], min: 500_000, check: (v) => assert.equal((v as { missing: unknown[] }).missing.length, APPS) },
    { name: 'schedule --json', args: () => ['schedule', 'vm0', '--json', '-i', inv], min: 100_000, check: (v) => assert.equal((v as { plan: { entries: unknown[] } }).plan.entries.length, APPS / VMS) },
  ];
  for (const c of cases) {
    it(`${c.name}: the whole JSON arrives through a slow pipe`, async () => {
      const r = await throughSlowPipe(c.args());
      assert.ok(r.text.length >= c.min, `${c.name}: ${r.text.length} bytes arrived, expected at least ${c.min}`);
      c.check(JSON.parse(r.text));
      assert.ok([0, 1].includes(r.code), `${c.name} exited ${r.code}`);
    });
  }
});
