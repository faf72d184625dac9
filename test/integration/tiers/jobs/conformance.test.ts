/**
 * Conformance: the same checks on every registered job type. Each type gets a real source
 * (a tree, real repositories, real database servers), is backed up, the source changed, backed
 * up again, then restored by hand as its docs/jobs page says and compared with the source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readdir, rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../../../lib/base/log.js';
import { createExec } from '../../../../lib/base/exec.js';
import { jobTypes, getJobType } from '../../../../lib/tiers/jobs/registry.js';
import { planJob, runJob } from '../../../../lib/tiers/jobs/run.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';
import { appOf, historyOf, jobSite, sh, treeDiff, type AppEntry } from '../../../helpers/jobsite.js';
import { passwordFile, startMariaDb, type MariaDb } from '../../../helpers/mariadb.js';
import { startPostgres, type Postgres } from '../../../helpers/postgres.js';
import { makeRailsTree } from '../../../helpers/rails.js';
import { tierback } from '../../../helpers/cli.js';
import type { Site } from '../../../../lib/model/inventory/model.js';
import { runPulls } from '../../../../lib/tiers/pull/pull.js';
import { restoreFiles } from '../../../../lib/tiers/restore/restore.js';
import { drillApp } from '../../../../lib/tiers/restore/verify.js';
import { cp } from 'node:fs/promises';

const log = silentLogger();
const at = (min: number) => () => new Date(Date.UTC(2026, 1, 1, 3, min, 0));

interface Fixture {
  /** Why this type cannot run here (it then gets one test saying so and checking its unit tests exist). */
  unavailable?: string;
  entry: (root: string) => Promise<AppEntry>;
  change: (root: string) => Promise<void>;
  /** Restores by hand (as docs/jobs/<type>.md says) and compares with the source; throws on a difference. */
  restoreAndCompare: (root: string, backup: string) => Promise<void>;
}

let my: MariaDb;
let pg: Postgres;
const gitEnv = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
const newestDump = async (backup: string) => path.join(backup, 'db', (await readdir(path.join(backup, 'db'))).sort().at(-1)!);

/** The backup's `sub` folder copied back as the docs say (rsync -a) into root/restore-<sub>; that folder. */
async function copyBack(root: string, backup: string, sub: string): Promise<string> {
  const to = path.join(root, `restore-${sub}`);
  await sh(['rsync', '-a', `${backup}/${sub}/`, `${to}/`]);
  return to;
}

/** copyBack, then the copy must equal the live folder root/<live> but for `skip`. */
async function copyBackAndCompare(root: string, backup: string, sub: string, live: string, skip: string[]): Promise<void> {
  const to = await copyBack(root, backup, sub);
  assert.equal(await treeDiff(path.join(root, live), to, skip), '');
}

