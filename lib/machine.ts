/**
 * What this machine sees. Every path in the inventory is absolute; `root` (`--root DIR` /
 * `$TIERBACK_ROOT`, default "/") is prepended to read them on disk, so tests and the demo can hold
 * whole partitions in a temporary folder.
 */
import path from 'node:path';

/** The on-disk location of an inventory path under `root`. */
export function diskPath(root: string | undefined, logical: string): string {
  return !root || root === '/' ? logical : path.join(root, logical);
}
