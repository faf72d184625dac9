/** Small file-system helpers with tierback's safety defaults: 0700 folders, 0600 files, atomic writes. */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, realpath, rename, rm, lstat, stat } from 'node:fs/promises';
import path from 'node:path';
import { RefusedError } from './errors.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export async function ensureDir(dir: string, mode = DIR_MODE): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}

/** Writes a whole file atomically: temp sibling, fsync, rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = FILE_MODE): Promise<void> {
  await writeChunksAtomic(file, [data], mode);
}

/**
 * Writes a file atomically from chunks (temp sibling, fsync, rename), buffering about 1 MB at a
 * time: a large page never has to be one string. A failure leaves the old file as it was.
 */
export async function writeChunksAtomic(file: string, chunks: Iterable<string | Uint8Array>, mode = FILE_MODE): Promise<void> {
  await ensureDir(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'wx', mode);
  try {
    let buf = '';
    for (const c of chunks) {
      if (typeof c !== 'string') {
        if (buf) await fh.writeFile(buf);
        buf = '';
        await fh.writeFile(c);
        continue;
      }
      buf += c;
      if (buf.length >= 1 << 20) {
        await fh.writeFile(buf);
        buf = '';
      }
    }
    if (buf) await fh.writeFile(buf);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Whether anything (a link too, even a dangling one) is at `p`. */
export async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether `p` is a folder, or a link to one. */
export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Refuses `target` unless it resolves (following symlinks of every existing ancestor)
 * to a place inside `root`. Guards against symlinks escaping the partition.
 */
export async function assertInside(root: string, target: string): Promise<string> {
  const realRoot = await realpath(root);
  let probe = path.resolve(target);
  const tail: string[] = [];
  // Walk up to the deepest existing ancestor, resolve it, re-append the rest.
  for (;;) {
    try {
      const real = await realpath(probe);
      const full = path.join(real, ...tail.reverse());
      const rel = path.relative(realRoot, full);
      if (rel.startsWith('..') || path.isAbsolute(rel)) {
        throw new RefusedError(`${target} resolves to ${full}, outside ${root}`, 'a symlink points out of the backup partition; remove it or fix the path');
      }
      return full;
    } catch (err) {
      if (err instanceof RefusedError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = path.dirname(probe);
      if (parent === probe) throw err;
      tail.push(path.basename(probe));
      probe = parent;
    }
  }
}

/**
 * Appends one line to a log file (history, move records), creating it 0600 with `header` as its
 * first line if it does not exist. One write() of one line with O_APPEND: concurrent writers never
 * interleave within a line.
 */
export async function appendLogLine(file: string, header: string, line: string): Promise<void> {
  await ensureDir(path.dirname(file));
  let fh;
  try {
    fh = await open(file, 'wx', FILE_MODE);
    await fh.writeFile(`${header}\n`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fh?.close();
  }
  await appendFile(file, `${line}\n`, { mode: FILE_MODE });
}
