/**
 * The hardlink engine (default): a snapshot is a folder; rsync --link-dest at the previous snapshot
 * makes every unchanged file a hardlink to it, so each pull creates one link per file and one folder
 * per folder. Deleting is `rm -rf` (a walk of the tree).
 */
import { REMOVE_JOBS, removeTreesInParallel } from '../remove.js';
import type { Exec } from '../../../base/exec.js';
import type { PreparedSnapshot, SnapshotDescription, SnapshotEngine } from './types.js';

export const hardlinkEngine: SnapshotEngine = {
  name: 'hardlink',
  async create(_dir: string, from: string | undefined): Promise<PreparedSnapshot> {
    // rsync creates the folder; unchanged files become links to `from`.
    return { linkDest: from, inPlace: false };
  },
  async resume(_dir: string, from: string | undefined): Promise<PreparedSnapshot> {
    return { linkDest: from, inPlace: false };
  },
  async seal(): Promise<void> {
    // A hardlinked snapshot cannot be made read-only without touching the inodes it shares.
  },
  async delete(dirs: readonly string[], exec: Exec, signal?: AbortSignal): Promise<void> {
    await removeTreesInParallel(dirs, exec, REMOVE_JOBS, signal);
  },
  async describe(): Promise<SnapshotDescription> {
    return { engine: 'hardlink', readOnly: false, facts: {} };
  },
};
