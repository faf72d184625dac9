/**
 * Restoring an app's files or database from any point in time this machine sees (local tier or a
 * snapshot), into a new folder / a new database, or over SSH to another machine. Never over the live
 * app unless asked (`inPlace`) and confirmed. Every command run is returned as a plain shell line,
 * so the person restoring learns the manual path (docs/restore.md).
 */
import { lstat, mkdir, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE } from '../../model/layout.js';
import { NotFoundError, RefusedError, UsageError } from '../../base/errors.js';
import { createExec, describeCommand, type Exec } from '../../base/exec.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { findServer } from '../../model/inventory/model.js';
import { getJobType, jobTypes } from '../jobs/registry.js';
import type { RestoreGuide } from '../jobs/types.js';
import type { Logger } from '../../base/log.js';
import { openSshTransport } from '../pull/ssh.js';
import type { DbConnection } from '../engines/types.js';
import { appDatabase, pickConnection, checkNewDatabaseName, dumpFormat, guardLiveDatabase, isFileBased, prepareTarget, runLoad, unsupportedDump } from './database.js';
import { chooseDump, choosePoint, listPoints, type DumpRef, type Point, type Selection } from './points.js';

export interface RestoreCommonOptions extends Selection {
  log: Logger;
  exec?: Exec;
  /** Prefix of every inventory path on disk (default "/"). */
  root?: string | undefined;
  dryRun?: boolean | undefined;
  /** Restore over the live app (files) or the live database. Needs `confirmed`. */
  inPlace?: boolean | undefined;
  /** The person confirmed (prompt answered "yes", or --yes). */
  confirmed?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface RestoreFilesOptions extends RestoreCommonOptions {
  /** A file or folder inside the backup folder (e.g. `files/reports/q1.txt`); default the whole folder. */
  path?: string | undefined;
  /** Target folder; the restored path keeps its relative path below it. Required unless inPlace. */
  to?: string | undefined;
  /** Allow writing over files that exist in the target. */
  overwrite?: boolean | undefined;
  /** Restore to this server of the inventory over SSH (rsync -e ssh, host key pinned from the inventory). */
  toServer?: string | undefined;
}

export interface RestoreResult {
  app: string;
  point: Point;
  dump?: DumpRef | undefined;
  /** What was copied or loaded (a path on this machine). */
  source: string;
  /** Where it went: a folder, `server:folder`, a database name or a SQLite file. */
  to: string;
  /** The commands run, as a person would type them. */
  commands: string[];
  /** The type's own restore-by-hand guide for the whole app. */
  guide: RestoreGuide;
  dryRun: boolean;
}

/** The types whose backup has a folder mirroring the live app folder (JobType.inPlaceDir), for in-place restores. */
function inPlaceTypes(): string[] {
  return jobTypes.filter((t) => t.inPlaceDir !== undefined).map((t) => t.name);
}

/** A relative path inside a backup: no absolute path, no "..", no empty or "." segments. */
export function checkRestorePath(p: string): string {
  const raw = p.trim();
  if (raw === '' || raw === '.' || raw === '/') return '';
  if (path.posix.isAbsolute(raw)) throw new UsageError(`--path "${p}" is absolute`, 'give a path inside the backup folder, e.g. files/reports/q1.txt (see `tierback list APP --files`)');
  const segs = raw.replace(/\/+$/, '').split('/');
  if (segs.includes('..')) throw new UsageError(`--path "${p}" contains ".." (path traversal)`, 'give a path inside the backup folder, e.g. files/reports/q1.txt');
  if (segs.some((s) => s === '' || s === '.')) throw new UsageError(`--path "${p}" has an empty or "." segment`, 'write it like files/reports/q1.txt');
  if (/[\0\n]/.test(raw)) throw new UsageError(`--path contains a control character`);
  return segs.join('/');
}

/** Refuses a path whose folders (not the last entry, which is copied as is) pass through a symlink leaving `base`. */
async function checkNoEscape(base: string, rel: string): Promise<void> {
  if (!rel) return;
  const realBase = await realpath(base);
  const segs = rel.split('/');
  let cur = base;
  for (let i = 0; i < segs.length; i++) {
    cur = path.join(cur, segs[i]!);
    let st;
    try {
      st = await lstat(cur);
    } catch {
      throw new NotFoundError(`${rel} is not in this backup (${cur} does not exist)`, 'list the backup folder to find the right path, e.g. `ls` it, or pick another --at');
    }
    if (st.isSymbolicLink() && i < segs.length - 1) {
      const real = await realpath(cur).catch(() => undefined);
      const r = real ? path.relative(realBase, real) : '..';
      if (r.startsWith('..') || path.isAbsolute(r)) {
        throw new UsageError(`--path ${rel} goes through the symlink ${segs.slice(0, i + 1).join('/')}, which points out of the backup`, 'restore the link itself (its path without what follows), or the folder it points to from its own backup');
      }
    }
  }
}

function isInside(parent: string, child: string): boolean {
  const r = path.relative(parent, child);
  return r === '' || (!r.startsWith('..') && !path.isAbsolute(r));
}

async function resolveReal(p: string): Promise<string> {
  // Resolve the deepest existing ancestor, so a target reached through a symlink is still recognised.
  const tail: string[] = [];
  let probe = path.resolve(p);
  for (;;) {
    try {
      return path.join(await realpath(probe), ...tail.reverse());
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) return path.resolve(p);
      tail.push(path.basename(probe));
      probe = parent;
    }
  }
}

