/**
 * Per-app and per-server locks: a lock file created with O_EXCL holding "pid starttime host".
 * A lock whose process is gone (or whose pid was reused by another process) is taken over.
 */
import { open, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
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

export async function readLock(file: string): Promise<LockHolder | undefined> {
  try {
    // A sync read of a tiny file: status checks a lock per app, and most do not exist (a failed
    // sync open is far cheaper than a failed async one through the thread pool).
    const [pid, start, host] = readFileSync(file, 'utf8').trim().split(/\s+/);
    const n = Number(pid);
    if (!Number.isInteger(n) || n <= 0) return undefined;
    return { pid: n, start: start === '-' ? undefined : start, host: host ?? '' };
  } catch {
    return undefined;
  }
}

/** True when a live process holds the lock. */
export async function isLocked(file: string): Promise<boolean> {
  const holder = await readLock(file);
  return holder !== undefined && (holder.host !== os.hostname() || isAlive(holder.pid, holder.start));
}

/** Takes the lock or throws LockedError naming what holds it. `what` is e.g. 'app "hydro"'. */
export async function acquireLock(file: string, what: string): Promise<Lock> {
  await ensureDir(path.dirname(file));
  const me = `${process.pid} ${processStartTime(process.pid) ?? '-'} ${os.hostname()}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx', FILE_MODE);
      await fh.writeFile(me);
      await fh.close();
      return {
        file,
        release: async () => {
          const holder = await readLock(file);
          if (holder?.pid === process.pid) await unlink(file).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readLock(file);
      if (holder && (holder.host !== os.hostname() || isAlive(holder.pid, holder.start))) {
        throw new LockedError(`${what} is locked by process ${holder.pid} on ${holder.host || 'this host'} (${file})`, holder.pid);
      }
      // Stale (dead holder, or unreadable half-written file): remove and retry.
      await unlink(file).catch(() => undefined);
    }
  }
  throw new LockedError(`${what}: could not take the lock ${file}`);
}
