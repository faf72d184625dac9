/** The explicit list of commands: one file each in cli/commands/. */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { demoCommand } from './demo.js';
import { inventoryCommand } from './inventory.js';
import { pathsCommand } from './paths.js';
import { pullCommand } from './pull.js';
import { sshCommand } from './ssh.js';
import { whichCommand } from './which.js';

export const commands: CommandModule<GlobalArgs, never>[] = [
  demoCommand as CommandModule<GlobalArgs, never>,
  inventoryCommand as CommandModule<GlobalArgs, never>,
  pathsCommand as CommandModule<GlobalArgs, never>,
  pullCommand as CommandModule<GlobalArgs, never>,
  sshCommand as CommandModule<GlobalArgs, never>,
  whichCommand as CommandModule<GlobalArgs, never>,
];
