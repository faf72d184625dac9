/** The explicit list of commands: one file each in cli/commands/. */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { discoverCommand } from './discover.js';
import { inventoryCommand } from './inventory.js';
import { applyCommand, moveCommand } from './move.js';
import { orphansCommand } from './orphans.js';
import { pathsCommand } from './paths.js';
import { scheduleCommand } from './schedule.js';
import { whichCommand } from './which.js';

export const commands: CommandModule<GlobalArgs, never>[] = [
  inventoryCommand as CommandModule<GlobalArgs, never>,
  pathsCommand as CommandModule<GlobalArgs, never>,
  moveCommand as CommandModule<GlobalArgs, never>,
  applyCommand as CommandModule<GlobalArgs, never>,
  orphansCommand as CommandModule<GlobalArgs, never>,
  discoverCommand as CommandModule<GlobalArgs, never>,
  scheduleCommand as CommandModule<GlobalArgs, never>,
  whichCommand as CommandModule<GlobalArgs, never>,
];
