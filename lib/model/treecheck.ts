/**
 * Is a path below a trusted root free of symlinks? tierback never writes through a symlink in a
 * backup tree: a symlinked `local/<vm>`, `_host`, `_history` or relpath folder would put backups,
 * locks and history outside the partition. Sync and cheap (one lstat per level), so status can
 * ask it for every app.
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { HISTORY_DIR } from './layout.js';

export interface UnsafeLevel {
  /** The offending path (root joined with the segments up to it). */
  path: string;
  /** Index of the offending segment. */
  index: number;
  kind: 'symlink' | 'not a folder' | 'not a file';
  /** What a symlink points to, as written in it. */
  linkTarget?: string | undefined;
  /** Where a symlink resolves to, when it resolves. */
  resolved?: string | undefined;
}

/**
 * The first of `root/s0`, `root/s0/s1`, ... that is a symlink, or exists and is not a folder
 * (not a regular file for the last one when `lastIsFile`). Stops at the first level that does not
 * exist (nothing below it can). `root` itself is trusted as configured.
 */
export function unsafeLevel(root: string, segments: readonly string[], opts: { lastIsFile?: boolean } = {}): UnsafeLevel | undefined {
  let p = root;
  for (let i = 0; i < segments.length; i++) {
    p = path.join(p, segments[i]!);
    let st;
    try {
      st = lstatSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) {
      let linkTarget: string | undefined;
      let resolved: string | undefined;
      try {
        linkTarget = readlinkSync(p);
        resolved = realpathSync(p);
      } catch {
        /* dangling: no resolved path */
      }
      return { path: p, index: i, kind: 'symlink', linkTarget, resolved };
    }
    const wantFile = opts.lastIsFile === true && i === segments.length - 1;
    if (wantFile ? !st.isFile() : !st.isDirectory()) return { path: p, index: i, kind: wantFile ? 'not a file' : 'not a folder' };
  }
  return undefined;
}

/** `<path> is a symlink to <target> (resolves to <real>)` / `<path> exists but is not a folder`. */
export function describeUnsafe(u: UnsafeLevel): string {
  if (u.kind === 'symlink') {
    const to = u.linkTarget === undefined ? '' : ` to ${u.linkTarget}`;
    const real = u.resolved === undefined ? ' (dangling)' : u.resolved !== u.linkTarget ? ` (resolves to ${u.resolved})` : '';
    return `${u.path} is a symlink${to}${real}`;
  }
  return `${u.path} exists but is ${u.kind}`;
}

/**
 * Status's view (on the server): why a VM's local folder (or `_host`) or its history folder cannot
 * be trusted (a symlink, or not a folder), or undefined. `partitionOnDisk` is the partition as this
 * machine sees it (with --root applied).
 */
export function localTreeProblem(partitionOnDisk: string, vm: string): string | undefined {
  const u = unsafeLevel(partitionOnDisk, ['local', vm, HISTORY_DIR]);
  return u ? `refused: ${describeUnsafe(u)}; jobs never write through it (replace it by a real folder)` : undefined;
}
