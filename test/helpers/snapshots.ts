/**
 * Builders for real snapshot and dump trees laid out by the convention: real folders and files,
 * real hardlinks between snapshots (as `rsync --link-dest` / `cp -al` make them), the `remote/<server>`
 * symlink, and a site inventory whose partition is a temp dir.
 */
import { link, mkdir, symlink, writeFile, readdir, lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../lib/model/convention.js';
import { parseInventory } from '../../lib/site/load.js';
import type { Site } from '../../lib/model/inventory/model.js';
import { tempDir } from './tree.js';

export const APP_SERVER = 'app1.test';
export const BACKUP_SERVER = 'bk.test';

/** A two-server site: app1.test (app hydro in VM web, local tier) pulled by bk.test, both on `partition`. */
export function siteYaml(partition: string, extra: { defaults?: string; remoteRetention?: string; appRetention?: string } = {}): string {
  return `version: 1
site: retention-test
defaults:
  partition: ${partition}
  timezone: Europe/Zurich
  retention:
    local: ${extra.appRetention ?? '{ daily: 3 }'}
    remote: ${extra.remoteRetention ?? '{ daily: 9, weekly: 6, monthly: 12, quarterly: 24, yearly: 120 }'}
${extra.defaults ?? ''}
servers:
  - { fqdn: ${APP_SERVER}, role: app }
  - { fqdn: ${BACKUP_SERVER}, role: backup }
vms:
  - { name: web, server: ${APP_SERVER} }
apps:
  - { name: hydro, server: ${APP_SERVER}, vm: web, path: /srv/hydro, relpath: v2.example.ch/hydro, type: rails }
backup_servers:
  - server: ${BACKUP_SERVER}
    pulls: [${APP_SERVER}]
`;
}

export async function writeSite(dir: string, partition: string, extra?: Parameters<typeof siteYaml>[1]): Promise<{ file: string; site: Site }> {
  const file = path.join(dir, 'inventory.yaml');
  const text = siteYaml(partition, extra);
  await writeFile(file, text);
  return { file, site: parseInventory(text, file) };
}

/**
 * Snapshots of `server`, one per instant, each holding `shared` (one file hardlinked through every
 * snapshot, as an unchanged file is after --link-dest) and `own.txt` (unique to the snapshot).
 * Points `remote/<server>` at the newest. Returns the stamps, oldest first.
 */
/** A temp folder (`dir`, `cleanup`) holding a site written by writeSite (`file`), its partition at `<dir>/part`. */
export async function freshSite(prefix: string, extra?: Parameters<typeof siteYaml>[1]): Promise<{ dir: string; cleanup: () => Promise<void>; partition: string; file: string; site: Site }> {
  const t = await tempDir(prefix);
  const partition = path.join(t.dir, 'part');
  const { file, site } = await writeSite(t.dir, partition, extra);
  return { ...t, partition, file, site };
}

export async function makeSnapshots(partition: string, server: string, instants: Date[], opts: { ownBytes?: number } = {}): Promise<string[]> {
  const dir = C.snapshotsDir(partition, server);
  await mkdir(dir, { recursive: true });
  const stamps = instants.map((d) => C.snapshotStamp(d)).sort();
  const rel = path.posix.join('web', 'v2.example.ch', 'hydro');
  let first: string | undefined;
  for (const stamp of stamps) {
    const app = path.join(C.snapshotDir(partition, server, stamp), rel);
    await mkdir(app, { recursive: true });
    const shared = path.join(app, 'shared.txt');
    if (first) await link(first, shared);
    else {
      await writeFile(shared, 'unchanged content\n');
      first = shared;
    }
    await writeFile(path.join(app, 'own.txt'), opts.ownBytes ? Buffer.alloc(opts.ownBytes, stamp) : `snapshot ${stamp}\n`);
  }
  await setCurrent(partition, server, stamps[stamps.length - 1]!);
  return stamps;
}

/** Points `remote/<server>` at a snapshot, atomically (symlink beside it, then rename). */
export async function setCurrent(partition: string, server: string, stamp: string): Promise<void> {
  const linkPath = C.remoteServerDir(partition, server);
  await mkdir(path.dirname(linkPath), { recursive: true });
  const tmp = `${linkPath}.tmp-link`;
  await rm(tmp, { force: true });
  await symlink(C.currentLinkTarget(server, stamp), tmp);
  const { rename } = await import('node:fs/promises');
  await rename(tmp, linkPath);
}

/** Stamps of the complete snapshots present. */
export async function listStamps(partition: string, server: string): Promise<string[]> {
  const dir = C.snapshotsDir(partition, server);
  const out: string[] = [];
  for (const n of await readdir(dir)) if (C.isStamp(n) && (await lstat(path.join(dir, n))).isDirectory()) out.push(n);
  return out.sort();
}

/** One backup per local day at 04:00 in `timeZone` from `from` to `to` (YYYY-MM-DD, inclusive). */
export function dailyAt(from: string, to: string, timeZone: string, hhmm = '04:00'): Date[] {
  const out: Date[] = [];
  const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  for (let d = Date.parse(`${from}T12:00:00Z`); d <= Date.parse(`${to}T12:00:00Z`); d += 86_400_000) {
    const day = new Date(d).toISOString().slice(0, 10);
    const wall = `${day} ${hhmm}`;
    const guess = Date.parse(`${day}T${hhmm}:00Z`);
    let found: Date | undefined;
    for (let off = -14 * 60; off <= 14 * 60 && !found; off += 15) {
      const t = new Date(guess - off * 60_000);
      if (fmt.format(t) === wall) found = t;
    }
    if (!found) throw new Error(`no ${wall} in ${timeZone}`);
    out.push(found);
  }
  return out;
}
