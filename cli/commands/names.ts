/**
 * Every top-level command's name and how to load its module, so the entry point imports only the
 * command it runs (startup time: docs/decisions.md). cli/commands/index.ts stays the list `--help`
 * shows; test/unit/cli-startup.test.ts keeps this table in step with it. A command missing here
 * still runs (the entry point then loads them all), only slower.
 */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../globals.js';

export interface CommandEntry {
  name: string;
  load: () => Promise<CommandModule<GlobalArgs, never>>;
}

/** Commands are typed by their own arguments; the table holds them as yargs takes them. */
const as = (m: unknown): CommandModule<GlobalArgs, never> => m as CommandModule<GlobalArgs, never>;

export const commandTable: CommandEntry[] = [
  { name: 'job', load: async () => as((await import('./job.js')).jobCommand) },
  { name: 'pull', load: async () => as((await import('./pull.js')).pullCommand) },
  { name: 'prune', load: async () => as((await import('./prune.js')).pruneCommand) },
  { name: 'offsite', load: async () => as((await import('./offsite.js')).offsiteCommand) },
  { name: 'list', load: async () => as((await import('./list.js')).listCommand) },
  { name: 'restore', load: async () => as((await import('./restore.js')).restoreCommand) },
  { name: 'verify', load: async () => as((await import('./verify.js')).verifyCommand) },
  { name: 'status', load: async () => as((await import('./status.js')).statusCommand) },
  { name: 'history', load: async () => as((await import('./history.js')).historyCommand) },
  { name: 'report', load: async () => as((await import('./report.js')).reportCommand) },
  { name: 'monitor', load: async () => as((await import('./monitor.js')).monitorCommand) },
  { name: 'inventory', load: async () => as((await import('./inventory.js')).inventoryCommand) },
  { name: 'paths', load: async () => as((await import('./paths.js')).pathsCommand) },
  { name: 'which', load: async () => as((await import('./which.js')).whichCommand) },
  { name: 'ssh', load: async () => as((await import('./ssh.js')).sshCommand) },
  { name: 'schedule', load: async () => as((await import('./schedule.js')).scheduleCommand) },
  { name: 'move', load: async () => as((await import('./move.js')).moveCommand) },
  { name: 'apply', load: async () => as((await import('./move.js')).applyCommand) },
  { name: 'orphans', load: async () => as((await import('./orphans.js')).orphansCommand) },
  { name: 'discover', load: async () => as((await import('./discover.js')).discoverCommand) },
  { name: 'exit-codes', load: async () => as((await import('./exit-codes.js')).exitCodesCommand) },
  { name: 'serve', load: async () => as((await import('./serve.js')).serveCommand) },
  { name: 'users', load: async () => as((await import('./users.js')).usersCommand) },
  { name: 'demo', load: async () => as((await import('./demo.js')).demoCommand) },
  { name: 'man', load: async () => as((await import('./man.js')).manCommand) },
  { name: 'completion', load: async () => as((await import('./completion.js')).completionCommand) },
];

/** The entry of a command name, or undefined (not a command, or one this table does not know). */
export function commandEntry(name: string | undefined): CommandEntry | undefined {
  return name === undefined ? undefined : commandTable.find((c) => c.name === name);
}
