/** The command job type's plan as data: one program's stdout stored gzip'd in db/, secrets only in the child's environment. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TierbackError } from '../../../../lib/base/errors.js';
import { commandJob } from '../../../../lib/tiers/jobs/command.js';
import { assertRefused, assertSecretsHidden, planOf, STAMP } from '../../../helpers/plans.js';
import { tempDir } from '../../../helpers/tree.js';

describe('command job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);

  it('runs argv as given (no shell) in path, storing its stdout as db/<app>-<stamp>.dump.gz, checked as gzip', async () => {
    const { plan, staging } = await planOf(path.join(dir, 'plain'), { name: 'ldap', type: 'command', path: '/var/lib/ldap', options: { argv: ['slapcat', '-n', '1'] } });
    assert.deepEqual(plan.sources, ['slapcat']);
    assert.equal(plan.steps.length, 1);
    const [dump] = plan.steps;
    assert.ok(dump?.kind === 'dump');
    assert.deepEqual(
      { db: dump.db, file: dump.file, compress: dump.compress, check: dump.check, command: dump.command },
      { db: 'ldap', file: `${staging}/db/ldap-${STAMP}.dump.gz`, compress: true, check: 'gzip', command: { argv: ['slapcat', '-n', '1'], cwd: '/var/lib/ldap', okCodes: [0] } },
    );
    assert.equal(plan.keepsDumps, true);
  });

  it('takes the dump name, extension, working folder, environment and accepted exit codes from the options', async () => {
    const options = { argv: ['/usr/local/bin/export', '--all'], name: 'crm', ext: 'tar', cwd: '/srv', env: { LANG: 'C' }, ok_codes: [0, 1] };
    const { plan, staging } = await planOf(path.join(dir, 'opts'), { type: 'command', path: '/', options });
    const [dump] = plan.steps;
    assert.ok(dump?.kind === 'dump');
    assert.equal(dump.file, `${staging}/db/crm-${STAMP}.tar.gz`);
    assert.deepEqual(dump.command, { argv: ['/usr/local/bin/export', '--all'], cwd: '/srv', okCodes: [0, 1], env: { LANG: 'C' } });
  });

  it('passes secret_env_file\'s KEY=value lines in the child\'s secret environment only', async () => {
    const envFile = path.join(dir, 'secret.env');
    await writeFile(envFile, 'API_TOKEN=t0ken-xyz\n# comment\nnot a line\nDB_PASS=p=w\n', { mode: 0o600 });
    const { plan } = await planOf(path.join(dir, 'secret'), { type: 'command', path: '/', options: { argv: ['export-tool'], secret_env_file: envFile } });
    const [dump] = plan.steps;
    assert.ok(dump?.kind === 'dump');
    assert.deepEqual(dump.command.secretEnv, { API_TOKEN: 't0ken-xyz', DB_PASS: 'p=w' });
    assertSecretsHidden(plan, ['t0ken-xyz', 'p=w']);
  });

  it('refuses an unreadable secret_env_file, naming apps[0].options.secret_env_file', async () => {
    await assert.rejects(planOf(path.join(dir, 'noenv'), { type: 'command', path: '/', options: { argv: ['x'], secret_env_file: path.join(dir, 'absent.env') } }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /cannot read secret_env_file .*absent\.env: ENOENT/);
      assert.match(err.hint ?? '', /apps\[0\]\.options\.secret_env_file/);
      return true;
    });
  });

  it('refuses an empty argv, a program that reads as an option, a lower-case environment name and an odd extension; it has no databases', async () => {
    await assertRefused(path.join(dir, 'bad1'), { type: 'command', path: '/', options: { argv: [] } }, 'apps[0].options.argv', /too small|>=1/i);
    await assertRefused(path.join(dir, 'bad2'), { type: 'command', path: '/', options: { argv: ['--help'] } }, 'apps[0].options.argv[0]', /./);
    await assertRefused(path.join(dir, 'bad3'), { type: 'command', path: '/', options: { argv: ['x'], env: { lang: 'C' } } }, 'apps[0].options.env.lang', /./);
    await assertRefused(path.join(dir, 'bad4'), { type: 'command', path: '/', options: { argv: ['x'], ext: '../gz' } }, 'apps[0].options.ext', /./);
    assert.equal(commandJob.databases, undefined);
  });
});