async function isEmptyOrMissing(p: string): Promise<boolean> {
  try {
    const st = await lstat(p);
    if (!st.isDirectory()) return false;
    return (await readdir(p)).length === 0;
  } catch {
    return true;
  }
}

function guideOf(app: ResolvedApp, dir: string): RestoreGuide {
  const type = getJobType(app.type);
  return type.restore(app, app.options, dir);
}

/** Restores files (the whole backup folder or one path in it) from the chosen point in time. */
export async function restoreFiles(site: Site, app: ResolvedApp, opts: RestoreFilesOptions): Promise<RestoreResult> {
  const exec = opts.exec ?? createExec(opts.log, { dryRun: opts.dryRun ?? false });
  const rel = checkRestorePath(opts.path ?? '');
  const point = choosePoint(site, app, await listPoints(site, app, { root: opts.root }), opts);
  const commands: string[] = [];
  const run = async (argv: string[]) => {
    commands.push(describeCommand(argv));
    await exec.run({ argv }, opts.signal);
  };

  let source: string;
  let dest: string;
  if (opts.inPlace) {
    const sub = getJobType(app.type).inPlaceDir;
    if (!sub) {
      throw new RefusedError(`app "${app.name}" (${app.type}): in-place restore is only built for types whose backup mirrors one live folder (${inPlaceTypes().join(', ')})`, `restore --to a new folder, then put the pieces back as docs/jobs/${app.type}.md says`);
    }
    if (opts.toServer) throw new UsageError('--in-place and --to-server do not go together', 'run the in-place restore on the machine where the app lives');
    if (opts.to) throw new UsageError(`--in-place restores into the live app ${app.path}; --to does not go with it`, 'drop --to, or drop --in-place to restore into a new folder');
    if (!opts.confirmed) throw new RefusedError(`restoring over the live app ${app.path} needs confirmation`, 'answer "yes" at the prompt, or pass --yes in scripts');
    await checkNoEscape(path.join(point.disk, sub), rel);
    source = rel ? path.join(point.disk, sub, rel) : path.join(point.disk, sub);
    dest = rel ? path.join(app.path, rel) : app.path;
  } else {
    if (!opts.to) throw new UsageError('say where to restore with --to DIR', 'e.g. --to /tmp/restore (the live app is only written with --in-place)');
    await checkNoEscape(point.disk, rel);
    source = rel ? path.join(point.disk, rel) : point.disk;
    dest = rel ? path.join(path.resolve(opts.to), rel) : path.resolve(opts.to);
    if (opts.toServer === app.server && (isInside(app.path, dest) || isInside(dest, app.path))) {
      throw new RefusedError(`${opts.toServer}:${dest} is the live app ${app.path} (or overlaps it)`, 'restore into another folder on that server');
    }
    if (!opts.toServer) {
      const realDest = await resolveReal(dest);
      const live = [app.path, await resolveReal(app.path)];
      if (live.some((l) => isInside(l, realDest) || isInside(realDest, l))) {
        throw new RefusedError(`${dest} is the live app ${app.path} (or overlaps it)`, 'restore into another folder, or use --in-place (and confirm) to restore over the live app');
      }
      if (isInside(point.disk, realDest) || isInside(await resolveReal(point.disk), realDest)) {
        throw new RefusedError(`${dest} is inside the backup being restored`, 'restore into a folder outside the backup partition');
      }
      if (!opts.overwrite && !(await isEmptyOrMissing(dest))) {
        throw new RefusedError(`${dest} exists${rel ? '' : ' and is not empty'}; restore never overwrites without being told`, 'pick a new folder, or pass --overwrite');
      }
    }
  }

  const st = await lstat(source).catch(() => undefined);
  if (!st) throw new NotFoundError(`${rel || 'the backup folder'} is not in the backup ${point.id} (${source})`, 'pick another --path or --at');
  const isDir = st.isDirectory();
  const rsync = ['rsync', '-a', '--numeric-ids', '-H', ...(rel ? [] : [`--exclude=/${MANIFEST_FILE}`])];
  const src = isDir ? `${source}/` : source;
  const parent = isDir ? dest : path.dirname(dest);

  if (opts.toServer) {
    const server = findServer(site, opts.toServer);
    const transport = await openSshTransport(server, { where: `servers[${server.index}].ssh` });
    try {
      // --mkpath creates the target folders on the far side (rsync >= 3.2.3).
      // The far side cannot be checked for existing files first: without --overwrite, rsync leaves them alone.
      const keep = opts.overwrite ? [] : ['--ignore-existing'];
      await run([...rsync, ...keep, '--mkpath', '-e', transport.rsh, src, transport.remote(isDir ? `${dest}/` : dest)]);
    } finally {
      await transport.cleanup();
    }
    return { app: app.name, point, source, to: `${opts.toServer}:${dest}`, commands, guide: guideOf(app, point.dir), dryRun: exec.dryRun };
  }

  if (!exec.dryRun) await mkdir(parent, { recursive: true, mode: 0o700 });
  commands.push(describeCommand(['mkdir', '-p', parent]));
  await run([...rsync, src, isDir ? `${dest}/` : dest]);
  return { app: app.name, point, source, to: dest, commands, guide: guideOf(app, point.dir), dryRun: exec.dryRun };
}

