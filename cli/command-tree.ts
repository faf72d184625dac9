/**
 * The commands as data: each command's options, positionals and subcommands, read from its yargs
 * builder without parsing anything or running a handler. `tierback man` and shell completion walk
 * the same definitions `--help` prints.
 */
import type { CommandModule } from 'yargs';

export type AnyCommand = CommandModule<never, never>;

export interface OptionInfo {
  name: string;
  aliases: string[];
  describe: string;
  choices: string[];
  /** False for boolean and count options: the word after them is not their value. */
  takesValue: boolean;
}

export interface CommandInfo {
  options: OptionInfo[];
  subcommands: AnyCommand[];
}

/** The first word of a yargs command string: `ssh <command>` -> `ssh`. */
export function commandName(c: AnyCommand): string {
  const first = Array.isArray(c.command) ? c.command[0] : c.command;
  return String(first ?? '').split(/\s+/)[0] ?? '';
}

/** The positional names of a command string, in order: `usb <mount> [servers..]` -> [mount, servers]. */
export function positionalNames(c: AnyCommand): string[] {
  const first = Array.isArray(c.command) ? c.command[0] : c.command;
  return [...String(first ?? '').matchAll(/[<[]([^\]>.|]+)(?:\.\.)?[\]>]/g)].map((m) => m[1]!);
}

function optionInfo(name: string, o: unknown): OptionInfo {
  const opt = (o ?? {}) as { alias?: unknown; describe?: unknown; description?: unknown; choices?: unknown; type?: unknown; boolean?: unknown; count?: unknown };
  const aliases = opt.alias === undefined ? [] : (Array.isArray(opt.alias) ? opt.alias : [opt.alias]).map(String);
  const describe = typeof opt.describe === 'string' ? opt.describe : typeof opt.description === 'string' ? opt.description : '';
  const takesValue = !(opt.type === 'boolean' || opt.type === 'count' || opt.boolean === true || opt.count === true);
  return { name, aliases, describe, choices: Array.isArray(opt.choices) ? opt.choices.map(String) : [], takesValue };
}

/**
 * What a builder declares, found by running it against a stand-in that records `.option()`,
 * `.options()` and `.command()` and answers every other call with itself. `setup` is a
 * function of the same shape (withGlobals, a command's builder).
 */
export function recordBuilder(setup: unknown): CommandInfo {
  const info: CommandInfo = { options: [], subcommands: [] };
  if (typeof setup !== 'function') return info;
  const recorder: object = new Proxy(
    {},
    {
      get: (_t, prop) => (...args: unknown[]) => {
        if (prop === 'command' && args[0] && typeof args[0] === 'object' && 'command' in args[0]) info.subcommands.push(args[0] as AnyCommand);
        if (prop === 'option' && typeof args[0] === 'string') info.options.push(optionInfo(args[0], args[1]));
        if (prop === 'options' && args[0] && typeof args[0] === 'object') for (const [k, v] of Object.entries(args[0])) info.options.push(optionInfo(k, v));
        return recorder;
      },
    },
  );
  (setup as (y: unknown) => unknown)(recorder);
  return info;
}

/** The subcommands a command's builder registers (`offsite` -> usb, drives, push, ...). */
export function subcommandsOf(c: AnyCommand): AnyCommand[] {
  return recordBuilder(c.builder).subcommands;
}
