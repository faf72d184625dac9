/** SQLite: `sqlite3 .dump` of the live file, gzip'd; a database is a file, so there is no password. */
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { DUMP_DIR, dumpPath } from '../../model/layout.js';
import { dumpFileName } from '../../model/names.js';
import { countSqliteDumpRows } from './dumprows.js';
import { UsageError } from '../../base/errors.js';
import { exists } from '../../base/fsutil.js';
import { describeCommand, type Exec } from '../../base/exec.js';
import { checkGzipTrailer, countedDumpFacts } from './common.js';
import { countsOf, defineEngine, printableLine, type DumpStep, type PlanContext } from './types.js';

/** The files SQLite keeps beside a database while it is open or mid-write: never part of a consistent copy. */
export const SQLITE_SIDE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/**
 * How the dump opens a live SQLite file (docs/decisions.md, "SQLite dumps leave the live folder
 * as it was"). A read-only connection to a WAL-mode database creates `-wal` and `-shm` when they
 * are missing and cannot remove them (only a writer checkpoints and deletes them on close). So:
 * - WAL mode and no `-wal`/`-shm`/`-journal` beside it (nobody has it open): a read-write
 *   connection with `PRAGMA query_only`, which writes nothing and, being the last to close,
 *   removes the files it created (SQLite takes the exclusive lock to know it is the last);
 * - otherwise `-readonly`: the side files belong to the app's open connections, and they stay.
 */
export async function sqliteOpenMode(file: string): Promise<'readonly' | 'query_only'> {
  if (!(await isSqliteWal(file))) return 'readonly';
  for (const s of SQLITE_SIDE_SUFFIXES) if (await exists(`${file}${s}`)) return 'readonly';
  return 'query_only';
}

/** Whether a SQLite file is in WAL mode, from its header (bytes 18 and 19 are 2); reading it changes nothing. */
export async function isSqliteWal(file: string): Promise<boolean> {
  let h;
  try {
    h = await open(file, 'r');
    const b = Buffer.alloc(20);
    const { bytesRead } = await h.read(b, 0, 20, 0);
    return bytesRead === 20 && b.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' && b[18] === 2 && b[19] === 2;
  } catch {
    return false;
  } finally {
    await h?.close();
  }
}

/** The first line of every SQLite dump: the journal mode, so loading the dump keeps it (`PRAGMA journal_mode=wal;`). */
const JOURNAL_MODE_LINE = "SELECT 'PRAGMA journal_mode=' || journal_mode || ';' FROM pragma_journal_mode";

export function sqliteDump(ctx: PlanContext, file: string, name: string, mode: 'readonly' | 'query_only' = 'readonly'): DumpStep {
  const how = mode === 'readonly' ? ['-readonly'] : ['-cmd', 'PRAGMA query_only=1'];
  return {
    kind: 'dump',
    title: `sqlite3 .dump of ${file} into ${DUMP_DIR}/`,
    db: name,
    file: dumpPath(ctx.staging, dumpFileName(name, ctx.stamp, 'sqlite.sql.gz')),
    command: { argv: ['sqlite3', ...how, '-bail', file, JOURNAL_MODE_LINE, '.dump'] },
    compress: true,
    check: 'sqlite',
  };
}

export const sqliteEngine = defineEngine({
  name: 'sqlite',
  summary: 'SQLite (sqlite3 .dump output, gzip\'d; a database is a file)',
  dumps: [{ ext: 'sqlite.sql.gz', check: 'sqlite', loadable: true }],
  fileBased: true,
  secrets: 'none',
  checkDump: (file) => checkGzipTrailer(file, /COMMIT;\s*$/, 'no final "COMMIT;": the sqlite3 dump stopped early'),
  dumpFacts: countedDumpFacts(countSqliteDumpRows),
  checkNewName(name) {
    if (!path.isAbsolute(name)) throw new UsageError(`--database "${name}" must be the absolute path of a new SQLite file`, 'e.g. --database /tmp/shop-restored.sqlite3');
  },
  planLoad(dumpFile, target) {
    const from = { argv: ['gunzip', '-c', dumpFile] };
    const to = { argv: ['sqlite3', '-bail', target] };
    return { steps: [{ kind: 'pipe', from, to }], printable: [`${printableLine(from.argv)} | ${printableLine(to.argv)}`] };
  },
  async count(exec, target, _conn, _secretFile, signal) {
    const t = await exec.run({ argv: ['sqlite3', '-readonly', target, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"] }, signal);
    const names = t.stdout.split('\n').filter(Boolean);
    if (names.length === 0) return countsOf([], []);
    const sql = names.map((n) => `SELECT count(*) FROM "${n.replace(/"/g, '""')}"`).join(' UNION ALL ');
    const r = await exec.run({ argv: ['sqlite3', '-readonly', target, sql] }, signal);
    return countsOf(names, r.stdout.split('\n').filter(Boolean).map(Number));
  },
  async prepareTarget(target, live, moveAside) {
    const liveWal = await liveIsWal(live);
    // Keep the live file (with its -wal/-shm) beside it rather than loading into a database that already has tables.
    if (moveAside) await moveSqliteAside(target, `.before-restore-${Date.now()}`);
    return (exec, dumpFile, signal) => keepJournalMode(exec, dumpFile, target, liveWal, signal);
  },
  async drop(_exec, target) {
    for (const f of [target, ...SQLITE_SIDE_SUFFIXES.map((x) => `${target}${x}`)]) await rm(f, { force: true });
  },
});

/** The journal mode a SQLite dump's first line sets (`PRAGMA journal_mode=wal;`, which jobs write), or undefined for older dumps. */
export async function dumpJournalMode(dumpFile: string): Promise<string | undefined> {
  const gunzip = createGunzip();
  const input = createReadStream(dumpFile);
  input.pipe(gunzip);
  let head = '';
  try {
    for await (const chunk of gunzip) {
      head += (chunk as Buffer).toString('utf8');
      if (head.includes('\n') || head.length > 200) break;
    }
  } catch {
    return undefined;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return /^PRAGMA journal_mode=([a-z]+);/i.exec(head)?.[1]?.toLowerCase();
}

/**
 * Keeps a SQLite database's journal mode across a restore: a dump written since tierback records it
 * in its first line (the load sets it); for an older dump, a live database in WAL mode (read from
 * its header, which opens nothing) gets `PRAGMA journal_mode=WAL` on the restored file. Returns the commands run.
 */
export async function keepJournalMode(exec: Exec, dumpFile: string, target: string, liveWal: boolean, signal?: AbortSignal): Promise<string[]> {
  if ((await dumpJournalMode(dumpFile)) !== undefined || !liveWal) return [];
  const argv = ['sqlite3', target, 'PRAGMA journal_mode=WAL'];
  await exec.run({ argv }, signal);
  return [describeCommand(argv)];
}

/** Moves a live SQLite file aside with its -wal/-shm/-journal (a file and a stranger's WAL must never pair up). */
export async function moveSqliteAside(file: string, suffix: string): Promise<void> {
  await rename(file, `${file}${suffix}`).catch(() => undefined);
  for (const x of SQLITE_SIDE_SUFFIXES) await rename(`${file}${x}`, `${file}${suffix}${x}`).catch(() => undefined);
}

/** Whether the live SQLite file is in WAL mode (undefined path: unknown, false). */
export async function liveIsWal(live: string | undefined): Promise<boolean> {
  return live ? isSqliteWal(live) : false;
}
