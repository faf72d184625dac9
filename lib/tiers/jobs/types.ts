/**
 * The job plugin contract. Every job type (one file each in lib/tiers/jobs/, registered in
 * lib/tiers/jobs/registry.ts) is a `JobType`: it declares its inventory options (zod), turns an app
 * into a plan that is pure data (commands as argv arrays, source and target paths), and says
 * how to verify and restore what it wrote. The runner (lib/tiers/jobs/run.ts) executes plans: it owns
 * locking, staging + atomic swap, dump naming/pruning, history and dry-run, so a type never does.
 * docs/jobs/README.md describes the contract for sites adding their own type.
 */
import type { z } from 'zod';
import type { DatabaseEngine, DbConnection, DumpStep, PlanContext, SecretFile } from '../engines/types.js';
import type { CommandSpec, Exec } from '../../base/exec.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';

// The plan pieces a database engine builds live with the engines (lib/tiers/engines/types.ts), below the job types.
export type { DumpCheck, DumpStep, PlanContext, SecretFile } from '../engines/types.js';

export interface RsyncStep {
  kind: 'rsync';
  title: string;
  source: string;
  /** Absolute destination inside the staging folder. */
  dest: string;
  /** Full rsync argv (source and destination included). */
  argv: string[];
  /**
   * When set, the runner lists the files with fast-glob (streamed, relative to `cwd`) into a
   * temporary list file `list` (argv already holds `--files-from=<list>`).
   */
  filesFrom?: { cwd: string; include: string[]; exclude: string[]; list: string };
  /** Run again (up to this many times) while rsync reports vanished files (code 24). */
  retryOnVanished?: number;
}

export interface ExecStep {
  kind: 'exec';
  title: string;
  command: CommandSpec;
}

/** A step only its own type knows how to run (e.g. taking CVS read locks); `JobType.runCustom` runs it. */
export interface CustomStep {
  kind: 'custom';
  title: string;
  action: string;
  args: Record<string, string>;
}

export type Step = RsyncStep | DumpStep | ExecStep | CustomStep;

export interface JobPlan {
  app: string;
  type: string;
  runId: string;
  /** Paths the job reads. */
  sources: string[];
  /** The app's backup folder (replaced atomically on success). */
  target: string;
  /** Where the run writes before the swap. */
  staging: string;
  /** The previous good backup, used for --link-dest and carried-over dumps. */
  previous: string | undefined;
  /** Whether earlier dumps in db/ are carried over (hardlinked) and pruned to keepDumps. */
  keepsDumps: boolean;
  steps: Step[];
  /** Steps run after the main ones whatever happened (e.g. releasing CVS locks). */
  cleanup: Step[];
  secretFiles: SecretFile[];
  /** Private 0700 folder (outside the backup) for secret files and file lists; removed after the run. */
  secretDir: string;
  /** Extra key=value facts for the history line (e.g. adapter=sqlite3). */
  facts: Record<string, string>;
}

/** What a type's plan() returns; the runner fills in the rest of JobPlan. */
export interface PlanParts {
  sources: string[];
  steps: Step[];
  cleanup?: Step[];
  secretFiles?: SecretFile[];
  keepsDumps?: boolean;
  facts?: Record<string, string>;
}

export interface RunContext {
  exec: Exec;
  log: Logger;
  signal: AbortSignal | undefined;
  plan: JobPlan;
}

/** One finding of verify(): a path inside the backup and what is wrong with it. */
export interface VerifyProblem {
  path: string;
  message: string;
}

export interface RestoreGuide {
  /** What the backup folder holds, one line per item. */
  contents: string[];
  /** Commands, in order, to restore by hand (shell lines for a human; docs/jobs/<type>.md explains them). */
  commands: string[];
}

export interface JobType<O = unknown> {
  /** The `type:` value in the inventory. */
  name: string;
  /** One line for help and docs. */
  summary: string;
  /** Schema of `apps[].options`. */
  options: z.ZodType<O>;
  /** The folder of the backup that mirrors the live app folder (`restore --in-place` copies it over `path`); unset: no in-place restore. */
  inPlaceDir?: string;
  /** Builds the plan. May read the source (config files, repository lists) but never writes. */
  plan(app: ResolvedApp, options: O, ctx: PlanContext): Promise<PlanParts>;
  /** Checks a finished backup folder (the staging folder before the swap, or any copy later). */
  verify(dir: string, options: O, ctx: { exec: Exec; log: Logger; signal?: AbortSignal | undefined }): Promise<VerifyProblem[]>;
  /** How to restore a backup folder by hand (printed by docs and restore tools). */
  restore(app: ResolvedApp, options: O, backupDir: string): RestoreGuide;
  /**
   * The live database a dump of this type's app belongs to, for restore and drills: the connection
   * (from the app's options or its own configuration) and the live name (a path for file-based
   * engines), which restore refuses to load over unless in place and confirmed. Throws when the
   * app's configuration is not readable here (e.g. on a backup server). Types without databases omit it.
   */
  databases?(app: ResolvedApp, options: O, dump: { engine: DatabaseEngine; db: string }): Promise<{ conn: DbConnection; live: string | undefined }>;
  /** Runs this type's custom steps. */
  runCustom?(step: CustomStep, ctx: RunContext): Promise<{ warning?: string } | void>;
}

/** A JobType with its option type erased, for the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobType = JobType<any>;

export function defineJobType<O>(t: JobType<O>): JobType<O> {
  return t;
}
