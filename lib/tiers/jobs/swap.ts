/**
 * The job's folder swap and its carried-over dumps: a new backup replaces the previous one by two
 * renames, and a run that crashed between them is undone by the next (recoverSwap).
 */
import { link, mkdir, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dumpDir, dumpPath, parseDumpFileName, retiredPath, workingFilesOf } from '../../model/convention.js';
import { DIR_MODE, exists } from '../../base/fsutil.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { secretDirPrefix } from './plan.js';
import type { JobPlan } from './types.js';

/** Removes secret folders left by killed runs of this app (safe: we hold the app's lock). */
export async function removeStaleSecretDirs(app: ResolvedApp): Promise<void> {
  const prefix = secretDirPrefix(app);
  for (const n of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    if (n.startsWith(prefix)) await rm(path.join(os.tmpdir(), n), { recursive: true, force: true });
  }
}

/** Puts back a backup parked by a run that crashed between the two renames, and removes stale leftovers. */
export async function recoverSwap(target: string, log?: Logger): Promise<void> {
  let names: string[];
  try {
    names = await readdir(path.dirname(target));
  } catch {
    return;
  }
  const { old: olds, partial: partials } = workingFilesOf(target, names);
  if (!(await exists(target)) && olds.length > 0) {
    const newest = olds.pop()!;
    log?.warn({ from: path.basename(newest) }, 'restoring the previous backup parked by an interrupted run');
    await rename(newest, target);
  }
  for (const p of [...olds, ...partials]) {
    log?.info({ leftover: path.basename(p) }, 'removing leftover of an interrupted run');
    await rm(p, { recursive: true, force: true });
  }
}

/** Hard-links the previous backup's dumps into staging/db and prunes each database to the newest `keep`. */
export async function carryDumps(plan: JobPlan, keep: number): Promise<void> {
  const dbDir = dumpDir(plan.staging);
  if (plan.previous) {
    let names: string[] = [];
    try {
      names = await readdir(dumpDir(plan.previous));
    } catch {
      names = [];
    }
    for (const n of names) {
      if (!parseDumpFileName(n)) continue;
      await mkdir(dbDir, { recursive: true, mode: DIR_MODE });
      await link(dumpPath(plan.previous, n), path.join(dbDir, n)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
  }
  await trimDumps(dbDir, keep);
}

/** Keeps the newest `keep` (at least 1) dumps of each database in `dbDir`; returns the removed names. */
export async function trimDumps(dbDir: string, keep: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dbDir);
  } catch {
    return [];
  }
  const byDb = new Map<string, { name: string; at: number }[]>();
  for (const n of names) {
    const p = parseDumpFileName(n);
    if (!p) continue;
    const list = byDb.get(p.db) ?? [];
    list.push({ name: n, at: p.at.getTime() });
    byDb.set(p.db, list);
  }
  const removed: string[] = [];
  for (const list of byDb.values()) {
    list.sort((a, b) => b.at - a.at || b.name.localeCompare(a.name));
    for (const old of list.slice(Math.max(1, keep))) {
      await rm(path.join(dbDir, old.name), { force: true });
      removed.push(old.name);
    }
  }
  return removed;
}

/** target -> retired, staging -> target, retired removed. A crash in between is undone by recoverSwap. */
export async function swapIn(plan: JobPlan): Promise<void> {
  const retired = retiredPath(plan.target, plan.runId);
  const hadTarget = await exists(plan.target);
  if (hadTarget) await rename(plan.target, retired);
  try {
    await rename(plan.staging, plan.target);
  } catch (err) {
    if (hadTarget) await rename(retired, plan.target);
    throw err;
  }
  if (hadTarget) await rm(retired, { recursive: true, force: true });
}