export interface RestoreDatabaseOptions extends RestoreCommonOptions {
  /** New database name (MySQL/PostgreSQL) or absolute path of a new SQLite file. */
  database: string;
  /** Which database's dumps, when the app has several. */
  db?: string | undefined;
  /** Connection settings overriding the app's own (e.g. a scratch server). */
  connection?: DbConnection | undefined;
}

/** Loads the chosen dump into a new database (never the live one unless in place and confirmed). */
export async function restoreDatabase(site: Site, app: ResolvedApp, opts: RestoreDatabaseOptions): Promise<RestoreResult> {
  const exec = opts.exec ?? createExec(opts.log, { dryRun: opts.dryRun ?? false });
  const { point, dump } = chooseDump(site, app, await listPoints(site, app, { root: opts.root }), opts);
  const file = path.join(point.disk, dump.file);
  const format = dumpFormat(file);
  if (!format || dump.db === 'all') throw unsupportedDump(file);
  checkNewDatabaseName(opts.database, format);
  const own = await appDatabase(app, format, dump.db);
  const conn = pickConnection(own.conn, opts.connection);
  // Compare like with like: SQLite files by their real path, server database names case-insensitively.
  const fileBased = isFileBased(format);
  const same = fileBased ? [await resolveReal(opts.database), own.live ? await resolveReal(own.live) : undefined] : [opts.database.toLowerCase(), own.live?.toLowerCase()];
  guardLiveDatabase(app, same[0]!, same[1], opts.inPlace ?? false, opts.confirmed ?? false);
  if (fileBased && !(opts.inPlace && opts.confirmed) && !(await isEmptyOrMissing(opts.database))) {
    throw new RefusedError(`${opts.database} exists; restore never overwrites without being told`, 'name a new file');
  }
  const after = await prepareTarget(format, opts.database, own.live, !!(opts.inPlace && opts.confirmed && !exec.dryRun));
  const commands: string[] = [];
  if (fileBased) {
    commands.push(describeCommand(['mkdir', '-p', path.dirname(opts.database)]));
    if (!exec.dryRun) await mkdir(path.dirname(opts.database), { recursive: true, mode: 0o700 });
  }
  commands.push(...(await runLoad(exec, format, file, opts.database, conn, opts.signal)));
  if (after) commands.push(...(await after(exec, file, opts.signal)));
  return { app: app.name, point, dump, source: file, to: opts.database, commands, guide: guideOf(app, point.dir), dryRun: exec.dryRun };
}
