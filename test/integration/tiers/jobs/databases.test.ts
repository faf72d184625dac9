import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDumpFileName } from '../../../../lib/model/convention.js';
import { silentLogger } from '../../../../lib/base/log.js';
import { runJob } from '../../../../lib/tiers/jobs/run.js';
import { tempDir, makeTree } from '../../../helpers/tree.js';
import { appOf, historyOf, jobSite, sh } from '../../../helpers/jobsite.js';
import { passwordFile, startMariaDb, type MariaDb } from '../../../helpers/mariadb.js';
import { startPostgres, type Postgres } from '../../../helpers/postgres.js';
import { makeRailsTree } from '../../../helpers/rails.js';
import type { Site } from '../../../../lib/model/inventory/model.js';

const log = silentLogger();
const at = (min: number) => () => new Date(Date.UTC(2026, 0, 10, 2, min, 0));
const MY_PW = 'My$ecret "pw" 1';
const PG_PW = "Pg'secret 2";

async function newest(dir: string): Promise<string> {
  const names = (await readdir(path.join(dir, 'db'))).filter((n) => parseDumpFileName(n)).sort();
  return path.join(dir, 'db', names.at(-1)!);
}

describe('database jobs against real MariaDB and PostgreSQL servers', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let my: MariaDb;
  let pg: Postgres;
  let site: Site;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir('tierback-db-'));
    [my, pg] = await Promise.all([startMariaDb(), startPostgres()]);
    await my.createDb('shop', 'shopuser', MY_PW);
    await my.sql('CREATE TABLE orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(100)); INSERT INTO orders(item) VALUES (\'tea\'), (\'cake\');', 'shop');
    await my.createDb('blog', 'wpuser', MY_PW);
    await my.sql("CREATE TABLE wp_posts (ID INT PRIMARY KEY, post_title TEXT); INSERT INTO wp_posts VALUES (1, 'Hello world');", 'blog');
    await my.createDb('railsmy', 'railsuser', MY_PW);
    await my.sql("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'mysql2 note');", 'railsmy');
    await pg.createDb('crm', 'crmuser', PG_PW);
    await pg.sql("CREATE TABLE customers (id serial primary key, name text); INSERT INTO customers(name) VALUES ('Ada'), ('Grace');", 'crm');
    await pg.sql('ALTER TABLE customers OWNER TO crmuser', 'crm');
    await pg.createDb('railspg', 'railspg', PG_PW);
    await pg.sql("CREATE TABLE notes (id int primary key, body text); INSERT INTO notes VALUES (1, 'pg note'); ALTER TABLE notes OWNER TO railspg;", 'railspg');
    const myPw = await passwordFile(root, 'my.pw', MY_PW);
    const pgPw = await passwordFile(root, 'pg.pw', PG_PW);
    const wp = path.join(root, 'www', 'blog');
    await makeTree(wp, {
      'wp-config.php': `<?php\n// ** Database settings ** //\ndefine( 'DB_NAME', 'blog' );\ndefine( 'DB_USER', 'wpuser' );\ndefine( 'DB_PASSWORD', '${MY_PW.replace(/'/g, "\\'")}' );\ndefine( 'DB_HOST', '127.0.0.1:${my.port}' );\n/* define('DB_NAME', 'wrong'); */\n$table_prefix = 'wp_';\nrequire_once ABSPATH . 'wp-settings.php';\n`,
      '.htaccess': 'RewriteEngine On\n',
      'wp-content': { uploads: { '2026': { 'a.jpg': 'JPEG\n' } }, themes: { t: { 'style.css': 'body{}\n' } }, cache: { 'x.html': 'cached\n' } },
      'index.php': '<?php\n',
    });
    const railsPg = await makeRailsTree(path.join(root, 'rpg'), 'pg.example.com', `production:\n  adapter: postgresql\n  database: railspg\n  username: railspg\n  password: "${PG_PW}"\n  host: 127.0.0.1\n  port: ${pg.port}\n`);
    const railsMy = await makeRailsTree(path.join(root, 'rmy'), 'my.example.com', `default: &default\n  adapter: mysql2\n  host: 127.0.0.1\n  port: ${my.port}\nproduction:\n  <<: *default\n  database: railsmy\n  username: railsuser\n  password: <%= ENV['DB_PASSWORD'] %>\n`);
    site = await jobSite(root, [
      { name: 'shop', type: 'mysql', path: '/var/lib/mysql', relpath: 'db.example.com/shop', options: { databases: ['shop'], host: '127.0.0.1', port: my.port, user: 'shopuser', password_file: myPw } },
      { name: 'shopbad', type: 'mysql', path: '/var/lib/mysql', relpath: 'db.example.com/shopbad', options: { databases: ['shop'], host: '127.0.0.1', port: my.port, user: 'shopuser', password_file: pgPw } },
      { name: 'crm', type: 'postgresql', path: '/var/lib/postgresql', relpath: 'db.example.com/crm', options: { databases: ['crm'], host: '127.0.0.1', port: pg.port, user: 'crmuser', password_file: pgPw } },
      { name: 'blog', type: 'wordpress', path: wp, relpath: 'blog.example.com' },
      { name: 'railspg', type: 'rails', path: railsPg.link, relpath: 'pg.example.com' },
      { name: 'railsmy', type: 'rails', path: railsMy.link, relpath: 'my.example.com', options: { password_file: myPw } },
    ]);
  });
  after(async () => {
    await Promise.all([my?.stop(), pg?.stop()]);
    await cleanup();
  });

  /** Runs the app's job at minute `min`, makes `change`, runs it again a minute later; both runs ok. The second outcome. */
  async function runTwice(name: string, min: number, change: () => Promise<unknown>) {
    const app = appOf(site, name);
    const o1 = await runJob(site, app, { log, now: at(min) });
    assert.equal(o1.status, 'ok', o1.error?.message);
    await change();
    const o2 = await runJob(site, app, { log, now: at(min + 1) });
    assert.equal(o2.status, 'ok', o2.error?.message);
    return o2;
  }

  it('mysql: dumps with the completion trailer, picks up changes, restores by hand into an equal database', async () => {
    const o2 = await runTwice('shop', 0, () => my.sql("INSERT INTO orders(item) VALUES ('scone')", 'shop'));
    assert.equal((await readdir(path.join(o2.target, 'db'))).length, 2);
    const dump = await newest(o2.target);
    assert.match(dump, /shop-2026-01-10T020100Z\.mysql\.sql\.gz$/);
    // docs/jobs/mysql.md: gunzip -c dump | mysql <db>
    await my.sql('CREATE DATABASE shop_restored');
    await sh(['sh', '-c', 'gunzip -c "$1" | mariadb --no-defaults --socket="$2" -uroot shop_restored', 'sh', dump, my.socket]);
    assert.equal(await my.sql('SELECT id, item FROM orders ORDER BY id', 'shop_restored'), await my.sql('SELECT id, item FROM orders ORDER BY id', 'shop'));
    assert.match(await my.sql('SELECT item FROM orders', 'shop_restored'), /scone/);
    // no password in history
    const hist = await readFile((await historyOf(site, 'shop')).at(-1)!.file, 'utf8');
    assert.ok(!hist.includes(MY_PW));
  });

  it('mysql: a wrong password fails with the server\'s message and a failure in history', async () => {
    const o = await runJob(site, appOf(site, 'shopbad'), { log, now: at(2) });
    assert.equal(o.status, 'failed');
    assert.match(o.error!.message, /Access denied/);
    assert.equal((await historyOf(site, 'shopbad')).at(-1)!.status, 'failed');
    assert.ok(!o.record!.error!.includes(PG_PW));
  });

  it('postgresql: custom-format dump that pg_restore lists; restores by hand into an equal database', async () => {
    const o2 = await runTwice('crm', 3, () => pg.sql("INSERT INTO customers(name) VALUES ('Linus')", 'crm'));
    const dump = await newest(o2.target);
    assert.match(dump, /crm-.*\.pgdump$/);
    await pg.sql('CREATE DATABASE crm_restored');
    await sh(['pg_restore', '--no-owner', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'crm_restored', dump]);
    assert.equal(await pg.sql('SELECT id, name FROM customers ORDER BY id', 'crm_restored'), await pg.sql('SELECT id, name FROM customers ORDER BY id', 'crm'));
    assert.match(await pg.sql('SELECT name FROM customers', 'crm_restored'), /Linus/);
  });

  it('wordpress: reads wp-config.php without PHP, dumps the database, copies wp-content (no cache) and config', async () => {
    const app = appOf(site, 'blog');
    const o = await runJob(site, app, { log, now: at(5) });
    assert.equal(o.status, 'ok', o.error?.message);
    assert.equal(o.record!.extra?.['table_prefix'], 'wp_');
    assert.deepEqual((await readdir(path.join(o.target, 'wp-content'))).sort(), ['themes', 'uploads']);
    assert.deepEqual((await readdir(path.join(o.target, 'config'))).sort(), ['.htaccess', 'wp-config.php']);
    await my.sql('CREATE DATABASE blog_restored');
    await sh(['sh', '-c', 'gunzip -c "$1" | mariadb --no-defaults --socket="$2" -uroot blog_restored', 'sh', await newest(o.target), my.socket]);
    assert.equal(await my.sql('SELECT post_title FROM wp_posts', 'blog_restored'), 'Hello world');
  });

  it('rails with postgresql and mysql2 adapters (password from database.yml or password_file)', async () => {
    for (const [name, check] of [
      ['railspg', async (dump: string) => {
        await pg.sql('CREATE DATABASE railspg_restored');
        await sh(['pg_restore', '--no-owner', '-h', pg.socketDir, '-p', String(pg.port), '-U', 'postgres', '-d', 'railspg_restored', dump]);
        assert.equal(await pg.sql('SELECT body FROM notes', 'railspg_restored'), 'pg note');
      }],
      ['railsmy', async (dump: string) => {
        await my.sql('CREATE DATABASE railsmy_restored');
        await sh(['sh', '-c', 'gunzip -c "$1" | mariadb --no-defaults --socket="$2" -uroot railsmy_restored', 'sh', dump, my.socket]);
        assert.equal(await my.sql('SELECT body FROM notes', 'railsmy_restored'), 'mysql2 note');
      }],
    ] as const) {
      const o = await runJob(site, appOf(site, name), { log, now: at(6) });
      assert.equal(o.status, 'ok', `${name}: ${o.error?.message}`);
      await check(await newest(o.target));
    }
  });

  it('database down: the job fails clearly and the previous dumps stay', async () => {
    const app = appOf(site, 'crm');
    const before = await readdir(path.join((await runJob(site, app, { log, now: at(7) })).target, 'db'));
    await pg.kill();
    const o = await runJob(site, app, { log, now: at(8) });
    assert.equal(o.status, 'failed');
    assert.match(o.error!.message, /pg_dump exited with code 1: .*(connection|connect)/i);
    assert.deepEqual(await readdir(path.join(o.target, 'db')), before);
    assert.equal((await historyOf(site, 'crm')).at(-1)!.status, 'failed');
  });
});
