/**
 * What the entry point loads for a command line: the module of the command it runs, and nothing
 * else (docs/decisions.md, "Startup"). `--version` and `completion` load no command; `--help`, a
 * missing or unknown command load them all (to list them and suggest the closest).
 */
import type { CommandModule } from 'yargs';
import { commandEntry, commandTable } from './commands/names.js';
import type { GlobalArgs } from './globals.js';

type Command = CommandModule<GlobalArgs, never>;

/** Global options that take a value: the word after them is not the command. */
const VALUE_OPTIONS = new Set(['-i', '--inventory', '--now', '--log-format']);

/** The command word of a command line (the first word that is neither an option nor a global option's value). */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (!a.startsWith('-')) return a;
    if (VALUE_OPTIONS.has(a)) i++;
  }
  return undefined;
}

async function allCommands(): Promise<readonly Command[]> {
  return (await import('./commands/index.js')).commands;
}

/** The command modules to register for `args`. */
export async function commandsFor(args: readonly string[]): Promise<readonly Command[]> {
  const word = commandWord(args);
  const entry = commandEntry(word);
  if (entry) return [await entry.load()];
  if (word === undefined && args.includes('--version') && !args.includes('--help')) return [];
  return allCommands();
}

/**
 * The answer to the completion script's `--get-yargs-completions <words>` (the program first, the
 * word being completed last): loads the module of the command already typed, nothing else.
 */
export async function completeLine(words: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const { complete } = await import('./completion.js');
  const entry = commandEntry(commandWord(words.slice(1, -1)));
  const zsh = /zsh/.test(env['SHELL'] ?? '') || /zsh/.test(env['ZSH_NAME'] ?? '');
  const commandNames = commandTable.map((c) => c.name);
  return complete({ words, commandNames, command: entry ? ((await entry.load()) as never) : undefined, env, zsh });
}
