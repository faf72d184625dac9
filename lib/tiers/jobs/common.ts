/** Helpers shared by job types: rsync argv, source checks, the dump checks of a backup folder. Pure or read-only. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DUMP_DIR, dumpDir } from '../../model/layout.js';
import { parseDumpFileName } from '../../model/names.js';
import type { Exec } from '../../base/exec.js';
import { TierbackError } from '../../base/errors.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { checkDump, checkForFile } from '../engines/registry.js';
import type { RsyncStep, VerifyProblem } from './types.js';

/** rsync exit 24: some source files vanished during the transfer (normal on live trees): a warning. The one definition; lib/tiers/pull/rsync.ts re-exports it. */
export const RSYNC_VANISHED = 24;

/**
 * Base rsync options of every copy: archive, numeric ids, the whole file list first, and hard links
 * kept (-H) between the files one copy holds (an app's folder; rails copies shared/ and the data
 * folder on their own). Cost measured by bench/job-hardlinks.ts (docs/decisions.md).
 */
export const RSYNC_BASE = ['-a', '--numeric-ids', '--no-inc-recursive', '-H'] as const;

export interface RsyncArgs {
  source: string;
  dest: string;
  /** Previous copy of the same folder: unchanged files become hard links to it. */
  linkDest?: string | undefined;
  excludes?: readonly string[];
  filters?: readonly string[];
  extra?: readonly string[];
  /** Copy the source itself (a file or a symlink), not its contents. */
  single?: boolean;
}

/** rsync argv copying `source/` into `dest/` (or `source` itself when single). Never a shell string. */
export function copyArgv(a: RsyncArgs): string[] {
  const argv = ['rsync', ...RSYNC_BASE];
  if (a.linkDest) argv.push(`--link-dest=${a.linkDest}`);
  for (const f of a.filters ?? []) argv.push(`--filter=${f}`);
  for (const e of a.excludes ?? []) argv.push(`--exclude=${e}`);
  argv.push(...(a.extra ?? []));
  if (a.single) argv.push(a.source, a.dest.endsWith('/') ? a.dest : `${a.dest}/`);
  else argv.push(`${a.source.replace(/\/+$/, '')}/`, `${a.dest.replace(/\/+$/, '')}/`);
  return argv;
}

/**
 * The rsync step copying `source` into the folder `sub` of the staging folder (`sub` '' for the
 * staging folder itself), unchanged files hard-linked to the same folder of the previous backup.
 */
export function copyStep(
  ctx: { staging: string; previous: string | undefined },
  sub: string,
  s: { title: string; source: string; retryOnVanished?: number; filesFrom?: RsyncStep['filesFrom'] } & Omit<RsyncArgs, 'source' | 'dest' | 'linkDest'>,
): RsyncStep {
  const { title, source, retryOnVanished, filesFrom, ...rsync } = s;
  const dest = path.join(ctx.staging, sub);
  const linkDest = ctx.previous ? path.join(ctx.previous, sub) : undefined;
  return {
    kind: 'rsync',
    title,
    source,
    dest,
    argv: copyArgv({ source, dest, linkDest, ...rsync }),
    ...(filesFrom ? { filesFrom } : {}),
    ...(retryOnVanished !== undefined ? { retryOnVanished } : {}),
  };
}

/** A source folder of the app that must exist: a clear error naming the inventory path if not. */
export async function requireDir(dir: string, app: ResolvedApp, what: string, key = 'path'): Promise<void> {
  let st;
  try {
    st = await stat(dir);
  } catch (err) {
    throw new TierbackError(`app "${app.name}": ${what} ${dir} does not exist (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      hint: `check apps[${app.index}].${key} in the inventory, and that the job runs on the machine where the app lives`,
    });
  }
  if (!st.isDirectory()) {
    throw new TierbackError(`app "${app.name}": ${what} ${dir} is not a folder`, { hint: `check apps[${app.index}].${key} in the inventory` });
  }
}

export async function requireFile(file: string, app: ResolvedApp, what: string, key = 'path'): Promise<void> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
  } catch (err) {
    throw new TierbackError(`app "${app.name}": ${what} ${file} is missing or not a file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      hint: `check apps[${app.index}].${key} in the inventory`,
    });
  }
}

/** Checks every dump in `<dir>/db/`. */
export async function verifyDumps(dir: string, exec: Exec, signal?: AbortSignal, opts: { required?: boolean } = {}): Promise<VerifyProblem[]> {
  const dbDir = dumpDir(dir);
  let names: string[] = [];
  try {
    names = await readdir(dbDir);
  } catch {
    return opts.required ? [{ path: DUMP_DIR, message: 'no db/ folder: no dump was written' }] : [];
  }
  const problems: VerifyProblem[] = [];
  let dumps = 0;
  for (const n of names.sort()) {
    if (!parseDumpFileName(n)) continue;
    dumps++;
    const check = checkForFile(n);
    if (!check) continue;
    const msg = await checkDump(path.join(dbDir, n), check, exec, signal);
    if (msg) problems.push({ path: `${DUMP_DIR}/${n}`, message: msg });
  }
  if (opts.required && dumps === 0) problems.push({ path: DUMP_DIR, message: 'db/ holds no dump' });
  return problems;
}

/** Moved to lib/tiers/engines/mysql.ts; kept here for existing importers. */
export { mysqlOptionFile } from '../engines/mysql.js';
