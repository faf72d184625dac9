/**
 * Per-app and per-server locks: a lock file holding "pid starttime host".
 *
 * Taking a lock is atomic: the content is written to a temp file in the same folder first, then
 * hard-linked to the lock's name (link(2) fails with EEXIST if the name exists), so a lock file is
 * never seen empty or half-written. A lock whose process is gone (or whose pid now belongs to
 * another process) is stale and is taken over, also race-free: only the holder of the lock's
 * takeover lock (`<lock>` with `.takeover` before `.lock`, taken the same way) may remove a stale
 * lock, and it judges it stale again while holding it. Racers never both win.
 * Temp names end in `.lock` too, so pulls exclude them and orphans ignores them.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LockedError } from './errors.js';
import { ensureDir, FILE_MODE } from './fsutil.js';

export interface Lock {
  file: string;
  release(): Promise<void>;
}

/** Start time of a process (field 22 of /proc/<pid>/stat), to tell a reused pid apart. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), after the ")" that ends the command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** True when process `pid` (started at `start`, when known) is alive on this host. */
export function isAlive(pid: number, start: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (start === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === start;
}

export interface LockHolder {
  pid: number;
  start: string | undefined;
  host: string;
}

function parseHolder(text: string): LockHolder | undefined {
  const [pid, start, host] = text.trim().split(/\s+/);
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  return { pid: n, start: start === '-' ? undefined : start, host: host ?? '' };
}

/** The lock file's content, or undefined when there is no lock file. */
function readContent(file: string): string | undefined {
  try {
    // A sync read of a tiny file: status checks a lock per app, and most do not exist (a failed
    // sync open is far cheaper than a failed async one through the thread pool).
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function readLock(file: string): Promise<LockHolder | undefined> {
  try {
    const text = readContent(file);
    return text === undefined ? undefined : parseHolder(text);
  } catch {
    return undefined;
  }
}

function isLive(holder: LockHolder | undefined): holder is LockHolder {
  return holder !== undefined && (holder.host !== os.hostname() || isAlive(holder.pid, holder.start));
}

/** True when a live process holds the lock. */
export async function isLocked(file: string): Promise<boolean> {
  return isLive(await readLock(file));
}

/** `<dir>/.x.lock` -> `<dir>/.x.<infix>.lock` (still matching the `.*.lock` pull exclude). */
function sibling(file: string, infix: string): string {
  return file.endsWith('.lock') ? `${file.slice(0, -'.lock'.length)}.${infix}.lock` : `${file}.${infix}.lock`;
}

/** The lock that guards taking over a stale `file`. */
export function takeoverPath(file: string): string {
  return sibling(file, 'takeover');
}

/** Creates `file` holding `content`, atomically; false when it exists already. */
async function linkInPlace(file: string, content: string): Promise<boolean> {
  const tmp = sibling(file, `tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', FILE_MODE);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

function myContent(): string {
  return `${process.pid} ${processStartTime(process.pid) ?? '-'} ${os.hostname()}\n`;
}

function lockedError(what: string, file: string, holder: LockHolder): LockedError {
  return new LockedError(`${what} is locked by process ${holder.pid} on ${holder.host || 'this host'} (${file})`, holder.pid);
}

/** Levels of takeover locks (a takeover lock can itself be stale, if its holder died within microseconds). */
const MAX_DEPTH = 3;

async function take(file: string, what: string, me: string, depth: number): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    if (await linkInPlace(file, me)) return;
    const seen = readContent(file);
    if (seen === undefined) continue; // released meanwhile: try again
    const holder = parseHolder(seen);
    if (isLive(holder)) throw lockedError(what, file, holder);
    // Stale (dead holder, reused pid, or an unreadable file): remove it only while holding its
    // takeover lock, and only if it is still the very lock judged stale.
    if (depth >= MAX_DEPTH) break;
    const guard = takeoverPath(file);
    try {
      await take(guard, what, me, depth + 1);
    } catch (err) {
      // Another process is taking it over right now: it wins, or finds a live holder.
      if (err instanceof LockedError) throw new LockedError(`${what} is being taken over from a dead process by another run (${file})`, err.holderPid);
      throw err;
    }
    try {
      // While we hold the guard nobody else removes `file`, and its dead holder never will: if it
      // still has the stale content, the name holds that same stale lock.
      if (readContent(file) === seen) await unlink(file);
    } finally {
      await releaseIfMine(guard, me);
    }
  }
  throw new LockedError(`${what}: could not take the lock ${file}`);
}

async function releaseIfMine(file: string, me: string): Promise<void> {
  let text: string | undefined;
  try {
    text = readContent(file);
  } catch {
    return;
  }
  if (text === me) await unlink(file).catch(() => undefined);
}

/** Takes the lock or throws LockedError naming what holds it. `what` is e.g. 'app "hydro"'. */
export async function acquireLock(file: string, what: string): Promise<Lock> {
  await ensureDir(path.dirname(file));
  const me = myContent();
  await take(file, what, me, 0);
  return { file, release: () => releaseIfMine(file, me) };
}
