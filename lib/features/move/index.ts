/**
 * Moving apps: what changed between two inventories (pure), and moving an app's local-tier folder
 * and its history files to the new place. Same server: atomic renames. Other server: rsync over
 * SSH into a hidden staging folder on the new server, one rename there, then removal here.
 * Snapshots on backup servers are never touched: old snapshots keep the old paths until retention
 * removes them; the history files travel with the app, so its history stays continuous.
 * Comparing inventories and recording the applied one: lib/features/move/apply.ts.
 */
import { appendFile, lstat, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../model/layout.js';
import * as N from '../../model/names.js';
import { openSshTransport } from '../../tiers/pull/ssh.js';
import { ExitCode, RefusedError, TierbackError, UsageError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { assertInside, ensureDir, exists, FILE_MODE } from '../../base/fsutil.js';
import { newRunId } from '../../model/history.js';
import { acquireLock, type Lock } from '../../base/lock.js';
import { moveRecordAt, recordRename, recordTransfer } from './record.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';

// ---------------------------------------------------------------- diff (pure)

// What a move is (shared with lib/features/move/record.ts, which writes its record).
import type { AppMove, AppPlace } from './types.js';
export type { AppMove, AppPlace } from './types.js';

export interface InventoryDiff {
  moves: AppMove[];
  added: string[];
  removed: string[];
  /** Apps whose place is unchanged but other settings changed (type, schedule, status...). */
  changed: { app: string; keys: string[] }[];
}

export function placeOf(a: ResolvedApp): AppPlace {
  return { server: a.server, vm: a.vm, relpath: a.relpath, partition: a.partition };
}

/** Compares two resolved sites app by app (matched by name). */
export function diffInventories(before: Site, after: Site): InventoryDiff {
  const old = new Map(before.apps.map((a) => [a.name, a]));
  const now = new Map(after.apps.map((a) => [a.name, a]));
  const diff: InventoryDiff = { moves: [], added: [], removed: [], changed: [] };
  for (const a of after.apps) {
    const o = old.get(a.name);
    if (!o) {
      diff.added.push(a.name);
      continue;
    }
    const changes: string[] = [];
    for (const k of ['server', 'vm', 'relpath', 'partition'] as const) if (o[k] !== a[k]) changes.push(`${k}: ${o[k]} -> ${a[k]}`);
    if (changes.length > 0) {
      diff.moves.push({ app: a.name, from: placeOf(o), to: placeOf(a), how: o.server === a.server ? 'rename' : 'transfer', changes });
    } else {
      const keys = (['path', 'type', 'status', 'schedule', 'keepDumps'] as const).filter((k) => o[k] !== a[k]);
      if (JSON.stringify(o.options) !== JSON.stringify(a.options)) keys.push('options' as never);
      if (keys.length > 0) diff.changed.push({ app: a.name, keys });
    }
  }
  for (const o of before.apps) if (!now.has(o.name)) diff.removed.push(o.name);
  return diff;
}

// ---------------------------------------------------------------- paths of a move

export function localDirOf(p: AppPlace): string {
  return C.localAppDir(p.partition, p.vm, p.relpath);
}

export function historyDirOf(p: AppPlace): string {
  return C.jobHistoryDir(p.partition, p.vm);
}

/** History files of an app in a history folder, sorted. */
export async function historyFilesOf(dir: string, app: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => N.parseHistoryFileName(n)?.name === app).sort();
}

// ---------------------------------------------------------------- running a move

export type MoveOutcome = 'moved' | 'already-moved' | 'nothing-to-move';

export interface MoveResult {
  app: string;
  how: 'rename' | 'transfer';
  outcome: MoveOutcome;
  from: string;
  to: string;
  historyFiles: string[];
  /** History files left at the old place because the new place already has a file of that day (merged instead). */
  merged: string[];
  /** Commands run (transfers), as argv. */
  commands: string[][];
}

export interface MoveOptions {
  exec: Exec;
  /** The site after the move (for the new server's SSH settings). */
  site: Site;
  timeZone?: string;
}

async function isDirNotLink(p: string): Promise<boolean | undefined> {
  try {
    const st = await lstat(p);
    if (st.isSymbolicLink()) throw new RefusedError(`${p} is a symlink`, 'tierback moves only real folders; replace the symlink by the folder it points to');
    return st.isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function isEmptyDir(p: string): Promise<boolean> {
  return (await readdir(p)).length === 0;
}

async function journal(partition: string, fields: Record<string, string>, at: Date): Promise<void> {
  const file = C.moveJournalPath(partition);
  await ensureDir(path.dirname(file));
  const line = Object.entries({ time: at.toISOString(), ...fields })
    .map(([k, v]) => `${k}=${/^[A-Za-z0-9._:/@+-]+$/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  await appendFile(file, `${line}\n`, { mode: FILE_MODE });
}

/** Takes the job locks of both places, so no job writes the app while it moves. */
async function lockBoth(move: AppMove, same: boolean): Promise<Lock[]> {
  const locks: Lock[] = [];
  try {
    locks.push(await acquireLock(C.lockPath(localDirOf(move.from)), `app "${move.app}" (old place)`));
    if (same) locks.push(await acquireLock(C.lockPath(localDirOf(move.to)), `app "${move.app}" (new place)`));
    return locks;
  } catch (err) {
    for (const l of locks) await l.release();
    throw err;
  }
}

/**
 * Moves one app's local-tier folder and history files. Must run on the old server (where the old
 * folder is). Idempotent: a move already done reports "already-moved". Refuses to overwrite data at
 * the new place.
 */
export async function moveApp(move: AppMove, opts: MoveOptions): Promise<MoveResult> {
  return move.how === 'rename' ? renameApp(move) : transferApp(move, opts);
}

async function renameApp(move: AppMove): Promise<MoveResult> {
  const from = localDirOf(move.from);
  const to = localDirOf(move.to);
  const result: MoveResult = { app: move.app, how: 'rename', outcome: 'moved', from, to, historyFiles: [], merged: [], commands: [] };
  await assertInside(move.from.partition, from);
  await ensureDir(C.localRoot(move.to.partition));
  await assertInside(move.to.partition, to);
  const locks = await lockBoth(move, true);
  try {
    const src = await isDirNotLink(from);
    const dst = await isDirNotLink(to);
    if (src === undefined) {
      result.outcome = dst ? 'already-moved' : 'nothing-to-move';
    } else {
      if (dst === false || (dst && !(await isEmptyDir(to)))) {
        throw new RefusedError(`cannot move app "${move.app}": ${to} already exists and is not empty`, `a job may already have run at the new place; move ${to} aside (or merge it into ${from}) and run the move again`);
      }
      if (dst) await rmdir(to); // empty: checked above
      await ensureDir(path.dirname(to));
      try {
        await rename(from, to); // atomic on one file system
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EXDEV') {
          throw new RefusedError(`${from} and ${to} are on different file systems`, 'move the folder with `rsync -aH` yourself, or keep both partitions on one file system');
        }
        throw err;
      }
    }
    await moveHistory(move, result);
    if (result.outcome !== 'nothing-to-move') await recordRename(move, new Date());
    if (result.outcome === 'moved' || result.historyFiles.length > 0) {
      await journal(move.to.partition, { app: move.app, how: 'rename', from, to, history: String(result.historyFiles.length) }, new Date());
    }
    return result;
  } finally {
    for (const l of locks) await l.release();
  }
}

/** Moves `backup-<app>-*` files to the new VM's history folder; appends into a same-day file that already exists there. */
async function moveHistory(move: AppMove, result: MoveResult): Promise<void> {
  const fromDir = historyDirOf(move.from);
  const toDir = historyDirOf(move.to);
  if (fromDir === toDir) return;
  const files = await historyFilesOf(fromDir, move.app);
  if (files.length === 0) return;
  await ensureDir(toDir);
  for (const f of files) {
    const src = path.join(fromDir, f);
    const dst = path.join(toDir, f);
    if (await exists(dst)) {
      const lines = (await readFile(src, 'utf8')).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      if (lines.length > 0) await appendFile(dst, `${lines.join('\n')}\n`, { mode: FILE_MODE });
      await rm(src);
      result.merged.push(f);
    } else {
      await rename(src, dst);
    }
    result.historyFiles.push(f);
  }
}

// ---------------------------------------------------------------- cross-server transfer

/** Words that go into the one remote command and rsync's -e string: no spaces, quotes or shell characters. */
export function safeWord(w: string, what: string): string {
  if (!/^[A-Za-z0-9._/@:=+-]+$/.test(w)) throw new UsageError(`${what} "${w}" contains characters tierback will not pass to ssh`, 'use a plain path or name (letters, digits, . _ / - @ : = +)');
  return w;
}

async function transferApp(move: AppMove, opts: MoveOptions): Promise<MoveResult> {
  const from = localDirOf(move.from);
  const to = localDirOf(move.to);
  const result: MoveResult = { app: move.app, how: 'transfer', outcome: 'moved', from, to, historyFiles: [], merged: [], commands: [] };
  const newServer = opts.site.servers.find((s) => s.fqdn === move.to.server);
  if (!newServer) throw new UsageError(`server ${move.to.server} is not in ${opts.site.file}`);
  await assertInside(move.from.partition, from);
  const src = await isDirNotLink(from);
  const histFiles = await historyFilesOf(historyDirOf(move.from), move.app);
  if (src === undefined && histFiles.length === 0 && !(await exists(moveRecordAt(move.from, move.app)))) {
    result.outcome = 'nothing-to-move';
    return result;
  }
  // The one transport (lib/tiers/pull/ssh.ts), as pulls use it; a shorter connect timeout, as the operator waits.
  const transport = await openSshTransport(newServer, { connectTimeoutS: 20 });
  const host = safeWord(transport.target.host, 'ssh host');
  const run = async (argv: string[], okCodes?: number[]) => {
    result.commands.push(argv);
    return opts.exec.run({ argv, ...(okCodes ? { okCodes } : {}) });
  };
  const ssh = (args: string[], okCodes?: number[]) => run([...transport.ssh, '--', host, ...args.map((a) => safeWord(a, 'remote argument'))], okCodes);
  const rsh = transport.rsh;
  const locks = await lockBoth(move, false);
  try {
    if (src !== undefined) {
      const exists = await ssh(['test', '-e', to], [0, 1]);
      if (exists.exitCode === 0) {
        throw new RefusedError(`cannot move app "${move.app}": ${to} already exists on ${move.to.server}`, `move it aside on ${move.to.server} (or merge it) and run the move again`);
      }
      const runId = newRunId(new Date());
      const staging = C.stagingPath(to, runId);
      await ssh(['mkdir', '-p', path.posix.dirname(to)]);
      // Into a hidden staging folder (pulls exclude it, jobs ignore it), then one rename on the new server.
      await run(['rsync', '-aHS', '--numeric-ids', '--delete', '-e', rsh, '--', `${from}/`, transport.remote(`${staging}/`)], [0]);
      await ssh(['mv', '-T', staging, to]);
      await rm(from, { recursive: true });
    } else {
      result.outcome = 'already-moved';
    }
    if (histFiles.length > 0) {
      const fromDir = historyDirOf(move.from);
      const toDir = historyDirOf(move.to);
      await ssh(['mkdir', '-p', toDir]);
      // Never overwrite a history file already at the new place; files skipped stay here and are reported.
      const r = await run(['rsync', '-aS', '--ignore-existing', '--out-format=%n', '-e', rsh, '--', ...histFiles.map((f) => path.join(fromDir, f)), transport.remote(`${toDir}/`)], [0]);
      const sent = new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
      for (const f of histFiles) {
        if (sent.has(f)) {
          await rm(path.join(fromDir, f));
          result.historyFiles.push(f);
        } else result.merged.push(f);
      }
    }
    // The move record goes last: it names the new place, and a move cut short is simply run again.
    await recordTransfer(move, new Date(), async (file, toDir) => {
      await ssh(['mkdir', '-p', '-m', '700', toDir]);
      await run(['rsync', '-aS', '-e', rsh, file, transport.remote(`${toDir}/`)], [0]);
    });
    await journal(move.from.partition, { app: move.app, how: 'transfer', from, to: `${move.to.server}:${to}`, history: String(result.historyFiles.length) }, new Date());
    if (result.merged.length > 0) {
      throw new TierbackError(
        `app "${move.app}" moved to ${move.to.server}, but ${result.merged.length} history file(s) already existed there and were left in ${historyDirOf(move.from)}: ${result.merged.join(', ')}`,
        { exitCode: ExitCode.PARTIAL, hint: 'append their lines to the files of the same name on the new server, then delete them here' },
      );
    }
    return result;
  } finally {
    for (const l of locks) await l.release();
    await transport.cleanup();
  }
}
