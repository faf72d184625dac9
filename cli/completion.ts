/**
 * Shell completion (bash and zsh; `tierback completion` prints yargs' script, docs/install.md).
 * The script runs `tierback --get-yargs-completions <words>`; this answers it from the command
 * definitions (cli/command-tree.ts: no parsing, no handler runs) and the inventory's names
 * (`-i` on the line, else $TIERBACK_INVENTORY, else the default) where a positional or an option
 * takes an app, a server or a backup server. Only the typed command's module and js-yaml load.
 */
import { locateInventory } from '../lib/model/inventory/locate.js';
import { readInventoryNames, type InventoryNames } from '../lib/model/inventory/names.js';
import { commandName, positionalNames, recordBuilder, type AnyCommand, type OptionInfo } from './command-tree.js';
import { withGlobals } from './globals.js';

type Kind = keyof InventoryNames;

/** Which names an option or a positional of this name takes. */
export function kindOf(name: string): Kind | undefined {
  if (/^backup-servers?$/.test(name)) return 'backupServers';
  if (/^apps?$/.test(name)) return 'apps';
  if (/^(servers?|source|host)$/.test(name)) return 'servers';
  return undefined;
}

export interface CompletionContext {
  /** The shell's words: the program first, the word being completed last. */
  words: readonly string[];
  /** The top-level commands, by name (stubs are enough) */
  commandNames: readonly string[];
  /** The module of the command typed, loaded; undefined while the command itself is typed. */
  command?: AnyCommand | undefined;
  env: NodeJS.ProcessEnv;
  /** zsh shows `name:description`; bash takes names. */
  zsh?: boolean;
}

function optionWords(options: readonly OptionInfo[], zsh: boolean): string[] {
  return options.flatMap((o) => [o.name, ...o.aliases].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).map((w) => (zsh ? `${w.replace(/:/g, '\\:')}:${o.describe.replace(/\n/g, ' ')}` : w)));
}

function inventoryOption(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-i' || w === '--inventory') return words[i + 1];
    if (w.startsWith('--inventory=')) return w.slice('--inventory='.length);
  }
  return undefined;
}

/** The option `word` names, when it takes a value (boolean options do not): the next word is its value. */
function valueOption(options: readonly OptionInfo[], word: string): OptionInfo | undefined {
  const key = word.replace(/^-+/, '');
  return word.startsWith('-') && !word.includes('=') ? options.find((o) => o.takesValue && (o.name === key || o.aliases.includes(key))) : undefined;
}

/** The completions of the last word that start with what is typed (zsh: with their descriptions). */
export async function complete(ctx: CompletionContext): Promise<string[]> {
  const current = ctx.words[ctx.words.length - 1] ?? '';
  return (await candidates(ctx)).filter((c) => c.startsWith(current));
}

async function candidates(ctx: CompletionContext): Promise<string[]> {
  const zsh = ctx.zsh ?? false;
  const words = ctx.words.slice(1);
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  const builtIn = (name: string, describe: string): OptionInfo => ({ name, aliases: [], describe, choices: [], takesValue: false });
  const globals = [...recordBuilder(withGlobals).options, builtIn('help', 'Show help'), builtIn('version', 'Show version number')];
  if (!ctx.command) {
    if (current.startsWith('-')) return optionWords(globals, zsh);
    return before.length > 0 && valueOption(globals, before[before.length - 1]!) ? [] : [...ctx.commandNames];
  }
  // The deepest command typed (`ssh check` -> check) and the words after it.
  let cmd = ctx.command;
  let info = recordBuilder(cmd.builder);
  let rest = before.slice(before.indexOf(commandName(cmd)) + 1);
  for (;;) {
    const sub = info.subcommands.find((s) => rest.includes(commandName(s)));
    if (!sub) break;
    rest = rest.slice(rest.indexOf(commandName(sub)) + 1);
    cmd = sub;
    info = recordBuilder(sub.builder);
  }
  const options = [...globals, ...info.options];
  if (current.startsWith('-')) return optionWords(options, zsh);
  const prev = valueOption(options, before[before.length - 1] ?? '');
  let kind: Kind | undefined;
  if (prev && prev.choices.length > 0) return prev.choices;
  if (prev && kindOf(prev.name)) kind = kindOf(prev.name);
  else if (info.subcommands.length > 0) return info.subcommands.map((s) => commandName(s));
  else {
    const positionals = rest.filter((w, i) => !w.startsWith('-') && !valueOption(options, rest[i - 1] ?? ''));
    const names = positionalNames(cmd);
    const name = names[Math.min(positionals.length, names.length - 1)];
    kind = name === undefined ? undefined : kindOf(name);
  }
  if (!kind) return [];
  const { file } = locateInventory({ file: inventoryOption(ctx.words), env: ctx.env });
  return (await readInventoryNames(file))[kind];
}
