/**
 * The snapshot engines, in one list (docs/remote.md, "Snapshot engines"). A backup server's engine
 * comes from the inventory (`backup_servers[].snapshots: hardlink | btrfs | auto`); deleting and
 * describing go by what each snapshot folder is, so snapshots made before a change of engine are
 * still pruned and copied the right way.
 */
import { btrfsEngine, isSubvolume, onBtrfs } from './btrfs.js';
import { hardlinkEngine } from './hardlink.js';
import type { EngineName, SnapshotEngine } from './types.js';

export type EngineSetting = EngineName | 'auto';

export const ENGINES: readonly SnapshotEngine[] = [hardlinkEngine, btrfsEngine];

export function getEngine(name: EngineName): SnapshotEngine {
  const e = ENGINES.find((x) => x.name === name);
  if (!e) throw new TypeError(`unknown snapshot engine "${name}"`);
  return e;
}

/** The engine a pull into `snapshotsParent` uses: the setting, with `auto` = btrfs when that folder is on btrfs. */
export async function engineFor(setting: EngineSetting, snapshotsParent: string): Promise<SnapshotEngine> {
  if (setting === 'auto') return (await onBtrfs(snapshotsParent)) ? btrfsEngine : hardlinkEngine;
  return getEngine(setting);
}

/** The engine that made `dir` (for delete and describe): btrfs for a subvolume, else hardlink. */
export async function engineOf(dir: string): Promise<SnapshotEngine> {
  return (await isSubvolume(dir)) ? btrfsEngine : hardlinkEngine;
}

/** Deletes snapshot folders, each the way its engine made it (btrfs subvolumes: `btrfs subvolume delete`; folders: `rm -rf`). */
export async function deleteSnapshots(dirs: readonly string[], exec: import('../../../base/exec.js').Exec, signal?: AbortSignal): Promise<void> {
  await btrfsEngine.delete(dirs, exec, signal);
}
