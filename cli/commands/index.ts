/** The explicit list of commands: one file each in cli/commands/. */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { demoCommand } from './demo.js';
import { discoverCommand } from './discover.js';
import { inventoryCommand } from './inventory.js';
import { applyCommand, moveCommand } from './move.js';
import { orphansCommand } from './orphans.js';
import { jobCommand } from './job.js';
import { pathsCommand } from './paths.js';
import { pullCommand } from './pull.js';
import { sshCommand } from './ssh.js';
import { scheduleCommand } from './schedule.js';
import { whichCommand } from './which.js';
import { listCommand } from './list.js';
import { restoreCommand } from './restore.js';
import { verifyCommand } from './verify.js';

export const commands: CommandModule<GlobalArgs, never>[] = [
  demoCommand as CommandModule<GlobalArgs, never>,
  inventoryCommand as CommandModule<GlobalArgs, never>,
  jobCommand as CommandModule<GlobalArgs, never>,
  pathsCommand as CommandModule<GlobalArgs, never>,
  pullCommand as CommandModule<GlobalArgs, never>,
  sshCommand as CommandModule<GlobalArgs, never>,
  moveCommand as CommandModule<GlobalArgs, never>,
  applyCommand as CommandModule<GlobalArgs, never>,
  orphansCommand as CommandModule<GlobalArgs, never>,
  discoverCommand as CommandModule<GlobalArgs, never>,
  scheduleCommand as CommandModule<GlobalArgs, never>,
  whichCommand as CommandModule<GlobalArgs, never>,
  listCommand as CommandModule<GlobalArgs, never>,
  restoreCommand as CommandModule<GlobalArgs, never>,
  verifyCommand as CommandModule<GlobalArgs, never>,
];
