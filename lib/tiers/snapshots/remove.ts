/**
 * Removing folder trees as fast as `rm -rf` (several `rm` processes on disjoint subtrees): how the
 * hardlink engine deletes a snapshot (lib/tiers/snapshots/engines/hardlink.ts).
 */
import { lstat, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Exec } from '../../base/exec.js';

/** Removes folder trees as fast as `rm -rf` (it is `rm -rf --one-file-system`, as an argv). */
export async function removeTrees(dirs: readonly string[], exec: Exec, signal?: AbortSignal): Promise<void> {
  if (dirs.length === 0) return;
  await exec.run({ argv: ['rm', '-rf', '--one-file-system', '--', ...dirs] }, signal);
}

/** Parallel `rm` processes used to remove one large tree (the machine's cores, at most 4). */
export const REMOVE_JOBS = Math.max(1, Math.min(4, os.availableParallelism()));

/**
 * Removes one tree with up to `jobs` `rm -rf` processes working on disjoint subtrees at once, then
 * the emptied skeleton. Subtrees are found by a breadth-first listing that descends only into real
 * folders (never through symlinks: `rm` removes a symlink, never what it points to).
 */
export async function removeTree(dir: string, exec: Exec, jobs = REMOVE_JOBS, signal?: AbortSignal): Promise<void> {
  const top = await lstat(dir).catch(() => undefined);
  if (jobs > 1 && top?.isDirectory()) {
    let level: { p: string; dir: boolean }[] = [{ p: dir, dir: true }];
    for (let depth = 0; depth < 4 && level.length < jobs * 8; depth++) {
      const next: { p: string; dir: boolean }[] = [];
      for (const d of level) {
        if (!d.dir) {
          next.push(d);
          continue;
        }
        for (const e of await readdir(d.p, { withFileTypes: true }).catch(() => [])) {
          next.push({ p: path.posix.join(d.p, e.name), dir: e.isDirectory() });
        }
      }
      if (next.length === 0 || next.length > 4096) break; // enough to share; never hold a huge listing
      level = next;
    }
    if (level.length >= jobs && level[0]!.p !== dir) {
      const groups: string[][] = Array.from({ length: jobs }, () => []);
      level.forEach((x, i) => groups[i % jobs]!.push(x.p));
      await Promise.all(groups.map((g) => removeTrees(g, exec, signal)));
    }
  }
  await removeTrees([dir], exec, signal);
}

/** Removes several trees: one alone with removeTree's parallel `rm`s, several shared among REMOVE_JOBS `rm`s. */
export async function removeTreesInParallel(dirs: readonly string[], exec: Exec, jobs = REMOVE_JOBS, signal?: AbortSignal): Promise<void> {
  if (dirs.length === 1) return removeTree(dirs[0]!, exec, jobs, signal);
  const groups: string[][] = Array.from({ length: Math.min(jobs, dirs.length) }, () => []);
  dirs.forEach((d, i) => groups[i % groups.length]!.push(d));
  await Promise.all(groups.map((g) => removeTrees(g, exec, signal)));
}

