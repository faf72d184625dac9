/** A one-server, one-VM site around temporary folders, for job tests: apps given as inventory entries. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { execa } from 'execa';
import { parseInventory } from '../../lib/site/load.js';
import type { ResolvedApp, Site } from '../../lib/model/inventory/model.js';
import { readHistory, type Run } from '../../lib/model/history.js';
import { vmHistoryDir } from '../../lib/model/convention.js';

export interface AppEntry {
  name: string;
  type: string;
  path: string;
  relpath: string;
  options?: Record<string, unknown>;
  keep_dumps?: number;
  vm?: string;
}

/**
 * `<root>/backup` is VM "web"'s mount of the local tree; the inventory is also written to `<root>/inventory.yaml`.
 * With `pulls`, the VM writes straight into `<root>/partition/local/web` and the server (role both)
 * pulls itself locally into `<root>/partition/snapshots/`, so both tiers live on this machine.
 */
export async function jobSite(root: string, apps: AppEntry[], opts: { pulls?: boolean } = {}): Promise<Site> {
  const partition = path.join(root, 'partition');
  const mount = opts.pulls ? path.join(partition, 'local', 'web') : path.join(root, 'backup');
  await mkdir(mount, { recursive: true, mode: 0o700 });
  const inv = {
    version: 1,
    site: 'test',
    defaults: { partition, mount, timezone: 'UTC', keep_dumps: 3 },
    servers: [{ fqdn: 'app1.test.example', ...(opts.pulls ? { role: 'both' } : {}) }],
    vms: [{ name: 'web', server: 'app1.test.example', mount }],
    apps: apps.map((a) => ({ server: 'app1.test.example', vm: 'web', ...a })),
    ...(opts.pulls ? { backup_servers: [{ server: 'app1.test.example', pulls: [{ server: 'app1.test.example', transport: 'local' }] }] } : {}),
  };
  const file = path.join(root, 'inventory.yaml');
  const text = yaml.dump(inv);
  await writeFile(file, text);
  return parseInventory(text, file);
}

export function appOf(site: Site, name: string): ResolvedApp {
  const a = site.apps.find((x) => x.name === name);
  if (!a) throw new Error(`no app ${name}`);
  return a;
}

export async function historyOf(site: Site, name: string): Promise<Run[]> {
  const app = appOf(site, name);
  return (await readHistory(vmHistoryDir(app.mount), { name })).runs;
}

/** Differences between two trees (diff -r, symlinks compared as links); '' when identical. */
export async function treeDiff(a: string, b: string, exclude: string[] = []): Promise<string> {
  const r = await execa('diff', ['-r', '--no-dereference', ...exclude.map((e) => `--exclude=${e}`), a, b], { reject: false });
  return String(r.stdout) + String(r.stderr);
}

export async function sh(argv: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await execa(argv[0]!, argv.slice(1), { ...opts, reject: true });
  return String(r.stdout);
}
