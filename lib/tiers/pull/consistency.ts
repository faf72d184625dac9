/**
 * One version of every app in a pulled snapshot, never a mixture (docs/remote.md, "Apps replaced
 * during a pull").
 *
 * A job replaces its app's folder `<vm>/<relpath>/` with one rename(2) once its new backup is
 * complete, and the folder's manifest names the run that wrote it (`# run`, lib/tiers/jobs/manifest.ts). A
 * pull copying that folder while the job swaps would get some files of each version. So the pull
 * reads every app's manifest at the source before the copy and after it (one small rsync of those
 * files, through the same restricted key), and the copy's own: an app whose three markers are equal
 * was not replaced while it was copied (run ids are unique, a swap always installs a new one). Any
 * other app is copied again, markers read around each copy, at most `recopies` times; if its job
 * keeps replacing it, the previous snapshot's copy is put back (hardlinks) and the pull ends with a
 * warning naming the app. Cost: two reads of O(apps) small files per pull; nothing re-walks or
 * re-hashes the tree.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MANIFEST_FILE, localAppDir, localRoot, manifestPath } from '../../model/layout.js';
import { manifestTotals, runOf } from '../jobs/manifest.js';
import { unsafeLevel } from '../../model/treecheck.js';
import { isSubvolume } from '../snapshots/engines/btrfs.js';
import { CommandError, TierbackError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { DIR_MODE, ensureDir, exists } from '../../base/fsutil.js';
import type { Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { RSYNC_VANISHED, describeRsyncExit, rshString, rsyncArgv, type RsyncPlan } from './rsync.js';
import type { WrittenTotals } from './budget.js';

/** Copies of an app tried after the first, when its job replaced it meanwhile (default). */
export const DEFAULT_RECOPIES = 2;

/** An app folder of the pulled server, relative to its local tree (`<vm>/<relpath>`). */
export interface AppFolder {
  app: string;
  rel: string;
}

/** What a check found: apps copied again (now consistent), apps whose previous copy was kept. */
export interface Settled {
  recopied: string[];
  kept: string[];
  warning: string | undefined;
}

/** The marker of a folder: its manifest's run id, else a hash of the manifest (older versions), else "absent". */
export function markerOf(manifest: string | undefined): string {
  if (manifest === undefined) return 'absent';
  const run = runOf(manifest);
  return run ? `run ${run}` : `sha256 ${createHash('sha256').update(manifest).digest('hex')}`;
}

/**
 * True when no existing component of `rel` below `root` is a symbolic link: only then does the
 * check read, copy into, remove or link from `root/rel` (a link from the source tree must never
 * lead it out of the snapshot).
 */
export async function plainPath(root: string, rel: string): Promise<boolean> {
  try {
    return unsafeLevel(root, rel.split('/'))?.kind !== 'symlink';
  } catch {
    return true; // unreadable: nothing there to follow (what reads it next fails on its own)
  }
}

