/**
 * Dated snapshots of one pulled server: which one is current, which `.partial` folders an
 * interrupted run left behind, and the atomic switch of `<partition>/remote/<server>`.
 */
import { randomBytes } from 'node:crypto';
import { lstat, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { currentLinkTarget, currentLinkTempPath, parseCurrentLinkTarget, parseSnapshotEntry, partialSnapshotDir, remoteRoot, remoteServerDir, snapshotDir, snapshotsDir } from '../../model/layout.js';
import { snapshotStamp } from '../../model/names.js';
import { RefusedError } from '../../base/errors.js';
import { ensureDir, exists } from '../../base/fsutil.js';

export interface SnapshotState {
  /** Stamp the `remote/<server>` symlink points to, if any. */
  current: string | undefined;
  /** Complete snapshots, oldest first. */
  complete: string[];
  /** Stamps of `.partial` folders (interrupted pulls), oldest first. */
  partials: string[];
}

export async function readSnapshotState(partition: string, server: string): Promise<SnapshotState> {
  const dir = snapshotsDir(partition, server);
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const entries = names.map(parseSnapshotEntry);
  const complete = entries.flatMap((e) => (e?.state === 'complete' ? [e.stamp] : [])).sort();
  const partials = entries.flatMap((e) => (e?.state === 'partial' ? [e.stamp] : [])).sort();
  return { current: await currentStamp(partition, server), complete, partials };
}

/** The stamp `remote/<server>` points to; undefined when there is no link yet. Refuses a real folder there. */
export async function currentStamp(partition: string, server: string): Promise<string | undefined> {
  const link = remoteServerDir(partition, server);
  let st;
  try {
    st = await lstat(link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!st.isSymbolicLink()) {
    throw new RefusedError(
      `${link} is a real ${st.isDirectory() ? 'folder' : 'file'}, not tierback's link to the current snapshot`,
      `move it away (e.g. to ${snapshotsDir(partition, server)}/<yyyy-mm-ddThhmmssZ> to keep it as the first snapshot), then pull again`,
    );
  }
  const target = await readlink(link);
  const stamp = parseCurrentLinkTarget(server, target);
  if (stamp === undefined) {
    throw new RefusedError(`${link} points to ${target}, not to a snapshot of ${server}`, `remove the link; the next pull recreates it`);
  }
  return stamp;
}

/** A stamp for `now` that names no existing snapshot or partial (pulls within the same second get the next free second). */
export async function freeStamp(partition: string, server: string, now: Date): Promise<string> {
  let t = now.getTime();
  for (;;) {
    const stamp = snapshotStamp(new Date(t));
    if (!(await exists(snapshotDir(partition, server, stamp))) && !(await exists(partialSnapshotDir(partition, server, stamp)))) return stamp;
    t += 1000;
  }
}

/**
 * Picks the folder this pull writes into: the newest `.partial` an interrupted run left (renamed to
 * the new stamp, so rsync resumes over what it already copied), else a fresh one. Older partials are
 * removed. Returns the partial path and whether it resumed.
 */
export async function preparePartial(partition: string, server: string, stamp: string, state: SnapshotState): Promise<{ dir: string; resumed: string | undefined }> {
  await ensureDir(snapshotsDir(partition, server));
  const dir = partialSnapshotDir(partition, server, stamp);
  const stale = [...state.partials];
  const newest = stale.pop();
  for (const s of stale) await rm(partialSnapshotDir(partition, server, s), { recursive: true, force: true });
  if (newest) {
    await rename(partialSnapshotDir(partition, server, newest), dir);
    return { dir, resumed: newest };
  }
  return { dir, resumed: undefined };
}

/** Makes `remote/<server>` point to `stamp`: new symlink under a temp name, then rename(2) over the old one. */
export async function switchCurrent(partition: string, server: string, stamp: string): Promise<void> {
  await ensureDir(remoteRoot(partition));
  const link = remoteServerDir(partition, server);
  const tmp = currentLinkTempPath(partition, server, randomBytes(4).toString('hex'));
  await symlink(currentLinkTarget(server, stamp), tmp);
  try {
    await rename(tmp, link);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