const fixtures: Record<string, Fixture> = {
  files: {
    entry: async (root) => {
      await makeTree(path.join(root, 'var'), { drawings: { 'a.dwg': 'A\n', 'b.dwg': 'B\n' }, tmp: { 'x.lock': 'x' }, 'index.txt': 'i\n' });
      return { name: 'files', type: 'files', path: path.join(root, 'var'), relpath: 'files.example.com', options: { include: ['**'], exclude: ['tmp/**'] } };
    },
    change: (root) => writeFile(path.join(root, 'var', 'drawings', 'c.dwg'), 'C\n'),
    restoreAndCompare: (root, backup) => copyBackAndCompare(root, backup, 'files', 'var', ['tmp']),
  },
  git: {
    entry: async (root) => {
      await sh(['git', 'init', '-q', '--bare', '-b', 'main', path.join(root, 'repo.git')]);
      await sh(['git', 'clone', '-q', path.join(root, 'repo.git'), path.join(root, 'gitwork')]);
      await writeFile(path.join(root, 'gitwork', 'a'), '1\n');
      await sh(['git', '-C', path.join(root, 'gitwork'), 'add', '-A'], { env: gitEnv });
      await sh(['git', '-C', path.join(root, 'gitwork'), 'commit', '-qm', 'one'], { env: gitEnv });
      await sh(['git', '-C', path.join(root, 'gitwork'), 'push', '-q', 'origin', 'HEAD:main'], { env: gitEnv });
      return { name: 'git', type: 'git', path: path.join(root, 'repo.git'), relpath: 'git.example.com' };
    },
    change: async (root) => {
      await writeFile(path.join(root, 'gitwork', 'a'), '2\n');
      await sh(['git', '-C', path.join(root, 'gitwork'), 'commit', '-qam', 'two'], { env: gitEnv });
      await sh(['git', '-C', path.join(root, 'gitwork'), 'push', '-q', 'origin', 'HEAD:main'], { env: gitEnv });
    },
    restoreAndCompare: async (root, backup) => {
      const to = path.join(root, 'restore-git.git');
      await sh(['git', 'clone', '-q', '--mirror', path.join(backup, 'repos', 'repo.git'), to]);
      const refs = (d: string) => sh(['git', '--git-dir', d, 'for-each-ref']);
      assert.equal(await refs(to), await refs(path.join(root, 'repo.git')));
    },
  },
  cvs: {
    entry: async (root) => {
      const cvsroot = path.join(root, 'cvsroot');
      await sh(['cvs', '-Q', '-d', cvsroot, 'init']);
      await makeTree(path.join(root, 'imp'), { 'main.c': 'int main(){}\n', doc: { 'README': 'r\n' } });
      await sh(['cvs', '-Q', '-d', cvsroot, 'import', '-m', 'import', 'proj', 'vendor', 'start'], { cwd: path.join(root, 'imp') });
      await sh(['cvs', '-Q', '-d', cvsroot, 'checkout', '-d', 'cvswork', 'proj'], { cwd: root });
      return { name: 'cvs', type: 'cvs', path: cvsroot, relpath: 'cvs.example.com' };
    },
    change: async (root) => {
      await appendFile(path.join(root, 'cvswork', 'main.c'), '// two\n');
      await sh(['cvs', '-Q', 'commit', '-m', 'two'], { cwd: path.join(root, 'cvswork') });
    },
    restoreAndCompare: async (root, backup) => {
      const to = await copyBack(root, backup, 'cvsroot');
      await sh(['cvs', '-Q', '-d', to, 'checkout', '-d', 'cvsrestored', 'proj'], { cwd: root });
      assert.equal(await treeDiff(path.join(root, 'cvswork'), path.join(root, 'cvsrestored'), ['CVS']), '');
      const lockFiles = await sh(['find', backup, '-name', '#cvs.*']);
      assert.equal(lockFiles, '');
    },
  },
  maildir: {
    entry: async (root) => {
      const md = (msgs: Record<string, string>) => ({ cur: msgs, new: {}, tmp: { 'inflight.1': 'partial' } });
      await makeTree(path.join(root, 'Maildir'), { ...md({ '1.host:2,S': 'From: a\n\nhello\n' }), '.Sent': md({ '2.host:2,S': 'From: me\n\nsent\n' }), dovecot: { symlink: 'nowhere' } });
      await writeFile(path.join(root, 'Maildir', 'new', '3.host'), 'From: b\n\nnew\n');
      return { name: 'mail', type: 'maildir', path: path.join(root, 'Maildir'), relpath: 'mail.example.com' };
    },
    change: async (root) => {
      await rename(path.join(root, 'Maildir', 'new', '3.host'), path.join(root, 'Maildir', 'cur', '3.host:2,S'));
      await writeFile(path.join(root, 'Maildir', 'new', '4.host'), 'From: c\n\nnewer\n');
    },
    restoreAndCompare: (root, backup) => copyBackAndCompare(root, backup, 'mail', 'Maildir', ['inflight.1']),
  },
  moinmoin: {
    entry: async (root) => {
      await makeTree(path.join(root, 'wiki'), {
        'wikiconfig.py': 'sitename = "Wiki"\n',
        'moin.wsgi': 'app\n',
        data: { pages: { FrontPage: { current: '00000001\n', revisions: { '00000001': 'Hello\n' }, cache: { 'text_html': 'cached' } } }, user: { '123.45': 'name=ann\n' }, cache: { 'i18n': 'x' } },
        underlay: { big: 'not copied\n' },
      });
      return { name: 'wiki', type: 'moinmoin', path: path.join(root, 'wiki'), relpath: 'wiki.example.com' };
    },
    change: async (root) => {
      await makeTree(path.join(root, 'wiki', 'data', 'pages', 'FrontPage', 'revisions'), { '00000002': 'Hello again\n' });
      await writeFile(path.join(root, 'wiki', 'data', 'pages', 'FrontPage', 'current'), '00000002\n');
    },
    restoreAndCompare: async (root, backup) => {
      const to = path.join(root, 'restore-wiki');
      await sh(['rsync', '-a', '--mkpath', `${backup}/data/`, `${to}/data/`]);
      await sh(['rsync', '-a', `${backup}/config/`, `${to}/`]);
      assert.equal(await treeDiff(path.join(root, 'wiki', 'data'), path.join(to, 'data'), ['cache']), '');
      assert.deepEqual((await readdir(to)).sort(), ['data', 'moin.wsgi', 'wikiconfig.py']);
    },
  },
  command: {
    entry: async (root) => {
      await makeTree(path.join(root, 'cmdsrc'), { 'a.txt': 'a\n', sub: { 'b.txt': 'b\n' } });
      return { name: 'tarball', type: 'command', path: path.join(root, 'cmdsrc'), relpath: 'cmd.example.com', options: { argv: ['tar', '-cf', '-', '.'], ext: 'tar' } };
    },
    change: (root) => writeFile(path.join(root, 'cmdsrc', 'c.txt'), 'c\n'),
    restoreAndCompare: async (root, backup) => {
      const to = path.join(root, 'restore-cmd');
      await mkdir(to);
      await sh(['sh', '-c', 'gunzip -c "$1" | tar -xf - -C "$2"', 'sh', await newestDump(backup), to]);
      assert.equal(await treeDiff(path.join(root, 'cmdsrc'), to), '');
    },
  },
  rails: {
    entry: async (root) => {
      const t = await makeRailsTree(path.join(root, 'rails'), 'conf.example.com', 'production:\n  adapter: sqlite3\n  database: db/production.sqlite3\n');
      await sh(['sqlite3', path.join(t.current, 'db', 'production.sqlite3'), "create table t(x); insert into t values ('one');"]);
      return { name: 'rails', type: 'rails', path: t.link, relpath: 'rails.example.com' };
    },
    change: (root) => sh(['sqlite3', path.join(root, 'rails', 'home', 'v2', 'rails', 'conf.example.com-app', 'current', 'db', 'production.sqlite3'), "insert into t values ('two');"]).then(() => undefined),
    restoreAndCompare: async (root, backup) => {
      const to = path.join(root, 'restore-rails.sqlite3');
      await sh(['sh', '-c', 'gunzip -c "$1" | sqlite3 "$2"', 'sh', await newestDump(backup), to]);
      assert.equal(await sh(['sqlite3', to, 'select * from t']), 'one\ntwo');
    },
  },
  mysql: {
    entry: async (root) => {
      await my.createDb('conf', 'confuser', 'pw-conf');
      await my.sql("CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('one');", 'conf');
      return { name: 'mysql', type: 'mysql', path: '/var/lib/mysql', relpath: 'mysql.example.com', options: { databases: ['conf'], socket: my.socket, user: 'confuser', password_file: await passwordFile(root, 'conf.pw', 'pw-conf') } };
    },
    change: () => my.sql("INSERT INTO t VALUES ('two')", 'conf').then(() => undefined),
    restoreAndCompare: async (_root, backup) => {
      await my.sql('CREATE DATABASE conf_r');
      await sh(['sh', '-c', 'gunzip -c "$1" | mariadb --no-defaults --socket="$2" -uroot conf_r', 'sh', await newestDump(backup), my.socket]);
      assert.equal(await my.sql('SELECT x FROM t ORDER BY x', 'conf_r'), 'one\ntwo');
    },
  },
  postgresql: {
    entry: async (root) => {
      await pg.createDb('conf', 'confuser', 'pw-conf');
      await pg.sql("CREATE TABLE t (x text); INSERT INTO t VALUES ('one'); ALTER TABLE t OWNER TO confuser;", 'conf');
      return { name: 'pg', type: 'postgresql', path: '/var/lib/postgresql', relpath: 'pg.example.com', options: { databases: ['conf'], host: '127.0.0.1', port: pg.port, user: 'confuser', password_file: await passwordFile(root, 'pgconf.pw', 'pw-conf') } };
    },
    change: () => pg.sql("INSERT INTO t VALUES ('two')", 'conf').then(() => undefined),
    restoreAndCompare: async (_root, backup) => {
      await pg.sql('CREATE DATABASE conf_r');
      await sh(['pg_restore', '--no-owner', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'conf_r', await newestDump(backup)]);
      assert.equal(await pg.sql('SELECT x FROM t ORDER BY x', 'conf_r'), 'one\ntwo');
    },
  },
  wordpress: {
    entry: async (root) => {
      await my.createDb('wpconf', 'wpc', 'pw-wp');
      await my.sql("CREATE TABLE wp_options (option_name TEXT); INSERT INTO wp_options VALUES ('siteurl');", 'wpconf');
      await makeTree(path.join(root, 'wp'), {
        'wp-config.php': `<?php\ndefine('DB_NAME', 'wpconf');\ndefine('DB_USER', 'wpc');\ndefine('DB_PASSWORD', 'pw-wp');\ndefine('DB_HOST', 'localhost:${my.socket}');\n$table_prefix = 'wp_';\n`,
        'wp-content': { uploads: { 'a.jpg': 'A' } },
      });
      return { name: 'wp', type: 'wordpress', path: path.join(root, 'wp'), relpath: 'wp.example.com' };
    },
    change: async (root) => {
      await writeFile(path.join(root, 'wp', 'wp-content', 'uploads', 'b.jpg'), 'B');
      await my.sql("INSERT INTO wp_options VALUES ('home')", 'wpconf');
    },
    restoreAndCompare: async (root, backup) => {
      const to = path.join(root, 'restore-wp');
      await sh(['rsync', '-a', '--mkpath', `${backup}/wp-content/`, `${to}/wp-content/`]);
      assert.equal(await treeDiff(path.join(root, 'wp', 'wp-content'), path.join(to, 'wp-content')), '');
      await my.sql('CREATE DATABASE wpconf_r');
      await sh(['sh', '-c', 'gunzip -c "$1" | mariadb --no-defaults --socket="$2" -uroot wpconf_r', 'sh', await newestDump(backup), my.socket]);
      assert.equal(await my.sql('SELECT option_name FROM wp_options ORDER BY 1', 'wpconf_r'), 'home\nsiteurl');
    },
  },
  mongodb: {
    unavailable: 'no MongoDB server can be installed here: docs/jobs/mongodb.md says what was run; test/unit/tiers/engines/mongodb.test.ts tests the plan and the archive check',
    entry: () => Promise.reject(new Error('unavailable')),
    change: () => Promise.resolve(),
    restoreAndCompare: () => Promise.resolve(),
  },
};