/** The marker of the manifest in `dir`; a manifest that is a symbolic link is never followed. */
async function readMarker(dir: string): Promise<string> {
  let fh;
  try {
    fh = await open(manifestPath(dir), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'not a file' : markerOf(undefined);
  }
  try {
    return markerOf(await fh.readFile('utf8'));
  } finally {
    await fh.close();
  }
}

/** The app folders of `server` in the inventory, sorted. */
export function appFolders(site: Site, server: string): AppFolder[] {
  const src = site.servers.find((s) => s.fqdn === server);
  if (!src) return [];
  const root = localRoot(src.partition);
  return site.apps
    .filter((a) => a.server === server)
    .map((a) => ({ app: a.name, rel: path.posix.relative(root, localAppDir(src.partition, a.vm, a.relpath)) }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * Reads the markers of `apps` at the source: one rsync of their manifests (`--files-from`, missing
 * ones skipped) into a private temp folder. Throws when rsync fails (the pull then fails, unswitched).
 */
export async function readSourceMarkers(exec: Exec, plan: RsyncPlan, apps: readonly AppFolder[], signal?: AbortSignal): Promise<Map<string, string>> {
  if (apps.length === 0) return new Map();
  const fetched = await fetchSourceFiles(exec, plan, apps, [MANIFEST_FILE], signal);
  try {
    return await markersIn(fetched.dir, apps);
  } finally {
    await fetched.cleanup();
  }
}

/** The markers of the manifests fetched into `dir` (`<dir>/<rel>/<manifest>`). */
export async function markersIn(dir: string, apps: readonly AppFolder[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const a of apps) out.set(a.rel, (await plainPath(dir, a.rel)) ? await readMarker(path.join(dir, a.rel)) : 'not a file');
  return out;
}

/**
 * What the jobs wrote, by the manifests fetched into `dir`: files and bytes summed over the apps
 * whose manifest gives its totals (`apps`: how many did). Lets a first pull choose its streams.
 */
export async function totalsIn(dir: string, apps: readonly AppFolder[]): Promise<WrittenTotals> {
  const out: WrittenTotals = { files: 0, bytes: 0, apps: 0 };
  for (const a of apps) {
    const t = (await plainPath(dir, a.rel)) ? await manifestTotals(path.join(dir, a.rel)) : undefined;
    if (!t) continue;
    out.files += t.files;
    out.bytes += t.bytes;
    out.apps++;
  }
  return out;
}

/** The rsync that fetches the files named in `list` (relative to the source) into `dest`. */
export function fetchArgv(plan: RsyncPlan, list: string, dest: string): string[] {
  const argv = ['rsync', '-a', '--numeric-ids', `--files-from=${list}`, '--ignore-missing-args'];
  if (plan.ioTimeoutS && plan.ioTimeoutS > 0) argv.push(`--timeout=${Math.ceil(plan.ioTimeoutS)}`);
  if (plan.rsh) argv.push('-e', rshString(plan.rsh));
  return [...argv, '--', plan.source, `${dest}/`];
}

/**
 * Fetches the files `names` of every app folder (e.g. the manifest and the change list) from the source
 * in one rsync (`--files-from`, missing ones skipped, no walk) into `<dir>/<rel>/`, a private temp
 * folder the caller removes with `cleanup`. Throws a TierbackError when rsync fails.
 */
export async function fetchSourceFiles(exec: Exec, plan: RsyncPlan, apps: readonly AppFolder[], names: readonly string[], signal?: AbortSignal): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'tierback-markers-'));
  const cleanup = () => rm(tmp, { recursive: true, force: true });
  const dest = path.join(tmp, 'm');
  try {
    if (apps.length === 0) return { dir: dest, cleanup };
    const list = path.join(tmp, 'list');
    await writeFile(list, apps.map((a) => names.map((n) => `${a.rel}/${n}\n`).join('')).join(''), { mode: 0o600 });
    const argv = fetchArgv(plan, list, dest);
    try {
      await exec.run({ argv, env: { LC_ALL: 'C' }, okCodes: [0, RSYNC_VANISHED] }, signal);
    } catch (err) {
      if (signal?.aborted) throw new TierbackError('interrupted: the pull was cancelled', { exitCode: 130 });
      const code = err instanceof CommandError ? err.code : undefined;
      throw new TierbackError(`cannot read the apps' manifests at the source${code === undefined ? '' : ` (${describeRsyncExit(code)})`}: ${(err as Error).message.slice(0, 500)}`, {
        hint: 'a pull checks that no app was replaced by its job while it was copied, from their manifests; fix the cause and pull again',
      });
    }
    return { dir: dest, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export interface CheckOptions {
  exec: Exec;
  log: Logger;
  /** The pull's rsync plan (source, ssh, timeouts); `dest` is the new snapshot being written. */
  plan: RsyncPlan;
  apps: readonly AppFolder[];
  /** Markers read at the source before the copy started. */
  before: Map<string, string>;
  /** The previous complete snapshot (what a torn app falls back to). */
  previous: string | undefined;
  recopies?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * After the copy: finds the apps whose markers differ (source before, source after, the copy), copies
 * them again until they agree, and puts the previous snapshot's copy back for those that never do.
 */
export async function settleApps(o: CheckOptions): Promise<Settled> {
  const { exec, log, plan, signal } = o;
  const dest = plan.dest;
  const notes: string[] = [];
  const apps: AppFolder[] = [];
  for (const a of o.apps) {
    if (await plainPath(dest, a.rel)) apps.push(a);
    else notes.push(`app ${a.app} (${a.rel}): the source has a symbolic link on the way to its folder, so this snapshot holds a link, not the app, and it was not checked`);
  }
  const consistent = async (a: AppFolder, before: Map<string, string>, after: Map<string, string>) => {
    const m = after.get(a.rel);
    return before.get(a.rel) === m && (await readMarker(path.join(dest, a.rel))) === m;
  };
  let after = await readSourceMarkers(exec, plan, apps, signal);
  let torn: AppFolder[] = [];
  for (const a of apps) if (!(await consistent(a, o.before, after))) torn.push(a);
  const recopied = new Set<string>();
  const limit = o.recopies ?? DEFAULT_RECOPIES;
  for (let attempt = 1; torn.length > 0 && attempt <= limit; attempt++) {
    log.warn({ apps: torn.map((a) => a.app), attempt }, 'apps replaced by their jobs while they were copied: copying them again');
    const before = after;
    for (const a of torn) {
      recopied.add(a.app);
      await recopy(exec, plan, a, o.previous, log, signal);
    }
    after = await readSourceMarkers(exec, plan, torn, signal);
    const still: AppFolder[] = [];
    for (const a of torn) if (!(await consistent(a, before, after))) still.push(a);
    torn = still;
  }
  if (signal?.aborted) throw new TierbackError('interrupted: the pull was cancelled', { exitCode: 130 });
  const kept: string[] = [];
  for (const a of torn) {
    const had = await keepPrevious(exec, dest, o.previous, a);
    kept.push(a.app);
    recopied.delete(a.app);
    const copies = `${limit + 1} ${limit === 0 ? 'copy' : 'copies'}`;
    notes.push(`app ${a.app} (${a.rel}) was replaced by its job while it was copied (${copies}): ${had ? 'the previous snapshot\'s copy was kept' : 'left out of this snapshot (no previous copy)'}`);
    log.warn({ app: a.app, kept: had }, 'app still changing after every copy');
  }
  return { recopied: [...recopied], kept, warning: notes.length ? notes.join('; ') : undefined };
}

/** The previous snapshot's copy of the app, if it has one (reached without symbolic links). */
async function previousCopy(previous: string | undefined, a: AppFolder): Promise<string | undefined> {
  if (!previous || !(await plainPath(previous, a.rel))) return undefined;
  const prev = path.join(previous, a.rel);
  return (await exists(prev)) ? prev : undefined;
}

/**
 * Copies one app folder again into the new snapshot (the pull's options, with checksums: a job that
 * ran twice within one second can leave files of equal size and mtime; rsync's failures are left to
 * the markers).
 */
async function recopy(exec: Exec, plan: RsyncPlan, a: AppFolder, previous: string | undefined, log: Logger, signal: AbortSignal | undefined): Promise<void> {
  const target = path.join(plan.dest, a.rel);
  await ensureDir(path.dirname(target), DIR_MODE);
  const prev = await previousCopy(previous, a);
  // In a copy-on-write snapshot (btrfs engine) the folder already shares the previous copy's blocks.
  const argv = rsyncArgv({ ...plan, source: `${plan.source}${a.rel}/`, dest: target, linkDest: plan.inPlace ? undefined : prev, progress: false, checksum: true });
  try {
    await exec.run({ argv, env: { LC_ALL: 'C' }, okCodes: [0, RSYNC_VANISHED] }, signal);
  } catch (err) {
    log.warn({ app: a.app, err: (err as Error).message.slice(0, 500) }, 'copying the app again failed');
  }
}

/** Replaces the app's folder in the new snapshot by the previous snapshot's (hardlinks); false when there is none. */
async function keepPrevious(exec: Exec, dest: string, previous: string | undefined, a: AppFolder): Promise<boolean> {
  const target = path.join(dest, a.rel);
  await rm(target, { recursive: true, force: true });
  const prev = await previousCopy(previous, a);
  if (!prev) return false;
  await ensureDir(path.dirname(target), DIR_MODE);
  // Hardlinks cannot cross btrfs subvolumes: there the copy shares blocks instead (reflink).
  await exec.run({ argv: (await isSubvolume(dest)) ? ['cp', '-a', '--reflink=always', '--', prev, target] : ['cp', '-al', '--', prev, target] });
  return true;
}
