/**
 * The database engine contract (borgmatic's hooks/data_source/). Every engine (one file each in
 * lib/tiers/engines/, listed in lib/tiers/engines/registry.ts) is a `DatabaseEngine`: the dump files it writes
 * and how each is checked for completeness, the rows a dump holds, how a dump is loaded into a NEW
 * database, and how a loaded database is counted and dropped (restore drills). Job types build dump
 * steps with the engine's own builders; the runner, verify, restore and the manifest only loop over
 * the registry. docs/jobs/README.md ("Adding a database engine") lists the steps.
 */
import type { CommandSpec, Exec } from '../../base/exec.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';

/** How to reach a database server; the password is only ever put in a 0600 file or a secret env. */
export interface DbConnection {
  host?: string | undefined;
  port?: number | undefined;
  socket?: string | undefined;
  user?: string | undefined;
  /** A connection string (MongoDB), read from a file; like the password, never in argv. */
  uri?: string | undefined;
  /** The password itself (read from a config file or a password file); only ever put in 0600 files or secret env. */
  password?: string | undefined;
}

/** One kind of dump file an engine writes: `<db>-<stamp>.<ext>`. */
export interface DumpKind {
  /** File name ending after the stamp, e.g. `mysql.sql.gz`. */
  ext: string;
  /** Name of its completeness check (DumpStep.check), unique over the registry. */
  check: string;
  /** One database that `load` can put into a new database (false for whole-server dumps). */
  loadable: boolean;
}

/** Tables and rows a dump holds, read from the dump itself. */
export interface DumpFacts {
  /** Tables the dump creates (undefined when the format does not say). */
  tables?: number;
  /** Rows the dump inserts (every table). */
  rows?: number;
  /** Rows per table, counted from the dump itself (undefined in manifests of older versions). */
  tableRows?: Map<string, number>;
}

export interface LoadPlan {
  /** Commands in order; `pipe` entries are `from | to`. */
  steps: ({ kind: 'run'; command: CommandSpec } | { kind: 'pipe'; from: CommandSpec; to: CommandSpec })[];
  /** The commands as a person types them (passwords left out). */
  printable: string[];
}

export interface DbCounts {
  tables: number;
  rows: number;
  /** Rows per table, named as lib/tiers/engines/dumprows.ts names them (`t`, `schema.table`). */
  tableRows: Map<string, number>;
}

export interface DatabaseEngine {
  /** The engine's name (also the dump format name restore and drills report). */
  name: string;
  /** One line for docs. */
  summary: string;
  /** The dump files it writes. */
  dumps: readonly DumpKind[];
  /** A database is a file (its "name" is an absolute path), not a name on a server. */
  fileBased: boolean;
  /** How it keeps the password out of argv: a 0600 option file, or the child's environment. */
  secrets: 'option-file' | 'env' | 'none';
  /** Completeness of a finished dump (one of `dumps`): a problem message or undefined. */
  checkDump(file: string, check: string, exec: Exec, signal?: AbortSignal): Promise<string | undefined>;
  /** Tables and rows a dump holds (streamed, one pass); {} when the kind does not say. */
  dumpFacts(file: string, exec: Exec): Promise<DumpFacts>;
  /** Throws a UsageError when `name` is not a database tierback may create. */
  checkNewName(name: string): void;
  /** The secret file's content (0600) the client commands read, when `secrets` is 'option-file'. */
  secretFile?(conn: DbConnection): string;
  /** Commands loading `dumpFile` into the NEW database `target`; `secretFile` is where the secret file will be. */
  planLoad(dumpFile: string, target: string, conn: DbConnection, secretFile: string): LoadPlan;
  /** Tables and rows (per table) of a (scratch) database. */
  count(exec: Exec, target: string, conn: DbConnection, secretFile: string, signal?: AbortSignal): Promise<DbCounts>;
  /**
   * File-based engines, before a restore loads into `target`: notes what the live database has that
   * the dump may not carry, moves the live file aside when loading in place (`moveAside`), and returns
   * what to run after the load (the commands it ran, as text).
   */
  prepareTarget?(target: string, live: string | undefined, moveAside: boolean): Promise<(exec: Exec, dumpFile: string, signal?: AbortSignal) => Promise<string[]>>;
  /** Drops a scratch database. */
  drop(exec: Exec, target: string, conn: DbConnection, secretFile: string): Promise<void>;
}

export function defineEngine(e: DatabaseEngine): DatabaseEngine {
  return e;
}

export function countsOf(names: string[], rows: number[]): DbCounts {
  return { tables: names.length, rows: rows.reduce((a, b) => a + b, 0), tableRows: new Map(names.map((n, i) => [n, rows[i] ?? 0])) };
}

/** A command line as a person types it. */
export function printableLine(argv: readonly string[]): string {
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return argv.map(q).join(' ');
}

// The plan pieces an engine builds for a job type's plan (re-exported by lib/tiers/jobs/types.ts).

/**
 * How a finished dump file is checked for completeness: the name of a check a database engine
 * registers (lib/tiers/engines/, DumpKind.check, e.g. 'mysqldump', 'pg_restore'), or 'gzip' for any
 * gzip'd stream (the whole file decompresses without error and is not empty).
 */
export type DumpCheck = string;

/** A file holding a secret (e.g. a MySQL option file), written 0600 before the steps run and removed after. */
export interface SecretFile {
  path: string;
  /** Never printed: describePlan() replaces it. */
  content: string;
}

export interface DumpStep {
  kind: 'dump';
  title: string;
  db: string;
  /** Absolute path of the dump file in the staging folder's db/ (named by dumpFileName). */
  file: string;
  /** The dump command; it writes the dump to stdout. */
  command: CommandSpec;
  /** gzip stdout on the way to disk (false for formats compressed already, e.g. pg_dump -Fc). */
  compress: boolean;
  check: DumpCheck;
}

export interface PlanContext {
  site: Site;
  app: ResolvedApp;
  runId: string;
  /** Timestamp for dump file names (snapshotStamp of the run start). */
  stamp: string;
  target: string;
  staging: string;
  previous: string | undefined;
  /** A private 0700 folder outside the backup for option files and lists; removed after the run. */
  secretDir: string;
}
