/**
 * Paths inside a point in time, from a request: checked segment by segment against the point's
 * own listing, never by concatenating the request string. Refused: empty or absolute paths,
 * `.`/`..`, NUL, backslashes, percent-encoded forms (the request was decoded once already), and
 * symlinks that leave the point. A symlink inside the point (Capistrano's `current`) may be walked
 * through to browse; a download never follows one (lib/features/web/tar.ts, openNoFollow).
 */
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { RefusedError, NotFoundError } from '../../base/errors.js';

export interface Resolved {
  /** The path as given (segments joined by `/`; '' for the point itself). */
  rel: string;
  /** Where it is on disk (symlinks inside the point walked through, except the last segment). */
  disk: string;
  /** lstat of the last segment: a symlink stays a symlink. */
  stat: Stats;
}

/** The segments of a request path, or a RefusedError naming why not. */
export function splitRequestPath(p: string | undefined): string[] {
  if (p === undefined || p === '' || p === '/') return [];
  if (p.length > 4096) throw new RefusedError('path too long', 'give a path inside the point');
  if (p.startsWith('/')) throw new RefusedError(`absolute path "${p}" refused`, 'give a path relative to the point, e.g. files/report.txt');
  const segs = p.replace(/\/+$/, '').split('/');
  for (const s of segs) {
    if (s === '' || s === '.' || s === '..') throw new RefusedError(`path "${p}" refused: "${s || '//'}" is not a name`, 'give a plain path inside the point');
    if (s.includes('\0')) throw new RefusedError('path refused: NUL byte', 'give a plain path inside the point');
    if (s.includes('\\')) throw new RefusedError(`path "${p}" refused: backslash`, 'give a plain path inside the point');
    if (/%[0-9a-f]{2}/i.test(s)) throw new RefusedError(`path "${p}" refused: encoded characters`, 'encode the path once, as a link of the interface does');
  }
  return segs;
}

function inside(base: string, p: string): boolean {
  return p === base || p.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/** Walks `segs` from the point's folder `base` (its real path), one entry at a time. */
export async function resolveInPoint(base: string, request: string | undefined): Promise<Resolved> {
  const segs = splitRequestPath(request);
  const root = await realpath(base);
  let cur = root;
  let st = await lstat(root);
  for (let i = 0; i < segs.length; i++) {
    if (!st.isDirectory()) throw new NotFoundError(`${segs.slice(0, i).join('/')} is not a folder`, 'open the folder above it');
    const next = path.join(cur, segs[i]!);
    try {
      st = await lstat(next);
    } catch {
      throw new NotFoundError(`no "${segs.slice(0, i + 1).join('/')}" in this point`, 'browse the point to find the name');
    }
    cur = next;
    const last = i === segs.length - 1;
    if (st.isSymbolicLink() && !last) {
      // Walk through a link only when it stays inside the point, by its real path.
      const target = path.resolve(path.dirname(next), await readlink(next));
      let real: string;
      try {
        real = await realpath(target);
      } catch {
        throw new NotFoundError(`"${segs.slice(0, i + 1).join('/')}" is a broken link`, 'it points to nothing in this point');
      }
      if (!inside(root, real)) throw new RefusedError(`"${segs.slice(0, i + 1).join('/')}" is a link that leaves the point`, 'links are shown, never followed outside the backup');
      cur = real;
      st = await lstat(real);
    }
  }
  return { rel: segs.join('/'), disk: cur, stat: st };
}

/** Opens a regular file without following a symlink (O_NOFOLLOW) and checks it is still a regular file. */
export async function openNoFollow(file: string): Promise<FileHandle> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new RefusedError(`${path.basename(file)} is not a regular file`, 'download folders as .tar.gz');
  }
  return fh;
}
