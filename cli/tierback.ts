#!/usr/bin/env node
/** Entry point: parses arguments, runs one command, maps errors to exit codes. Only place that exits. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, InternalError, TierbackError, UsageError, formatError } from '../lib/errors.js';
import { commands } from './commands/index.js';
import { EXIT_CODES_EPILOG, withGlobals } from './context.js';
import { commandExitCode, exitAfterFlush, installSignalHandlers, interruption } from './lifecycle.js';

const debug = process.argv.includes('--debug');

function report(err: unknown): number {
  const known = err instanceof TierbackError ? err : new InternalError(err instanceof Error ? err.message : String(err), err);
  process.stderr.write(`${formatError(known)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return known.exitCode;
}

async function main(): Promise<number> {
  let parser = withGlobals(yargs(hideBin(process.argv)))
    .scriptName('tierback')
    .usage('$0 <command> [options]\n\nTiered backups by directory convention. See README.md and docs/.')
    .strict()
    .demandCommand(1, 'give a command; `tierback --help` lists them')
    .recommendCommands()
    .epilog(EXIT_CODES_EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      // An option's coerce (cli/int-option.ts) failing reaches here as yargs' YError: a usage error too.
      if (err && err.name !== 'YError') throw err;
      throw new UsageError(err?.message ?? msg, 'see `tierback --help` or `tierback <command> --help`');
    });
  for (const c of commands) parser = parser.command(c);
  await parser.parseAsync();
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
