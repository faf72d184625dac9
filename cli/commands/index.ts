/** The explicit list of commands: one file each in cli/commands/. */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { historyCommand } from './history.js';
import { inventoryCommand } from './inventory.js';
import { monitorCommand } from './monitor.js';
import { pathsCommand } from './paths.js';
import { reportCommand } from './report.js';
import { statusCommand } from './status.js';
import { whichCommand } from './which.js';

export const commands: CommandModule<GlobalArgs, never>[] = [
  inventoryCommand as CommandModule<GlobalArgs, never>,
  pathsCommand as CommandModule<GlobalArgs, never>,
  statusCommand as CommandModule<GlobalArgs, never>,
  historyCommand as CommandModule<GlobalArgs, never>,
  reportCommand as CommandModule<GlobalArgs, never>,
  monitorCommand as CommandModule<GlobalArgs, never>,
  whichCommand as CommandModule<GlobalArgs, never>,
];
