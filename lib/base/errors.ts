/**
 * Typed errors. Every error the library throws on purpose is a TierbackError carrying
 * a stable exit code and, where we can say one, a hint telling the user what to do.
 * The CLI's single top-level catch maps them to process exit codes (docs/exit-codes.md).
 */

export const ExitCode = {
  OK: 0,
  /** A backup, pull or check ran and failed. */
  FAILED: 1,
  /** Bad command-line arguments or an invalid inventory. */
  INVALID: 2,
  /** The app, server or path named is not known to the inventory / not under a partition. */
  NOT_FOUND: 3,
  /** Another run holds the lock for the same app or server. */
  LOCKED: 4,
  /** Several items were processed and some (not all) failed. */
  PARTIAL: 5,
  /** Refused for safety: would overwrite live data, delete the newest backup, etc. */
  REFUSED: 6,
  /** A bug in tierback; please report it. */
  INTERNAL: 70,
  /** Interrupted by a signal (SIGINT/SIGTERM). */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class TierbackError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: ExitCodeValue; hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode ?? ExitCode.FAILED;
    this.hint = opts.hint;
  }
}

/** One problem found in an inventory, located by its inventory path (`apps[3].relpath`). */
export interface InventoryProblem {
  /** Inventory path such as `apps[3].relpath`, or `(file)` for whole-file problems. */
  path: string;
  /** Name of the app/server/vm the problem belongs to, when there is one. */
  subject?: string;
  message: string;
  hint?: string;
  /** 1-based line in the YAML file, when the parser knows it. */
  line?: number;
}

export class InventoryError extends TierbackError {
  readonly file: string;
  readonly problems: InventoryProblem[];
  constructor(file: string, problems: InventoryProblem[]) {
    super(`${file}: inventory is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
      exitCode: ExitCode.INVALID,
      hint: 'fix every problem listed, then run `tierback inventory check` again',
    });
    this.file = file;
    this.problems = problems;
  }
}

export class UsageError extends TierbackError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.INVALID, ...(hint ? { hint } : {}) });
  }
}

export class NotFoundError extends TierbackError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.NOT_FOUND, ...(hint ? { hint } : {}) });
  }
}

export class LockedError extends TierbackError {
  readonly holderPid: number | undefined;
  constructor(message: string, holderPid?: number, hint?: string) {
    super(message, { exitCode: ExitCode.LOCKED, hint: hint ?? 'wait for the other run to finish; a lock of a dead process is taken over automatically' });
    this.holderPid = holderPid;
  }
}

export class RefusedError extends TierbackError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.REFUSED, ...(hint ? { hint } : {}) });
  }
}

/** A subprocess failed. Carries the command as data (never a shell string). */
export class CommandError extends TierbackError {
  readonly command: readonly string[];
  readonly code: number | undefined;
  readonly stderr: string;
  constructor(message: string, command: readonly string[], code: number | undefined, stderr: string, hint?: string) {
    super(message, { exitCode: ExitCode.FAILED, ...(hint ? { hint } : {}) });
    this.command = command;
    this.code = code;
    this.stderr = stderr;
  }
}

export class InternalError extends TierbackError {
  constructor(message: string, cause?: unknown) {
    super(message, {
      exitCode: ExitCode.INTERNAL,
      hint: 'this is a bug in tierback; please report it with the output of the same command run with --debug',
      cause,
    });
  }
}

/** One line per error, as the CLI prints it (no stack). */
export function formatError(err: unknown): string {
  if (err instanceof InventoryError) {
    const lines = [`error: ${err.message}`];
    for (const p of err.problems) lines.push(`  ${formatProblem(p)}`);
    if (err.hint) lines.push(`hint: ${err.hint}`);
    return lines.join('\n');
  }
  if (err instanceof TierbackError) {
    return `error: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}`;
  }
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}

export function formatProblem(p: InventoryProblem): string {
  const where = p.line !== undefined ? `${p.path} (line ${p.line})` : p.path;
  const who = p.subject ? ` [${p.subject}]` : '';
  return `${where}${who}: ${p.message}${p.hint ? ` — hint: ${p.hint}` : ''}`;
}

/** One line for history and logs: the message, and the hint when there is one. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = (err as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint ? `${err.message} (hint: ${hint})` : err.message;
}

/** The `error=` of a run stopped by SIGINT/SIGTERM in history (docs/exit-codes.md). */
export const INTERRUPTED_ERROR = 'interrupted';

/** History's error text of a failed run: `interrupted` when `signal` was aborted, else the error's text. */
export function failureText(err: unknown, signal: AbortSignal | undefined): string {
  return signal?.aborted ? INTERRUPTED_ERROR : errorText(err);
}
