/**
 * One run lifecycle for every command (docs/exit-codes.md):
 * - SIGINT and SIGTERM abort one AbortSignal (`interruption`) that every command which writes hands
 *   down to the library: its children are stopped, its working files removed, its history gets
 *   `status=failed error=interrupted`, and the process exits 130. A second signal exits 130 at once
 *   (the next run removes what is left).
 * - The process exits only after stdout and stderr are flushed, so output arrives whole through a
 *   pipe, over ssh and into a file.
 */
import { setMaxListeners } from 'node:events';
import { ExitCode } from '../lib/base/errors.js';

const controller = new AbortController();
// Every child a command runs listens on this signal while it runs (execa's cancelSignal, and the kill of
// its process group: lib/base/exec.ts), and a batch of pulls runs up to its transfer budget of rsyncs
// with their ssh connections at once: more than Node's default warning at 10. Listeners are removed as
// children end; the bound still flags a leak.
setMaxListeners(1000, controller.signal);

/** Aborted by the first SIGINT or SIGTERM; its `reason` is the signal's name. */
export const interruption: AbortSignal = controller.signal;

let installed = false;
let commandCode: number | undefined;

/**
 * Wraps a command's handler: the handler returns its exit code, and the entry point alone
 * (cli/tierback.ts, through `commandExitCode()`) sets the process's.
 */
export function run<A>(handler: (argv: A) => Promise<number> | number): (argv: A) => Promise<void> {
  return async (argv: A) => {
    commandCode = await handler(argv);
  };
}

/** The exit code the command's handler returned (0 when no handler ran: `--help`, `--version`). */
export function commandExitCode(): number {
  return commandCode ?? ExitCode.OK;
}
let claimed = false;

/**
 * The signal a command that writes hands down to the library (jobs, pulls, drills, prune, offsite,
 * restore, move): once a command has taken it, a SIGINT/SIGTERM lets the command stop cleanly and
 * record the interruption. A command that never takes it (the read-only ones) is ended at once.
 */
export function interruptSignal(): AbortSignal {
  claimed = true;
  return controller.signal;
}

/**
 * Installs the SIGINT/SIGTERM handlers. They stay installed for the whole run (`process.on`, not
 * `once`): with no handler left, execa's exit hook (signal-exit) would re-raise the signal and the
 * process would die with 143 before cleaning up.
 */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!claimed) process.exit(ExitCode.INTERRUPTED); // nothing to clean up: a read-only command
    if (controller.signal.aborted) {
      process.stderr.write(`\n${sig} again: exiting now (the next run removes what is left)\n`);
      process.exit(ExitCode.INTERRUPTED);
    }
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A reader that goes away (`tierback status | head`) is not an error of ours.
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS (or the stream failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * Ends the process with `code` once stdout and stderr are flushed. Calling process.exit() with
 * writes still pending on a pipe cuts the output (64 KiB, the pipe's buffer); waiting for the
 * loop to drain on its own could hang on a stray handle, so: flush, then exit.
 */
export async function exitAfterFlush(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
