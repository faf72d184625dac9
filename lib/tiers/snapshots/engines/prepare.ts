/**
 * The folder a pull writes into, made by the backup server's snapshot engine: the newest `.partial`
 * an interrupted run left (renamed to the new stamp, so rsync resumes over what it already copied;
 * older ones deleted the way their engine made them), else a new one the engine creates from the
 * newest complete snapshot.
 */
import { rename } from 'node:fs/promises';
import { partialSnapshotDir, snapshotDir, snapshotsDir } from '../../../model/convention.js';
import type { Exec } from '../../../base/exec.js';
import { ensureDir } from '../../../base/fsutil.js';
import type { SnapshotState } from '../snapshots.js';
import { deleteSnapshots, engineFor, type EngineSetting } from './registry.js';
import type { PreparedSnapshot, SnapshotEngine } from './types.js';

export interface PreparedPull extends PreparedSnapshot {
  engine: SnapshotEngine;
  /** The `.partial` folder. */
  dir: string;
  /** The stamp of the `.partial` this run resumed, if any. */
  resumed: string | undefined;
  /** The newest complete snapshot the new one starts from. */
  from: string | undefined;
}

export async function prepareSnapshot(setting: EngineSetting, partition: string, server: string, stamp: string, state: SnapshotState, exec: Exec): Promise<PreparedPull> {
  await ensureDir(snapshotsDir(partition, server));
  const engine = await engineFor(setting, snapshotsDir(partition, server));
  const dir = partialSnapshotDir(partition, server, stamp);
  const fromStamp = state.complete.at(-1) ?? state.current;
  const from = fromStamp ? snapshotDir(partition, server, fromStamp) : undefined;
  const stale = [...state.partials];
  const newest = stale.pop();
  await deleteSnapshots(stale.map((s) => partialSnapshotDir(partition, server, s)), exec);
  if (newest) {
    await rename(partialSnapshotDir(partition, server, newest), dir);
    return { engine, dir, resumed: newest, from, ...(await engine.resume(dir, from, exec)) };
  }
  return { engine, dir, resumed: undefined, from, ...(await engine.create(dir, from, exec)) };
}

/**
 * Whether rsync writes files in place (--inplace) rather than into a temp file renamed over the old one:
 * in a copy-on-write snapshot (a changed file keeps sharing its unchanged blocks, and nothing leaks into
 * the older snapshot), and in the new empty folder of a first pull, which shares no inode with anything
 * (one file created per file instead of a temp file and a rename: about 9% less time on ext4, measured by
 * bench/pull.ts). A resumed `.partial` goes by temp files unless it is copy-on-write: what an earlier
 * attempt left there is not known to be unshared.
 */
export function writesInPlace(p: { inPlace: boolean; from: string | undefined; resumed: string | undefined }): boolean {
  return p.inPlace || (!p.from && !p.resumed);
}