describe('conformance: every registered job type', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let site: Site;
  const names = new Map<string, string>();
  before(async () => {
    ({ dir: root, cleanup } = await tempDir('tierback-conf-'));
    [my, pg] = await Promise.all([startMariaDb(), startPostgres()]);
    const entries: AppEntry[] = [];
    for (const t of jobTypes) {
      const f = fixtures[t.name];
      if (!f || f.unavailable) continue;
      const e = await f.entry(root);
      names.set(t.name, e.name);
      entries.push(e);
    }
    site = await jobSite(root, entries, { pulls: true });
  });
  after(async () => {
    await Promise.all([my?.stop(), pg?.stop()]);
    await cleanup();
  });

  it('has a conformance fixture for every registered type', () => {
    assert.deepEqual(jobTypes.map((t) => t.name).filter((n) => !fixtures[n]), []);
  });

  for (const t of jobTypes) {
    const unavailable = fixtures[t.name]?.unavailable;
    if (unavailable) {
      // No server of this kind can run here: say so as a passing fact, and check that the unit tests
      // that cover what can be run (its plan as data, its dump check) exist.
      it(`${t.name}: cannot run against a real server here (${unavailable.split(':')[0]}); its plan and dump check have unit tests`, () => {
        const unit = fileURLToPath(new URL(`../../../unit/tiers/engines/${t.name}.test.js`, import.meta.url));
        assert.ok(existsSync(unit), `${unit} exists`);
        assert.ok(getJobType(t.name), `${t.name} is registered`);
      });
      continue;
    }
    it(`${t.name}: plan is data, backup verifies, a second run picks up changes, restore by hand equals the source`, async () => {
      const app = appOf(site, names.get(t.name)!);
      // the plan is plain data: argv arrays of strings, sources, target inside the VM mount
      const plan = await planJob(site, app);
      assert.ok(plan.steps.length > 0);
      for (const s of plan.steps) {
        const argv = s.kind === 'rsync' ? s.argv : s.kind === 'dump' || s.kind === 'exec' ? s.command.argv : undefined;
        if (argv) assert.ok(argv.every((a) => typeof a === 'string'));
      }
      assert.ok(plan.target.startsWith(app.mount + '/'));
      // unknown options are rejected by the type's schema
      assert.equal(getJobType(t.name).options.safeParse({ ...app.options, no_such_option: 1 }).success, false);

      const o1 = await runJob(site, app, { log, now: at(0) });
      assert.equal(o1.status, 'ok', o1.error?.message);
      await fixtures[t.name]!.change(root);
      const o2 = await runJob(site, app, { log, now: at(1) });
      assert.equal(o2.status, 'ok', o2.error?.message);
      assert.deepEqual(await t.verify(o2.target, t.options.parse(app.options), { exec: createExec(log), log }), []);
      const runs = await historyOf(site, app.name);
      assert.deepEqual(runs.map((r) => r.status), ['ok', 'ok']);
      assert.ok((runs[1]!.files ?? 0) > 0 && (runs[1]!.mb ?? -1) >= 0);
      assert.ok(t.restore(app, t.options.parse(app.options), o2.target).commands.length > 0);
      await fixtures[t.name]!.restoreAndCompare(root, o2.target);
    });

    it(`${t.name}: through both tiers (job, pull, tierback restore from the snapshot of a chosen date) and a passing restore drill`, async () => {
      // Restore: a third run, a pull, a copy of what that job wrote; a second pull. Restoring from the
      // first snapshot (chosen by its stamp) gives those bytes back; from the second, the local folder's (which the
      // test above compared with the source by hand).
      const app = appOf(site, names.get(t.name)!);
      const pullAt = (min: number) => () => new Date(Date.UTC(2026, 1, 1, 4, min, 0));
      assert.equal((await runJob(site, app, { log, now: at(2) })).status, 'ok');
      const [p1] = await runPulls(site, site.backupServers[0]!, { log, now: pullAt(t.name.length) });
      assert.equal(p1!.status, 'ok', p1!.error);
      const asWritten = path.join(root, `as-written-${t.name}`);
      await cp(path.join(app.mount, app.relpath), asWritten, { recursive: true, verbatimSymlinks: true });
      const day1 = path.join(root, `from-snapshot-1-${t.name}`);
      const r1 = await restoreFiles(site, app, { log, at: p1!.snapshot!, tier: 'remote', to: day1 });
      assert.equal(r1.point.snapshot, p1!.snapshot);
      assert.equal(await treeDiff(asWritten, day1, ['.tierback-manifest']), '', 'the snapshot restores the bytes the job wrote that day');
      const [p2] = await runPulls(site, site.backupServers[0]!, { log, now: pullAt(30 + t.name.length) });
      assert.equal(p2!.status, 'ok', p2!.error);
      const latest = path.join(root, `from-snapshot-2-${t.name}`);
      const r2 = await restoreFiles(site, app, { log, tier: 'remote', at: p2!.snapshot!, to: latest });
      assert.equal(r2.point.snapshot, p2!.snapshot);
      assert.equal(await treeDiff(path.join(app.mount, app.relpath), latest, ['.tierback-manifest']), '');
      const superuser = t.name === 'postgresql' ? { socket: pg.socketDir, port: pg.port, user: 'postgres' } : t.name === 'mysql' || t.name === 'wordpress' ? { socket: my.socket, user: 'root' } : undefined;
      const drill = await drillApp(site, app, { log, tier: 'remote', connection: superuser });
      assert.equal(drill.status, 'ok', drill.problems.join('; '));
      if (t.name === 'wordpress') {
        // In the VM a drill uses the app's own settings (wp-config.php); its user may create tierback_drill_* databases.
        await my.sql("GRANT ALL ON `tierback\\_drill\\_%`.* TO 'wpc'@'%'; GRANT ALL ON `tierback\\_drill\\_%`.* TO 'wpc'@'localhost';");
        const own = await drillApp(site, app, { log, tier: 'local' });
        assert.equal(own.status, 'ok', own.problems.join('; '));
        assert.ok(own.checks.some((c) => c.check === 'load' && /loaded into a scratch database: 1 tables, 2 rows/.test(c.detail)), JSON.stringify(own.checks));
      }
    });
  }

  it('`tierback job --all --vm web` (acceptance) backs every type up into its local path, as `tierback paths` names it', async () => {
    const inv = path.join(root, 'inventory.yaml');
    const before = new Map<string, number>();
    for (const n of names.values()) before.set(n, (await historyOf(site, n)).filter((x) => x.kind === 'job').length);
    const r = await tierback(['job', '--all', '--vm', 'web', '--json', '-i', inv]);
    assert.equal(r.code, 0, r.stderr);
    const outcomes = JSON.parse(r.stdout) as { app: string; status: string; target: string }[];
    assert.deepEqual(outcomes.map((o) => o.app).sort(), [...names.values()].sort());
    for (const o of outcomes) {
      assert.equal(o.status, 'ok', `${o.app}: ${r.stderr}`);
      const p = await tierback(['paths', o.app, '--json', '-i', inv]);
      const vmPath = (JSON.parse(p.stdout) as { paths: { kind: string; path: string }[] }).paths.find((x) => x.kind === 'vm')!.path;
      assert.equal(o.target, vmPath);
      assert.ok((await readdir(o.target)).length > 0, `${o.app}: empty backup at ${o.target}`);
      const runs = (await historyOf(site, o.app)).filter((x) => x.kind === 'job');
      assert.equal(runs.at(-1)!.status, 'ok');
      assert.equal(runs.length, before.get(o.app)! + 1, `${o.app}: one more job run in history`);
    }
  });
});
