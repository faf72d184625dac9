/** A command that only groups subcommands (`tierback ssh <command>`): one of them is required. */
import type { CommandModule } from 'yargs';
import { EXIT_CODES_EPILOG, type GlobalArgs } from './globals.js';

export interface CommandGroup {
  command: string;
  describe: string;
  /** In the order `--help` lists them. */
  subcommands: { command?: unknown; builder?: unknown; handler?: unknown }[];
  /** [command line, what it does], as `.example()` takes them. */
  examples: [string, string][];
}

export function commandGroup(g: CommandGroup): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: g.command,
    describe: g.describe,
    builder: (y) => {
      let b = y;
      for (const c of g.subcommands) b = b.command(c as CommandModule<GlobalArgs, GlobalArgs>);
      b = b.demandCommand(1);
      for (const [cmd, what] of g.examples) b = b.example(cmd, what);
      return b.epilog(EXIT_CODES_EPILOG);
    },
    handler: () => undefined,
  };
}
