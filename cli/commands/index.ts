/** The explicit list of commands: one file each in cli/commands/. */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { inventoryCommand } from './inventory.js';
import { pathsCommand } from './paths.js';
import { pruneCommand } from './prune.js';
import { whichCommand } from './which.js';

export const commands: CommandModule<GlobalArgs, never>[] = [
  inventoryCommand as CommandModule<GlobalArgs, never>,
  pathsCommand as CommandModule<GlobalArgs, never>,
  pruneCommand as CommandModule<GlobalArgs, never>,
  whichCommand as CommandModule<GlobalArgs, never>,
];
