/** The wordpress job type's plan as data: wp-config.php read as text, mysqldump of its database, wp-content/ and the configuration. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mysqlEngine } from '../../../../lib/tiers/engines/mysql.js';
import { TierbackError } from '../../../../lib/base/errors.js';
import { wordpressJob } from '../../../../lib/tiers/jobs/wordpress.js';
import { argvs, assertRefused, assertSecretsHidden, planOf, RSYNC, siteOf, STAMP } from '../../../helpers/plans.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

const wpConfig = (password: string, host = 'localhost:/run/mysqld/mysqld.sock') =>
  `<?php\ndefine('DB_NAME', 'blog');\ndefine('DB_USER', 'wp');\ndefine('DB_PASSWORD', '${password}');\ndefine('DB_HOST', '${host}');\n$table_prefix = 'wp7_';\n`;

describe('wordpress job: the plan', async () => {
  const { dir, cleanup } = await tempDir();
  after(cleanup);
  const site = path.join(dir, 'www', 'blog');
  await makeTree(site, { 'wp-config.php': wpConfig('wp-S3cret'), '.htaccess': 'RewriteEngine On\n', 'wp-content': { uploads: {} } });

  it('dumps DB_NAME over the socket of DB_HOST, copies wp-content/ without caches and wp-config.php and .htaccess into config/', async () => {
    const { plan, staging, secretDir } = await planOf(path.join(dir, 'first'), { type: 'wordpress', path: site });
    assert.deepEqual(plan.sources, [site, 'mysql://localhost:/run/mysqld/mysqld.sock/blog']);
    assert.deepEqual(argvs(plan.steps), [
      ['mysqldump', `--defaults-extra-file=${secretDir}/my-blog.cnf`, '--single-transaction', '--quick', '--routines', '--triggers', '--events', '--hex-blob', '--default-character-set=utf8mb4', '--', 'blog'],
      [...RSYNC, '--exclude=/cache/', '--exclude=/upgrade/', `${site}/wp-content/`, `${staging}/wp-content/`],
      [...RSYNC, `${site}/wp-config.php`, `${staging}/config/`],
      [...RSYNC, `${site}/.htaccess`, `${staging}/config/`],
    ]);
    assert.equal(plan.steps[0]?.kind === 'dump' && plan.steps[0].file, `${staging}/db/blog-${STAMP}.mysql.sql.gz`);
    assert.deepEqual(plan.facts, { table_prefix: 'wp7_' });
    assert.equal(plan.secretFiles[0]?.content, '[client]\nuser="wp"\npassword="wp-S3cret"\nhost="localhost"\nsocket="/run/mysqld/mysqld.sock"\n');
    assertSecretsHidden(plan, ['wp-S3cret']);
  });

  it('finds wp-config.php one folder up, as WordPress does, and takes the wp-content excludes from the options', async () => {
    const up = path.join(dir, 'up');
    await makeTree(up, { 'wp-config.php': wpConfig('x', 'db.example.com:3307'), public: { 'wp-content': {} } });
    const { plan, staging } = await planOf(path.join(dir, 'second'), { type: 'wordpress', path: path.join(up, 'public'), options: { exclude: ['/cache/'] } });
    assert.equal(plan.secretFiles[0]?.content, '[client]\nuser="wp"\npassword="x"\nhost="db.example.com"\nport=3307\n');
    assert.deepEqual(argvs(plan.steps).slice(1), [
      [...RSYNC, '--exclude=/cache/', `${up}/public/wp-content/`, `${staging}/wp-content/`],
      [...RSYNC, `${up}/wp-config.php`, `${staging}/config/`],
    ]);
  });

  it('gives restore and drills the connection from wp-config.php', async () => {
    const { app } = await siteOf(path.join(dir, 'db'), { type: 'wordpress', path: site });
    const got = await wordpressJob.databases!(app, wordpressJob.options.parse(app.options), { engine: mysqlEngine, db: 'blog' });
    assert.deepEqual(got, { conn: { host: 'localhost', socket: '/run/mysqld/mysqld.sock', user: 'wp', password: 'wp-S3cret' }, live: 'blog' });
  });

  it('refuses a wp-config.php whose values are not plain strings, naming the missing defines', async () => {
    const computed = path.join(dir, 'computed');
    await makeTree(computed, { 'wp-config.php': "<?php\ndefine('DB_NAME', getenv('DB'));\ndefine('DB_USER', 'wp');\ndefine('DB_HOST', 'localhost');\n", 'wp-content': {} });
    await assert.rejects(planOf(path.join(dir, 'bad1'), { type: 'wordpress', path: computed }), (err: unknown) => {
      assert.ok(err instanceof TierbackError);
      assert.match(err.message, /does not define DB_NAME, DB_PASSWORD as a plain string/);
      return true;
    });
  });

  it('refuses a folder without wp-config.php or without wp-content/, and an empty exclude', async () => {
    const bare = path.join(dir, 'bare', 'site');
    await makeTree(bare, { 'index.php': '' });
    await assert.rejects(planOf(path.join(dir, 'bad2'), { type: 'wordpress', path: bare }), (err: unknown) => err instanceof TierbackError && /no wp-config\.php in /.test(err.message) && /apps\[0\]\.path/.test(err.hint ?? ''));
    const noContent = path.join(dir, 'nocontent');
    await makeTree(noContent, { 'wp-config.php': wpConfig('x') });
    await assert.rejects(planOf(path.join(dir, 'bad3'), { type: 'wordpress', path: noContent }), (err: unknown) => err instanceof TierbackError && /wp-content is missing/.test(err.message));
    await assertRefused(path.join(dir, 'bad4'), { type: 'wordpress', path: site, options: { exclude: [''] } }, 'apps[0].options.exclude[0]', /too small|>=1/i);
  });
});
