/**
 * The btrfs engine: each snapshot is a btrfs subvolume. A pull starts from a writable snapshot of
 * the newest complete one (`btrfs subvolume snapshot`: O(1), whatever the tree's size), rsync updates
 * it in place (`--inplace`: a changed file shares its unchanged blocks with the older snapshot, and a
 * metadata change touches only the new subvolume's inode), then it is made read-only
 * (`btrfs property set -ts <dir> ro true`) and becomes current with the same atomic switch as the
 * hardlink engine. Deleting is `btrfs subvolume delete` (no walk). A first pull creates an empty
 * subvolume. docs/remote.md, "Snapshot engines".
 */
import { lstat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { TierbackError } from '../../../base/errors.js';
import type { Exec } from '../../../base/exec.js';
import { REMOVE_JOBS, removeTreesInParallel } from '../remove.js';
import type { PreparedSnapshot, SnapshotDescription, SnapshotEngine } from './types.js';

/** statfs f_type of btrfs. */
export const BTRFS_SUPER_MAGIC = 0x9123683e;
/** Inode number of the root folder of every btrfs subvolume. */
const SUBVOLUME_ROOT_INO = 256;

/** True when `dir` is on a btrfs filesystem. */
export async function onBtrfs(dir: string): Promise<boolean> {
  try {
    return (await statfs(dir)).type === BTRFS_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/** True when `dir` is the root of a btrfs subvolume (a btrfs snapshot). */
export async function isSubvolume(dir: string): Promise<boolean> {
  const st = await lstat(dir).catch(() => undefined);
  return !!st && st.isDirectory() && st.ino === SUBVOLUME_ROOT_INO && (await onBtrfs(dir));
}

const need = 'the btrfs engine needs btrfs-progs (apt-get install btrfs-progs) and a partition on btrfs (docs/remote.md, "Snapshot engines")';

async function btrfs(exec: Exec, args: string[], signal?: AbortSignal): Promise<string> {
  try {
    return (await exec.run({ argv: ['btrfs', ...args], env: { LC_ALL: 'C' } }, signal)).stdout;
  } catch (err) {
    throw new TierbackError(`btrfs ${args[0]} ${args[1] ?? ''} failed: ${(err as Error).message.slice(0, 500)}`, { hint: need });
  }
}

export const btrfsEngine: SnapshotEngine = {
  name: 'btrfs',
  async create(dir: string, from: string | undefined, exec: Exec): Promise<PreparedSnapshot> {
    if (!(await onBtrfs(path.dirname(dir)))) throw new TierbackError(`${path.dirname(dir)} is not on a btrfs filesystem`, { hint: need });
    if (from && (await isSubvolume(from))) {
      await btrfs(exec, ['subvolume', 'snapshot', '--', from, dir]);
      return { linkDest: undefined, inPlace: true };
    }
    // First pull, or the newest snapshot is a hardlinked folder (engine changed): a fresh subvolume,
    // filled by rsync (--link-dest at a plain folder keeps its files shared while it exists).
    await btrfs(exec, ['subvolume', 'create', '--', dir]);
    return { linkDest: from, inPlace: false };
  },
  async resume(dir: string, from: string | undefined): Promise<PreparedSnapshot> {
    // A writable snapshot of `from` a pull already updated in part: rsync goes on in place.
    if (await isSubvolume(dir)) return { linkDest: from && !(await isSubvolume(from)) ? from : undefined, inPlace: !!from && (await isSubvolume(from)) };
    return { linkDest: from, inPlace: false };
  },
  async seal(dir: string, exec: Exec): Promise<void> {
    if (await isSubvolume(dir)) await btrfs(exec, ['property', 'set', '-ts', dir, 'ro', 'true']);
  },
  async delete(dirs: readonly string[], exec: Exec, signal?: AbortSignal): Promise<void> {
    const subvolumes: string[] = [];
    const folders: string[] = [];
    for (const d of dirs) ((await isSubvolume(d)) ? subvolumes : folders).push(d);
    // --commit-after is not asked for: the space is given back in the background, as btrfs does.
    for (let i = 0; i < subvolumes.length; i += 64) await btrfs(exec, ['subvolume', 'delete', '--', ...subvolumes.slice(i, i + 64)], signal);
    if (folders.length) await removeTreesInParallel(folders, exec, REMOVE_JOBS, signal);
  },
  async describe(dir: string, exec: Exec): Promise<SnapshotDescription> {
    if (!(await isSubvolume(dir))) return { engine: 'hardlink', readOnly: false, facts: {} };
    const show = await btrfs(exec, ['subvolume', 'show', '--', dir]);
    const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.+)$`, 'm').exec(show)?.[1]?.trim();
    const flags = field('Flags') ?? '';
    const facts: Record<string, string> = {};
    for (const [k, label] of [['uuid', 'UUID'], ['parent_uuid', 'Parent UUID'], ['generation', 'Generation']] as const) {
      const v = field(label);
      if (v !== undefined) facts[k] = v;
    }
    return { engine: 'btrfs', readOnly: /readonly/.test(flags), facts };
  },
};
