/**
 * `tierback discover` on a crafted root with one of each app type, made with the real tools where
 * there is one (git init --bare, cvs init), web server configs giving vhosts, a symlink pointing
 * out of the root, and one app the inventory already has. The YAML printed must validate once
 * pasted into the inventory.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import yaml from 'js-yaml';
import { parseInventory } from '../../../../lib/site/load.js';
import { tierback } from '../../../helpers/cli.js';
import { makeTree, tempDir } from '../../../helpers/tree.js';

let dir: string;
let root: string;
let cleanup: () => Promise<void>;
let inv: string;

const INVENTORY = `version: 1
servers:
  - { fqdn: zg-3.example.org }
vms:
  - { name: web, server: zg-3.example.org }
apps:
  - { name: known, server: zg-3.example.org, vm: web, path: /srv/git/known.git, relpath: git.example.org/known, type: git }
`;

before(async () => {
  ({ dir, cleanup } = await tempDir('tierback-discover-'));
  root = path.join(dir, 'root');
  await makeTree(root, {
    home: {
      v2: {
        rails: {
          'hydro-app': {
            releases: { '20260301120000': { app: {}, public: {} } },
            shared: { log: {} },
            current: { symlink: 'releases/20260301120000' },
          },
        },
      },
      anna: { Maildir: { cur: { '1.eml': 'x' }, new: {}, tmp: {}, '.Sent': { cur: {}, new: {}, tmp: {} } } },
      wiki: { www: { html: { 'wikiconfig.py': 'class Config: pass\n', data: { pages: { FrontPage: {} } } } } },
      evil: { symlink: '/usr' },
    },
    var: { www: { blog: { 'wp-config.php': "<?php define('DB_NAME', 'blog');\n", 'wp-content': {} } } },
    etc: {
      apache2: {
        'sites-enabled': {
          'hydro.conf': '<VirtualHost *:443>\n  ServerName v2.example.org\n  DocumentRoot /var/www/html\n  Alias /hydro /home/v2/rails/hydro-app/current/public\n</VirtualHost>\n',
        },
      },
      nginx: { 'sites-enabled': { blog: 'server {\n  listen 80;\n  server_name blog.example.org www.blog.example.org;\n  root /var/www/blog;\n  location /static { alias /var/www/static; }\n}\n' } },
    },
  });
  await mkdir(path.join(root, 'srv/git'), { recursive: true });
  await execa('git', ['init', '-q', '--bare', path.join(root, 'srv/git/project.git')]);
  await execa('git', ['init', '-q', '--bare', path.join(root, 'srv/git/known.git')]);
  await mkdir(path.join(root, 'var/lib/cvs'), { recursive: true });
  await execa('cvs', ['-d', path.join(root, 'var/lib/cvs/main'), 'init']);
  // A work tree (not bare) is not a repository to back up on its own.
  await execa('git', ['init', '-q', path.join(root, 'srv/checkout')]);
  inv = path.join(dir, 'site.yaml');
  await writeFile(inv, INVENTORY);
});
after(async () => cleanup());

describe('discover', () => {
  it('finds one of each type, with vhosts from Apache and nginx, and marks what the inventory has', async () => {
    const r = await tierback(['discover', '-i', inv, '--root', root, '--host', 'web', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { found, server, vm } = JSON.parse(r.stdout) as { server: string; vm: string; found: { type: string; path: string; name: string; relpath: string; vhost?: string; inInventory?: string }[] };
    assert.equal(server, 'zg-3.example.org');
    assert.equal(vm, 'web');
    assert.deepEqual(
      found.map((f) => [f.type, f.path, f.name, f.relpath, f.inInventory ?? '-']),
      [
        ['maildir', '/home/anna/Maildir', 'mail-anna', 'zg-3.example.org/maildir/mail-anna', '-'],
        ['rails', '/home/v2/rails/hydro-app', 'hydro', 'v2.example.org/hydro', '-'],
        ['moinmoin', '/home/wiki/www/html', 'html', 'zg-3.example.org/moinmoin/html', '-'],
        ['git', '/srv/git/known.git', 'known', 'git.example.org/known', 'known'],
        ['git', '/srv/git/project.git', 'project', 'zg-3.example.org/git/project', '-'],
        ['cvs', '/var/lib/cvs/main', 'main', 'zg-3.example.org/cvs/main', '-'],
        ['wordpress', '/var/www/blog', 'blog', 'blog.example.org', '-'],
      ],
    );
    assert.ok(!found.some((f) => f.path.startsWith('/usr')), 'never follows the symlink out of the root');
  });

  it('prints YAML that, pasted into the inventory, validates', async () => {
    const r = await tierback(['discover', '-i', inv, '--root', root, '--host', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /# wp-config\.php; served as blog\.example\.org/);
    const doc = yaml.load(r.stdout) as { apps: unknown[] };
    assert.equal(doc.apps.length, 6);
    const merged = INVENTORY + r.stdout.split('\n').filter((l) => l.startsWith('  ')).join('\n') + '\n';
    const site = parseInventory(merged, 'merged.yaml');
    assert.deepEqual(site.apps.map((a) => a.name), ['known', 'mail-anna', 'hydro', 'html', 'project', 'main', 'blog']);
    assert.ok(site.apps.every((a) => a.vm === 'web'));
  });

  it('works without an inventory on a fresh VM and says the server is unknown', async () => {
    const r = await tierback(['discover', '--root', root, '--under', 'var'], { env: { TIERBACK_INVENTORY: '' }, cwd: dir });
    // The default /etc/tierback/inventory.yaml does not exist on the test machine.
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server: unknown/);
    assert.match(r.stdout, /type: cvs/);
    assert.match(r.stdout, /type: wordpress/);
    assert.doesNotMatch(r.stdout, /type: rails/);
    await readFile(path.join(root, 'var/www/blog/wp-config.php'));
  });
});

describe('discover: bad root', () => {
  it('names a --root that does not exist (exit 3) instead of finding nothing', async () => {
    const { tierback } = await import('../../../helpers/cli.js');
    const r = await tierback(['discover', '--root', '/nonexistent-tierback-root']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /--root \/nonexistent-tierback-root is not a folder/);
  });
});
