/**
 * A job never writes through a symlink (or onto a file) in its backup path: `tierback job` exits 6
 * (REFUSED) for each kind, writes nothing outside the partition, records the refusal in history
 * only where that is safe, and `tierback status` shows the app FAILED with the reason.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { historyFileName } from '../../../../lib/model/convention.js';
import { ExitCode } from '../../../../lib/base/errors.js';
import { dayOf, readHistory } from '../../../../lib/model/history.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { exitCodeFor } from '../../../../lib/model/outcome.js';
import { UnsafePathError } from '../../../../lib/tiers/jobs/mountcheck.js';
import { tierback } from '../../../helpers/cli.js';
import { makeTree, useTempDir } from '../../../helpers/tree.js';
import { appOf, jobSite } from '../../../helpers/jobsite.js';

const SERVER = 'app1.test.example';

describe('jobs refuse symlinks and files in the backup path (exit 6)', () => {
  const tmp = useTempDir('tierback-refuse-');
  let part: string;
  let web: string;
  let inv: string;
  before(async () => {
    part = path.join(tmp.dir, 'partition');
    web = path.join(part, 'local', 'web');
    await makeTree(path.join(tmp.dir, 'src'), { 'a.txt': 'alpha\n' });
    await mkdir(web, { recursive: true });
    const src = path.join(tmp.dir, 'src');
    inv = path.join(tmp.dir, 'inventory.yaml');
    await writeFile(
      inv,
      yaml.dump({
        version: 1,
        site: 'test',
        defaults: { partition: part, timezone: 'UTC' },
        servers: [{ fqdn: SERVER }],
        // The job runs on the server itself: the VM's tree is <partition>/local/web.
        vms: [{ name: 'web', server: SERVER, mount: web }],
        apps: [
          { name: 'docs', server: SERVER, vm: 'web', type: 'files', path: src, relpath: 'docs.example.com' },
          { name: 'deep', server: SERVER, vm: 'web', type: 'files', path: src, relpath: 'a.example.com/deep' },
          { name: 'hostapp', server: SERVER, type: 'files', path: src, relpath: 'host.example.com' },
        ],
      }),
    );
  });

  /** A fresh empty folder outside the partition, for a symlink to point to. */
  async function outside(name: string): Promise<string> {
    const d = path.join(tmp.dir, `outside-${name}`);
    await mkdir(d);
    return d;
  }

  async function job(app: string) {
    return tierback(['job', app, '-i', inv]);
  }

  /** Runs the job of `app`: it must be refused (exit 6) with a message matching `why`. */
  async function refusedJob(app: string, why: RegExp) {
    const r = await job(app);
    assert.equal(r.code, ExitCode.REFUSED, r.stderr);
    assert.match(r.stderr, why);
    return r;
  }

  async function statusRow(app: string): Promise<{ state: string; reason: string }> {
    const r = await tierback(['status', app, '--tier', 'local', '--json', '--host', SERVER, '-i', inv]);
    const report = JSON.parse(r.stdout) as { rows: { app: string; state: string; reason: string }[] };
    assert.equal(report.rows.length, 1, r.stdout + r.stderr);
    return report.rows[0]!;
  }

  async function historyLines(dir: string, app: string): Promise<string[]> {
    const file = path.join(dir, historyFileName(app, dayOf(new Date(), 'UTC')));
    return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('v=1'));
  }

  it('a symlinked VM folder (<partition>/local/<vm>): exit 6, nothing written outside, status FAILED', async () => {
    const out = await outside('vm');
    await rm(web, { recursive: true });
    await symlink(out, web);
    try {
      const r = await job('docs');
      assert.equal(r.code, ExitCode.REFUSED, r.stderr);
      assert.match(r.stdout, /^\w+: refused \(nothing written\)/m, r.stdout);
      assert.match(r.stderr, new RegExp(`${web} is a symlink to ${out}.*VM web's folder`));
      assert.match(r.stderr, /hint: replace the symlink by a real folder.*vms\[0\]\.mount/);
      assert.deepEqual(await readdir(out), [], 'no backup, lock or history written through the symlink');
      const row = await statusRow('docs');
      assert.equal(row.state, 'FAILED');
      assert.match(row.reason, new RegExp(`refused: ${web} is a symlink`));
    } finally {
      await rm(web);
      await mkdir(web);
    }
  });

  it('a symlinked _host folder: exit 6, nothing written outside, status FAILED', async () => {
    const out = await outside('host');
    const host = path.join(part, 'local', '_host');
    await symlink(out, host);
    try {
      await refusedJob('hostapp', new RegExp(`${host} is a symlink to ${out}.*the server's own folder`));
      assert.deepEqual(await readdir(out), []);
      const row = await statusRow('hostapp');
      assert.equal(row.state, 'FAILED');
      assert.match(row.reason, /_host is a symlink/);
    } finally {
      await rm(host);
    }
  });

  it('a symlinked <mount>/_history: exit 6, no history and no backup written, status FAILED', async () => {
    const out = await outside('history');
    await symlink(out, path.join(web, '_history'));
    try {
      await refusedJob('docs', /_history is a symlink.*the history folder/);
      assert.deepEqual(await readdir(out), []);
      assert.deepEqual(await readdir(web), ['_history'], 'the backup was not written either');
      const row = await statusRow('docs');
      assert.equal(row.state, 'FAILED');
      assert.match(row.reason, /refused: .*_history is a symlink/);
    } finally {
      await rm(path.join(web, '_history'));
    }
  });

  it('a symlinked history file: exit 6, the file it points to is untouched', async () => {
    const out = await outside('histfile');
    await writeFile(path.join(out, 'precious'), 'keep me\n');
    const hist = path.join(web, '_history');
    await mkdir(hist);
    const file = path.join(hist, historyFileName('docs', dayOf(new Date(), 'UTC')));
    await symlink(path.join(out, 'precious'), file);
    try {
      await refusedJob('docs', /is a symlink.*docs's history file/);
      assert.equal(await readFile(path.join(out, 'precious'), 'utf8'), 'keep me\n');
    } finally {
      await rm(hist, { recursive: true });
    }
  });

  it('a symlinked folder of the relpath: exit 6, nothing outside, the refusal in history, status FAILED', async () => {
    const out = await outside('relpath');
    await symlink(out, path.join(web, 'a.example.com'));
    try {
      await refusedJob('deep', /a\.example\.com is a symlink.*apps\[1\]\.relpath/);
      assert.deepEqual(await readdir(out), []);
      const lines = await historyLines(path.join(web, '_history'), 'deep');
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /status=failed.*a\.example\.com is a symlink/);
      const row = await statusRow('deep');
      assert.equal(row.state, 'FAILED');
      assert.match(row.reason, /a\.example\.com is a symlink/);
    } finally {
      await rm(path.join(web, 'a.example.com'));
    }
  });

  it('the app folder a symlink, even to a folder inside the partition: exit 6', async () => {
    const other = path.join(web, 'other.example.com');
    await mkdir(other);
    await symlink(other, path.join(web, 'docs.example.com'));
    try {
      await refusedJob('docs', /docs\.example\.com is a symlink.*the app's backup folder/);
      assert.deepEqual(await readdir(other), []);
      assert.equal((await statusRow('docs')).state, 'FAILED');
    } finally {
      await rm(path.join(web, 'docs.example.com'));
      await rm(other, { recursive: true });
    }
  });

  it('the app folder a file: exit 6, the file untouched', async () => {
    const file = path.join(web, 'docs.example.com');
    await writeFile(file, 'not a backup\n');
    try {
      const r = await refusedJob('docs', /docs\.example\.com exists but is not a folder/);
      assert.match(r.stderr, /hint: move it away/);
      assert.equal(await readFile(file, 'utf8'), 'not a backup\n');
    } finally {
      await rm(file);
    }
  });

  it('with every level real again the same jobs succeed (exit 0), and status is OK', async () => {
    for (const app of ['docs', 'deep', 'hostapp']) {
      const r = await job(app);
      assert.equal(r.code, 0, `${app}: ${r.stderr}`);
    }
    assert.equal((await statusRow('deep')).state, 'OK');
  });
});

