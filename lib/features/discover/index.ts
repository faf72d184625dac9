/**
 * Discovery: finds applications on a VM or server that the inventory does not list yet, so new
 * apps are not forgotten, and prints
 * inventory entries for them. Walks with fast-glob, bounded depth, never following symlinks,
 * skipping pseudo file systems and the backup partitions themselves.
 */
import { NotFoundError } from '../../base/errors.js';
import { lstat, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { checkAppName, checkHostname, checkRelpath } from '../../model/names.js';
import type { Site } from '../../model/inventory/model.js';

const posix = path.posix;

export type DiscoveredType = 'rails' | 'wordpress' | 'moinmoin' | 'git' | 'cvs' | 'maildir';

export interface Discovered {
  type: DiscoveredType;
  /** Path as seen on the host (without --root). */
  path: string;
  name: string;
  relpath: string;
  /** Virtual host from the web server configuration, when one serves this app. */
  vhost: string | undefined;
  /** What identified it, e.g. "wp-config.php". */
  evidence: string;
  /** Name of the inventory app that already covers this path. */
  inInventory: string | undefined;
}

export interface DiscoverOptions {
  /** Folder that stands for "/" (tests: a crafted tree); default "/". */
  root?: string;
  /** Folders below root to search (default: home, srv, var/www, var/lib/git, var/lib/cvs, var/mail, opt). */
  under?: string[];
  /** Folder depth searched below each start (default 6). */
  maxDepth?: number;
  /** Host name for relpaths of apps no virtual host serves (default: this machine's). */
  host?: string;
}

export const DEFAULT_SEARCH = ['home', 'srv', 'var/www', 'var/lib/git', 'var/lib/cvs', 'var/cvs', 'var/mail', 'var/vmail', 'opt'];
const IGNORE = ['**/node_modules/**', '**/.cache/**', '**/vendor/bundle/**', '**/releases/*/**'];

interface Vhost {
  name: string;
  /** URL path prefix ("" for the site root). */
  urlPath: string;
  /** Folder served (host path). */
  dir: string;
}

async function isDir(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** Reads Apache and nginx site configuration below root: ServerName/DocumentRoot/Alias, server_name/root/alias. */
export async function readVhosts(root: string): Promise<Vhost[]> {
  const files = await fg(
    ['etc/apache2/sites-enabled/*', 'etc/apache2/sites-available/*.conf', 'etc/httpd/conf.d/*.conf', 'etc/nginx/sites-enabled/*', 'etc/nginx/conf.d/*.conf', 'etc/nginx/sites-available/*'],
    { cwd: root, onlyFiles: true, followSymbolicLinks: false, absolute: true, suppressErrors: true },
  );
  const out: Vhost[] = [];
  for (const file of files) {
    const text = (await readFile(file, 'utf8').catch(() => '')).replace(/#.*$/gm, '');
    // Apache: one <VirtualHost> block at a time.
    for (const m of text.matchAll(/<VirtualHost[^>]*>([\s\S]*?)<\/VirtualHost>/gi)) {
      const body = m[1]!;
      const name = /^\s*ServerName\s+(\S+)/im.exec(body)?.[1];
      if (!name) continue;
      const host = name.replace(/:\d+$/, '').toLowerCase();
      const docroot = /^\s*DocumentRoot\s+"?([^"\s]+)"?/im.exec(body)?.[1];
      if (docroot) out.push({ name: host, urlPath: '', dir: docroot.replace(/\/+$/, '') });
      for (const a of body.matchAll(/^\s*Alias\s+"?(\/[^"\s]*)"?\s+"?([^"\s]+)"?/gim)) {
        out.push({ name: host, urlPath: a[1]!.replace(/^\/+|\/+$/g, ''), dir: a[2]!.replace(/\/+$/, '') });
      }
    }
    // nginx: server { ... } blocks (braces of location blocks nest one level).
    for (const m of text.matchAll(/server\s*\{((?:[^{}]|\{[^{}]*\})*)\}/g)) {
      const body = m[1]!;
      const name = /server_name\s+([^;\s]+)/.exec(body)?.[1];
      if (!name || name === '_') continue;
      const host = name.toLowerCase();
      const top = body.replace(/location[^{]*\{[^{}]*\}/g, '');
      const docroot = /(?:^|\s)root\s+([^;\s]+);/.exec(top)?.[1];
      if (docroot) out.push({ name: host, urlPath: '', dir: docroot.replace(/\/+$/, '') });
      for (const l of body.matchAll(/location\s+(\/[^\s{]*)\s*\{([^{}]*)\}/g)) {
        const alias = /(?:alias|root)\s+([^;\s]+);/.exec(l[2]!)?.[1];
        if (alias) out.push({ name: host, urlPath: l[1]!.replace(/^\/+|\/+$/g, ''), dir: alias.replace(/\/+$/, '') });
      }
    }
  }
  return out;
}

/** The vhost serving an app folder: its document root is the folder, or inside it (current/public, htdocs...). */
function vhostFor(vhosts: Vhost[], dir: string): Vhost | undefined {
  let best: Vhost | undefined;
  for (const v of vhosts) {
    const inside = v.dir === dir || v.dir.startsWith(`${dir}/`);
    if (inside && (!best || v.dir.length < best.dir.length || (v.dir.length === best.dir.length && v.urlPath.length > best.urlPath.length))) best = v;
  }
  return best;
}

export function slug(s: string): string {
  const out = s
    .toLowerCase()
    .replace(/\.git$/, '')
    .replace(/-app$/, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  return out || 'app';
}

function hostLabel(host: string): string {
  const h = host.toLowerCase();
  return checkHostname(h) ? 'localhost' : h;
}

interface Found {
  type: DiscoveredType;
  dir: string;
  evidence: string;
  /** Name hint (user for Maildirs). */
  hint?: string;
}

async function findCandidates(root: string, starts: string[], deep: number): Promise<Found[]> {
  const found: Found[] = [];
  const glob = (pattern: string, onlyDirectories: boolean) =>
    fg(starts.map((s) => posix.join(s, pattern)), { cwd: root, deep: deep + 1, onlyDirectories, onlyFiles: !onlyDirectories, followSymbolicLinks: false, dot: true, suppressErrors: true, ignore: IGNORE });
  for (const rel of await glob('**/releases', true)) {
    const app = posix.dirname(rel);
    const abs = path.join(root, app);
    const current = await lstat(path.join(abs, 'current')).catch(() => undefined);
    if (current?.isSymbolicLink() && (await isDir(path.join(abs, 'shared')))) found.push({ type: 'rails', dir: app, evidence: 'Capistrano layout (current -> releases/, shared/)' });
  }
  for (const f of await glob('**/wp-config.php', false)) found.push({ type: 'wordpress', dir: posix.dirname(f), evidence: 'wp-config.php' });
  for (const f of await glob('**/wikiconfig.py', false)) {
    const d = posix.dirname(f);
    if (await isDir(path.join(root, d, 'data/pages'))) found.push({ type: 'moinmoin', dir: d, evidence: 'wikiconfig.py + data/pages' });
  }
  for (const f of await glob('**/HEAD', false)) {
    const d = posix.dirname(f);
    const abs = path.join(root, d);
    if (posix.basename(d) === '.git') continue; // a work tree's repository: part of whatever app it is in
    if ((await isDir(path.join(abs, 'objects'))) && (await isDir(path.join(abs, 'refs'))) && /bare\s*=\s*true/.test(await readFile(path.join(abs, 'config'), 'utf8').catch(() => ''))) {
      found.push({ type: 'git', dir: d, evidence: 'bare git repository (HEAD, objects/, refs/, bare = true)' });
    }
  }
  for (const d of await glob('**/CVSROOT', true)) found.push({ type: 'cvs', dir: posix.dirname(d), evidence: 'CVS repository (CVSROOT/)' });
  for (const d of await glob('**/cur', true)) {
    const m = posix.dirname(d);
    const abs = path.join(root, m);
    if ((await isDir(path.join(abs, 'new'))) && (await isDir(path.join(abs, 'tmp')))) {
      const parts = m.split('/');
      const user = parts[0] === 'home' && parts.length >= 2 ? parts[1] : undefined;
      found.push({ type: 'maildir', dir: m, evidence: 'Maildir (cur/, new/, tmp/)', ...(user ? { hint: `mail-${user}` } : {}) });
    }
  }
  // Keep the outermost find: a Maildir++ folder inside a Maildir, a repository inside an app, are part of it.
  const sorted = found.sort((a, b) => a.dir.length - b.dir.length);
  return sorted.filter((f, i) => !sorted.slice(0, i).some((o) => f.dir === o.dir || f.dir.startsWith(`${o.dir}/`)));
}

/** Finds apps below root; marks those the inventory already has (same path). */
export async function discover(site: Site | undefined, opts: DiscoverOptions = {}): Promise<Discovered[]> {
  const root = path.resolve(opts.root ?? '/');
  if (!(await isDir(root))) throw new NotFoundError(`--root ${root} is not a folder`, 'give the root of the machine to search, e.g. --root / (the default)');
  const partitions = new Set((site?.servers ?? []).map((s) => s.partition.replace(/^\/+/, '')));
  const starts: string[] = [];
  for (const s of opts.under ?? DEFAULT_SEARCH) {
    const rel = s.replace(/^\/+|\/+$/g, '');
    if ([...partitions].some((p) => rel === p || rel.startsWith(`${p}/`))) continue;
    if (await isDir(path.join(root, rel))) starts.push(rel);
  }
  const vhosts = await readVhosts(root);
  const host = hostLabel(opts.host ?? os.hostname());
  const candidates = (await findCandidates(root, starts, opts.maxDepth ?? 6)).filter((c) => ![...partitions].some((p) => c.dir === p || c.dir.startsWith(`${p}/`)));
  const taken = new Set((site?.apps ?? []).map((a) => a.name));
  const usedRel = new Set((site?.apps ?? []).map((a) => a.relpath));
  const out: Discovered[] = [];
  for (const c of candidates.sort((a, b) => a.dir.localeCompare(b.dir))) {
    const hostPath = `/${c.dir}`;
    const owner = site?.apps.find((a) => a.path === hostPath || hostPath.startsWith(`${a.path}/`) || a.path.startsWith(`${hostPath}/`));
    const v = vhostFor(vhosts, hostPath);
    const base = c.hint ?? slug(posix.basename(c.dir));
    let name = checkAppName(base) ? 'app' : base;
    for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
    if (!owner) taken.add(name);
    let relpath = v ? (v.urlPath ? `${v.name}/${v.urlPath}` : v.name) : `${host}/${c.type}/${name}`;
    if (checkRelpath(relpath)) relpath = `${host}/${c.type}/${name}`;
    for (let i = 2; usedRel.has(relpath) && !owner; i++) relpath = `${relpath.replace(/-\d+$/, '')}-${i}`;
    if (!owner) usedRel.add(relpath);
    out.push({ type: c.type, path: hostPath, name: owner?.name ?? name, relpath: owner?.relpath ?? relpath, vhost: v?.name, evidence: c.evidence, inInventory: owner?.name });
  }
  return out;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** Inventory `apps:` entries for the discovered apps not yet in the inventory. */
export function discoveredYaml(found: Discovered[], where: { server: string | undefined; vm: string | undefined }): string {
  const fresh = found.filter((f) => !f.inInventory);
  const lines = [`# tierback discover: ${fresh.length} app(s) not in the inventory yet. Review, then paste under apps:.`];
  if (!where.server) lines.push('# server: unknown (this machine is not in the inventory): fill it in, and vm: if this is a VM.');
  lines.push('apps:');
  if (fresh.length === 0) lines[lines.length - 1] = 'apps: []';
  for (const f of fresh) {
    lines.push(`  # ${f.evidence}${f.vhost ? `; served as ${f.vhost}` : '; no virtual host found: relpath guessed'}`);
    lines.push(`  - name: ${q(f.name)}`);
    lines.push(`    description: ${q(`${f.type} at ${f.path}`)}`);
    lines.push(`    server: ${q(where.server ?? 'FILL-IN.example.org')}`);
    if (where.vm) lines.push(`    vm: ${q(where.vm)}`);
    lines.push(`    path: ${q(f.path)}`);
    lines.push(`    relpath: ${q(f.relpath)}`);
    lines.push(`    type: ${f.type}`);
  }
  return `${lines.join('\n')}\n`;
}
