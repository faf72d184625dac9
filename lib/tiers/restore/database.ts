/**
 * Loading a dump into a database: the connection an app's dumps belong to (from its job type's
 * `databases()`, overridable), and the engine's commands that load each dump into a NEW database,
 * count what a loaded database holds and drop it (restore drills). What each engine does lives in
 * lib/tiers/engines/; this file only finds the engine of a dump and gives it a private 0600 secret file.
 * Passwords go only into that file or the child's environment; never argv, logs or printed commands.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineOfFile, findEngine } from '../engines/registry.js';
import type { DatabaseEngine, DbConnection, DbCounts, LoadPlan } from '../engines/types.js';
import { RefusedError, TierbackError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { FILE_MODE } from '../../base/fsutil.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import { findJobType } from '../jobs/registry.js';

export { keepJournalMode, dumpJournalMode, liveIsWal, moveSqliteAside } from '../engines/sqlite.js';
export type { DbCounts, LoadPlan } from '../engines/types.js';

/** The name of the engine of a dump file (`mysql`, `postgresql`, `sqlite`, ...). */
export type DumpFormat = string;

/** The engine whose single-database dump `file` is, by name; undefined for whole-server dumps and other files. */
export function dumpFormat(file: string): DumpFormat | undefined {
  const found = engineOfFile(file);
  return found?.kind.loadable ? found.engine.name : undefined;
}

function engine(format: DumpFormat): DatabaseEngine {
  const e = findEngine(format);
  if (!e) throw new TierbackError(`no database engine "${format}"`);
  return e;
}

/** Whether the engine's databases are files (their "name" is a path). */
export function isFileBased(format: DumpFormat): boolean {
  return engine(format).fileBased;
}

type AfterLoad = (exec: Exec, dumpFile: string, signal?: AbortSignal) => Promise<string[]>;

/** The engine's preparation of a load target (file-based engines), and what to run after the load. */
export async function prepareTarget(format: DumpFormat, target: string, live: string | undefined, moveAside: boolean): Promise<AfterLoad | undefined> {
  const e = engine(format);
  return e.prepareTarget ? await e.prepareTarget(target, live, moveAside) : undefined;
}

/** A database name tierback creates: plain, so it needs no quoting anywhere (an absolute path for file-based engines). */
export function checkNewDatabaseName(name: string, format: DumpFormat): void {
  engine(format).checkNewName(name);
}

/** What the app's own configuration says about its database: connection and live name (undefined when unknown here). */
export async function appDatabase(app: ResolvedApp, format: DumpFormat, db: string): Promise<{ conn: DbConnection; live: string | undefined }> {
  const e = engine(format);
  const type = findJobType(app.type);
  try {
    if (type?.databases) return await type.databases(app, app.options, { engine: e, db });
  } catch {
    // The live app is not on this machine (e.g. a backup server): only the dump's own name is known.
  }
  return { conn: {}, live: e.fileBased ? undefined : db };
}

/** Connection settings given on the command line replace the app's own as a whole (a user without its password makes no sense). */
export function pickConnection(own: DbConnection, override: DbConnection | undefined): DbConnection {
  const given = Object.fromEntries(Object.entries(override ?? {}).filter(([, v]) => v !== undefined)) as DbConnection;
  return Object.keys(given).length ? given : own;
}

/**
 * Plans loading `dumpFile` into the NEW database `target`. `secretFile` is where the engine's secret
 * file (0600) will be, for engines that keep the password in one (MySQL's option file).
 */
export function planLoad(format: DumpFormat, dumpFile: string, target: string, conn: DbConnection, secretFile: string): LoadPlan {
  return engine(format).planLoad(dumpFile, target, conn, secretFile);
}

/** Runs `fn` with the engine's secret file written 0600 in a private temp folder, removed after. */
async function withSecretFile<T>(e: DatabaseEngine, conn: DbConnection, prefix: string, fn: (secretFile: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  try {
    const secretFile = path.join(dir, 'my.cnf');
    if (e.secretFile) await writeFile(secretFile, e.secretFile(conn), { mode: FILE_MODE });
    return await fn(secretFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs a load plan; the engine's secret file lives in a private temp folder for the duration. */
export async function runLoad(exec: Exec, format: DumpFormat, dumpFile: string, target: string, conn: DbConnection, signal?: AbortSignal): Promise<string[]> {
  const e = engine(format);
  return withSecretFile(e, conn, 'tierback-restore-', async (secretFile) => {
    const plan = e.planLoad(dumpFile, target, conn, secretFile);
    for (const s of plan.steps) {
      if (s.kind === 'run') await exec.run(s.command, signal);
      else await exec.pipe(s.from, s.to, signal);
    }
    return plan.printable;
  });
}

/** Refuses loading over the live database unless in place and confirmed. */
export function guardLiveDatabase(app: ResolvedApp, target: string, live: string | undefined, inPlace: boolean, confirmed: boolean): void {
  if (live === undefined || target !== live) return;
  if (!inPlace) throw new RefusedError(`app "${app.name}": "${target}" is the live database`, 'load into another name (e.g. shop_restored) and compare, or pass --in-place (and confirm) to replace the live one');
  if (!confirmed) throw new RefusedError(`app "${app.name}": loading over the live database "${target}" needs confirmation`, 'answer "yes" at the prompt, or pass --yes in scripts');
}

/** Tables and rows (per table) of a (scratch) database. */
export async function countDatabase(exec: Exec, format: DumpFormat, target: string, conn: DbConnection, signal?: AbortSignal): Promise<DbCounts> {
  const e = engine(format);
  return withSecretFile(e, conn, 'tierback-count-', (secretFile) => e.count(exec, target, conn, secretFile, signal));
}

/** Drops a scratch database (drills); errors are reported, never thrown. */
export async function dropDatabase(exec: Exec, format: DumpFormat, target: string, conn: DbConnection): Promise<string | undefined> {
  try {
    const e = engine(format);
    await withSecretFile(e, conn, 'tierback-drop-', (secretFile) => e.drop(exec, target, conn, secretFile));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function unsupportedDump(file: string): TierbackError {
  return new RefusedError(
    `${path.basename(file)} is not a single-database dump tierback can load (whole-server dumps replace every database)`,
    'load it by hand as docs/restore.md ("A whole database server") shows, on a scratch server first',
  );
}
