/**
 * The alert rules of docs/monitoring.md, as written there, checked and unit-tested by Prometheus's
 * own promtool: a backup server whose series vanish and one that stops pulling raise the
 * dead-man's alerts; a healthy one raises nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../../../helpers/cli.js';
import { tempDir } from '../../../helpers/tree.js';

const havePromtool = await execa('promtool', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);

let dir: string;
let cleanup: () => Promise<void>;
let rules: string;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-promrules-'));
  const doc = await readFile(path.join(ROOT, 'docs/monitoring.md'), 'utf8');
  const block = /Alert rules:\n\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'the alert rules block of docs/monitoring.md');
  rules = path.join(dir, 'rules.yml');
  await writeFile(rules, block);
});
after(async () => cleanup());

// Times in promtool start at 0 (Unix epoch); "0+60x179" is a timestamp that follows time().
const TESTS = `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # backup1: healthy all along, pulls every night
      - series: 'tierback_status_timestamp_seconds{instance="backup1"}'
        values: '0+60x239'
      - series: 'tierback_last_success_timestamp_seconds{instance="backup1",tier="remote",app="a"}'
        values: '0x239'
      # backup2: exports for an hour, then its series vanish (machine down)
      - series: 'tierback_status_timestamp_seconds{instance="backup2"}'
        values: '0+60x59'
    alert_rule_test:
      - eval_time: 50m
        alertname: BackupSeriesVanished
        exp_alerts: []
      - eval_time: 3h
        alertname: BackupSeriesVanished
        exp_alerts:
          - exp_labels: { severity: critical, instance: backup2 }
            exp_annotations: { summary: "tierback series of backup2 vanished: is the machine up and exporting?" }
      - eval_time: 3h
        alertname: BackupExportDead
        exp_alerts: []
  - interval: 5m
    input_series:
      # backup3 keeps exporting, but its last successful pull stays at time 0
      - series: 'tierback_status_timestamp_seconds{instance="backup3"}'
        values: '0+300x960'
      - series: 'tierback_last_success_timestamp_seconds{instance="backup3",tier="remote",app="a"}'
        values: '0x960'
      - series: 'tierback_last_success_timestamp_seconds{instance="backup3",tier="remote",app="b"}'
        values: '0x960'
      # backup4 pulls every day
      - series: 'tierback_status_timestamp_seconds{instance="backup4"}'
        values: '0+300x960'
      - series: 'tierback_last_success_timestamp_seconds{instance="backup4",tier="remote",app="c"}'
        values: '0+300x960'
    alert_rule_test:
      - eval_time: 40h
        alertname: BackupServerNotPulling
        exp_alerts: []
      - eval_time: 60h
        alertname: BackupServerNotPulling
        exp_alerts:
          - exp_labels: { severity: critical, instance: backup3 }
            exp_annotations: { summary: "backup3 has pulled nothing successfully for 2d 12h 0m 0s" }
`;

describe('Prometheus alert rules of docs/monitoring.md', { skip: havePromtool ? false : 'promtool not installed (Debian package prometheus)' }, () => {
  it('pass promtool check rules', async () => {
    const r = await execa('promtool', ['check', 'rules', rules], { reject: false });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });
  it('raise the dead-man alerts for a vanished machine and a backup server that stopped pulling, and nothing for healthy ones', async () => {
    const file = path.join(dir, 'tests.yml');
    await writeFile(file, TESTS);
    const r = await execa('promtool', ['test', 'rules', file], { reject: false, cwd: dir });
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS/);
  });
});
