/**
 * The transfer budget (lib/tiers/pull/budget.ts): the inventory keys and their errors, the settings
 * of a run, streams chosen from the pull history, and the bound on a hung source's slot.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { InventoryError } from '../../../../lib/base/errors.js';
import { appendRecord, newRunId } from '../../../../lib/model/history.js';
import { serverHistoryDir } from '../../../../lib/model/layout.js';
import { pullHistoryName } from '../../../../lib/model/names.js';
import { parseInventory } from '../../../../lib/site/load.js';
import { DEFAULT_PULL_TIMEOUT_S, DEFAULT_TRANSFERS } from '../../../../lib/model/inventory/model.js';
import { DEFAULT_CONNECT_TIMEOUT_S } from '../../../../lib/tiers/pull/ssh.js';
import {
  DEFAULT_RETRIES,
  DEFAULT_RETRY_DELAY_S,
  HUNG_SOURCE_LIMIT_S,
  LARGE_FILE_BYTES,
  MAX_AUTO_STREAMS,
  budgetSettings,
  demandsOf,
  firstPullStreams,
  hungSourceBoundS,
  largeFileStreams,
  lastPullFacts,
  streamsAtStart,
} from '../../../../lib/tiers/pull/budget.js';
import { useTempDir } from '../../../helpers/tree.js';
import { problemsOf } from '../../../helpers/inventory-problems.js';

function inventory(part: string, backup: string, servers = 3): string {
  const names = Array.from({ length: servers }, (_, i) => `s${i}.test`);
  return `version: 1
servers:
${names.map((n) => `  - { fqdn: ${n} }`).join('\n')}
  - { fqdn: bk.test, role: backup, partition: ${part} }
  - { fqdn: bk2.test, role: backup, partition: ${part}2 }
vms:
${names.map((n, i) => ['a', 'b', 'c', 'd'].map((v) => `  - { name: ${v}${i}, server: ${n} }`).join('\n')).join('\n')}
apps:
${names.map((n, i) => ['a', 'b', 'c', 'd'].map((v) => `  - { name: ${v}${i}app, type: files, server: ${n}, vm: ${v}${i}, path: /srv, relpath: ${v}${i}.example.org }`).join('\n')).join('\n')}
backup_servers:
  - server: bk2.test
    pulls: [${names[0]}]
  - server: bk.test
    pulls: [${names.join(', ')}]
${backup}`;
}


describe('transfer budget: inventory keys', () => {
  it('reads transfers, streams and concurrency; concurrency defaults to transfers and never exceeds them', () => {
    const site = parseInventory(inventory('/p', '    transfers: 6\n    streams: 2\n    concurrency: 9\n'), 't.yaml');
    const b = site.backupServers[1]!;
    assert.deepEqual([b.transfers, b.streams, b.concurrency], [6, 2, 6]);
    const d = parseInventory(inventory('/p', ''), 't.yaml').backupServers[1]!;
    assert.deepEqual([d.transfers, d.streams, d.concurrency, d.timeoutMs], [DEFAULT_TRANSFERS, 'auto', DEFAULT_TRANSFERS, DEFAULT_PULL_TIMEOUT_S * 1000]);
    assert.equal(parseInventory(inventory('/p', '    streams: auto\n'), 't.yaml').backupServers[1]!.streams, 'auto');
  });

  it('a bad transfers or streams is an error naming backup_servers[1].<key>', () => {
    for (const [line, key] of [
      ['    transfers: 0\n', 'transfers'],
      ['    transfers: "many"\n', 'transfers'],
      ['    streams: 0\n', 'streams'],
      ['    streams: "some"\n', 'streams'],
      ['    streams: 12\n', 'streams'],
      ['    transfers: 4\n    streams: 6\n', 'streams'],
    ] as const) {
      const problems = problemsOf(inventory('/p', line));
      assert.ok(
        problems.some((p) => p.path === `backup_servers[1].${key}`),
        `${JSON.stringify(line)}: ${JSON.stringify(problems)}`,
      );
    }
    const over = problemsOf(inventory('/p', '    transfers: 4\n    streams: 6\n')).find((p) => p.path === 'backup_servers[1].streams')!;
    assert.match(over.message, /more than the transfer budget .*transfers: 4/);
    assert.match(over.hint ?? '', /streams: auto/);
  });
});

describe('transfer budget: settings of a run', () => {
  const b = parseInventory(inventory('/p', ''), 't.yaml').backupServers[1]!;
  it('the command line overrides the inventory; concurrency and streams together set the budget to their product', () => {
    assert.deepEqual(budgetSettings(b, {}, undefined), { transfers: 8, concurrency: 8, streams: 'auto' });
    assert.deepEqual(budgetSettings(b, { transfers: 4 }, 3), { transfers: 4, concurrency: 3, streams: 'auto' });
    assert.deepEqual(budgetSettings(b, { concurrency: 16 }, undefined), { transfers: 8, concurrency: 8, streams: 'auto' });
    assert.deepEqual(budgetSettings(b, { concurrency: 8, streams: 8 }, undefined), { transfers: 64, concurrency: 8, streams: 8 });
    assert.deepEqual(budgetSettings(b, { streams: 12 }, undefined), { transfers: 8, concurrency: 8, streams: 8 });
    assert.throws(() => budgetSettings(b, { transfers: 0 }, undefined), /transfers must be a whole number from 1 to 64/);
  });
});

describe('transfer budget: streams from the pull history', () => {
  const tmp = useTempDir('tierback-budget-');
  it('a big server alone gets many streams, 50 small ones one each, a server never pulled one per top-level folder', async () => {
    const part = path.join(tmp.dir, 'part');
    const site = parseInventory(inventory(part, '', 3), 't.yaml');
    const bk = site.backupServers[1]!;
    const hist = serverHistoryDir(part);
    const at = new Date('2026-03-01T04:00:00Z');
    const rec = (server: string, files: number, status: 'ok' | 'failed', min: number) => {
      const start = new Date(at.getTime() + min * 60_000);
      return appendRecord(hist, { run: newRunId(start), name: pullHistoryName(server), kind: 'pull', tier: 'remote', status, start, end: start, files, bytes: files * 1000 }, 'UTC');
    };
    await rec('s0.test', 100_000, 'ok', 0);
    await rec('s0.test', 3, 'failed', 5); // a failed pull's count is not what the server holds
    await rec('s1.test', 400, 'ok', 0);
    const facts = await lastPullFacts(bk, ['s0.test', 's1.test', 's2.test']);
    assert.deepEqual(facts.get('s0.test'), { files: 100_000, bytes: 100_000_000 });
    assert.equal(facts.get('s2.test'), undefined);

    const settings = budgetSettings(bk, {}, undefined);
    const [big, small, fresh] = demandsOf(site, bk.pulls, facts, settings, 16);
    // s0 has 4 top-level folders (VMs a0..d0): more streams would find nothing to copy.
    assert.equal(big!.want, 4);
    assert.equal(small!.want, 1);
    assert.equal(fresh!.want, 4);
    assert.match(big!.why, /last pull: 100000 files/);
    assert.match(fresh!.why, /^first pull: 4 top-level folders$/, '16 cores: as many as the folders even for large files');
    // Before the first pull the budget holds one stream per top-level folder, whatever the cores:
    // the pull gives some back once its manifests show large files (firstPullStreams, below).
    assert.deepEqual([1, 2, 3, 4, 6].map((cores) => demandsOf(site, bk.pulls, facts, settings, cores)[2]!.want), [4, 4, 4, 4, 4]);
    assert.match(demandsOf(site, bk.pulls, facts, settings, 2)[2]!.why, /first pull: 4 top-level folders; 1 if its files average 1 KiB or more \(2 cores\)/);
    // The pull history's servers do not depend on the cores.
    assert.equal(demandsOf(site, bk.pulls, facts, settings, 2)[0]!.want, 4);
    // Alone: everything it can use. With the small one waiting too: nearly all of it.
    assert.equal(streamsAtStart(big!, big!.work, settings, 8), 4);
    assert.equal(streamsAtStart(big!, big!.work + small!.work, settings, 8), 4);
    assert.equal(streamsAtStart(big!, big!.work, settings, 2), 2, 'never more than the slots free');

    // 50 servers of 400 files: one stream each, however many are free.
    const many = Array.from({ length: 50 }, (_, i) => ({ server: `m${i}`, want: 1, work: 400, why: '' }));
    assert.ok(many.every((d, i) => streamsAtStart(d, 400 * (50 - i), settings, 8) === 1));
    // 50 equal servers that could each use 8 (100k files): the budget is shared, 1 each while many wait.
    const heavy = { server: 'h', want: MAX_AUTO_STREAMS, work: 100_000, why: '' };
    assert.equal(streamsAtStart(heavy, 100_000 * 50, settings, 8), 1);
    assert.equal(streamsAtStart(heavy, 100_000 * 2, settings, 8), 4);
    assert.equal(streamsAtStart(heavy, 100_000, settings, 8), 8);
  });
});

describe('the streams of a first pull, once its manifests are read', () => {
  it('keeps one per top-level folder for small or unknown files, one per 2 cores for large ones', () => {
    const kib = 1024;
    const of = (files: number, bytes: number, apps = 3) => ({ files, bytes, apps });
    // Files of 0 bytes: bound by one rsync's file creations and look-ups, which streams overlap.
    assert.deepEqual(firstPullStreams(7, of(300_000, 0), 2), { streams: 7, why: 'first pull of small files (300000 files of 0.0 KiB on average): one stream per top-level folder' });
    assert.equal(firstPullStreams(7, of(1000, 1000 * (LARGE_FILE_BYTES - 1)), 2).streams, 7, 'just under the line');
    // 18 KB files (the bench's tree): bound by the CPU and disk, one stream per 2 cores.
    const large = firstPullStreams(7, of(100_000, 100_000 * 18_000), 2);
    assert.equal(large.streams, 1);
    assert.match(large.why, /first pull of large files \(100000 files of 17\.6 KiB on average\): one stream per 2 of 2 cores/);
    assert.equal(firstPullStreams(7, of(1000, 1000 * LARGE_FILE_BYTES), 2).streams, 1, 'at the line');
    assert.deepEqual([1, 2, 3, 4, 6, 32].map((cores) => firstPullStreams(7, of(10, 10 * 64 * kib), cores).streams), [1, 1, 1, 2, 3, 7], 'never more than granted');
    // Nothing known (no app has a manifest, or none gives files): the granted streams.
    assert.equal(firstPullStreams(5, of(0, 0, 0), 2).streams, 5);
    assert.equal(firstPullStreams(5, of(0, 0, 2), 2).streams, 5);
    assert.equal(largeFileStreams(2), 1);
    assert.equal(largeFileStreams(9), 4);
  });
});

describe('hung sources', () => {
  it('at the defaults a source that stops answering holds a slot at most 15 minutes: 3 x (30 + 240) + 10 + 20 = 840 s', () => {
    const defaults = { ioTimeoutS: DEFAULT_PULL_TIMEOUT_S, connectTimeoutS: DEFAULT_CONNECT_TIMEOUT_S, retries: DEFAULT_RETRIES, retryDelayS: DEFAULT_RETRY_DELAY_S };
    assert.equal(hungSourceBoundS(defaults), 840);
    assert.ok(hungSourceBoundS(defaults) <= HUNG_SOURCE_LIMIT_S);
    // The old defaults (1 h I/O timeout): about three hours.
    assert.equal(hungSourceBoundS({ ...defaults, ioTimeoutS: 3600 }), 3 * 3630 + 30);
    assert.equal(hungSourceBoundS({ ioTimeoutS: 10, connectTimeoutS: 5, retries: 0, retryDelayS: 99 }), 15);
  });
});
