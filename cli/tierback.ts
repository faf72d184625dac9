#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
/**
 * Entry point: parses arguments, runs one command, maps errors to exit codes. Only place that exits.
 * The shebang caps V8's young generation at 2 MB per semi-space (default: grows to 16 MB while the
 * modules load): a pull's process then peaks ~15 MB lower (docs/decisions.md, "Memory of a pull").
 */
import { ExitCode, InternalError, TierbackError, formatError } from '../lib/base/errors.js';
import { commandExitCode, exitAfterFlush, installSignalHandlers, interruption } from './lifecycle.js';
import { commandsFor, completeLine } from './startup.js';
import { tierbackVersion } from './version.js';

const debug = process.argv.includes('--debug');

function report(err: unknown): number {
  const known = err instanceof TierbackError ? err : new InternalError(err instanceof Error ? err.message : String(err), err);
  process.stderr.write(`${formatError(known)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return known.exitCode;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  // `tierback --version` alone is answered before yargs is loaded (startup: docs/decisions.md).
  if (args.length === 1 && args[0] === '--version') {
    process.stdout.write(`${tierbackVersion()}\n`);
    return ExitCode.OK;
  }
  // Load only the command this line runs (cli/startup.ts); completion only the one typed so far.
  const at = args.indexOf('--get-yargs-completions');
  if (at >= 0) {
    process.stdout.write((await completeLine(args.slice(at + 1), process.env)).map((c) => `${c}\n`).join(''));
    return ExitCode.OK;
  }
  const { buildParser } = await import('./parser.js');
  const parser = buildParser(await commandsFor(args), Math.min(110, process.stdout.columns || 100));
  await parser.parseAsync(args);
  return commandExitCode();
}

/** An interrupted run exits 130 whatever the command made of it (its history says `error=interrupted`). */
function interrupted(): number {
  process.stderr.write(`error: interrupted by ${String(interruption.reason)}\nhint: its children were stopped and its history says error=interrupted; run it again (docs/exit-codes.md)\n`);
  return ExitCode.INTERRUPTED;
}

installSignalHandlers();
main().then(
  (code) => exitAfterFlush(interruption.aborted ? interrupted() : code),
  (err: unknown) => exitAfterFlush(interruption.aborted ? interrupted() : report(err)),
);