describe('jobs seen from inside a VM (mount not under the partition)', () => {
  const tmp = useTempDir('tierback-refuse-vm-');
  const log = silentLogger();

  it('refuses a symlinked <mount>/_history (exit 6 as an outcome), and trusts the mount itself as configured', async () => {
    await makeTree(path.join(tmp.dir, 'src'), { 'a.txt': 'alpha\n' });
    const site = await jobSite(tmp.dir, [{ name: 'docs', type: 'files', path: path.join(tmp.dir, 'src'), relpath: 'docs.example.com' }]);
    const app = appOf(site, 'docs');
    const out = path.join(tmp.dir, 'elsewhere');
    await mkdir(out);
    await symlink(out, path.join(app.mount, '_history'));
    const o = await runJob(site, app, { log });
    assert.equal(o.status, 'failed');
    assert.ok(o.error instanceof UnsafePathError);
    assert.equal(o.error.exitCode, ExitCode.REFUSED);
    assert.equal(o.record, undefined, 'not recorded through the symlink');
    assert.equal(exitCodeFor([o]), ExitCode.REFUSED);
    assert.deepEqual(await readdir(out), []);
    await rm(path.join(app.mount, '_history'));
    // The mount (/backup in the VM) may itself be a symlink: it is the configured root.
    const real = path.join(tmp.dir, 'real-backup');
    await rm(app.mount, { recursive: true });
    await mkdir(real);
    await symlink(real, app.mount);
    const ok = await runJob(site, app, { log });
    assert.equal(ok.status, 'ok', ok.error?.message);
    const runs = (await readHistory(path.join(real, '_history'), { name: 'docs' })).runs;
    assert.equal(runs.at(-1)!.status, 'ok');
    // A refusal among successes is a partial failure (5), as for any other failure.
    assert.equal(exitCodeFor([o, ok]), ExitCode.PARTIAL);
  });
});
