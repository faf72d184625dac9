/**
 * Snapshot engines: how a backup server makes, seals, deletes and describes the dated snapshots of a
 * pulled server (docs/remote.md, "Snapshot engines"). One file per engine, listed in registry.ts;
 * the pull's atomic switch of `remote/<server>` (a symlink, lib/tiers/snapshots/snapshots.ts) is the same for all.
 */
import type { Exec } from '../../../base/exec.js';

export type EngineName = 'hardlink' | 'btrfs';

/** The folder a pull writes into, as an engine prepared it. */
export interface PreparedSnapshot {
  /** rsync --link-dest for the transfer (hardlink engine), undefined when the folder starts as a copy. */
  linkDest: string | undefined;
  /** The folder already holds the previous snapshot's tree (copy-on-write): rsync updates it with --inplace. */
  inPlace: boolean;
}

export interface SnapshotDescription {
  engine: EngineName;
  /** Read-only (btrfs: sealed subvolume); hardlinked folders are never read-only. */
  readOnly: boolean;
  /** Engine-specific facts (btrfs: uuid, parent uuid, generation). */
  facts: Record<string, string>;
}

export interface SnapshotEngine {
  name: EngineName;
  /**
   * Makes `dir` (a `<stamp>.partial` path that does not exist yet) the folder the pull writes into,
   * from `from` (the newest complete snapshot; undefined on a first pull).
   */
  create(dir: string, from: string | undefined, exec: Exec): Promise<PreparedSnapshot>;
  /** What a resumed `.partial` (left by an interrupted pull) needs from rsync. */
  resume(dir: string, from: string | undefined, exec: Exec): Promise<PreparedSnapshot>;
  /** Makes a complete snapshot immutable before it is named and made current. */
  seal(dir: string, exec: Exec): Promise<void>;
  /** Deletes snapshot folders (never the current one: callers check). */
  delete(dirs: readonly string[], exec: Exec, signal?: AbortSignal): Promise<void>;
  /** What `dir` is. */
  describe(dir: string, exec: Exec): Promise<SnapshotDescription>;
}
