/** The explicit list of commands: one file each in cli/commands/, in the order `--help` shows them. */
import type { CommandModule } from 'yargs';
import type { GlobalArgs } from '../context.js';
import { completionCommand } from './completion.js';
import { demoCommand } from './demo.js';
import { discoverCommand } from './discover.js';
import { exitCodesCommand } from './exit-codes.js';
import { historyCommand } from './history.js';
import { inventoryCommand } from './inventory.js';
import { jobCommand } from './job.js';
import { listCommand } from './list.js';
import { manCommand } from './man.js';
import { monitorCommand } from './monitor.js';
import { applyCommand, moveCommand } from './move.js';
import { offsiteCommand } from './offsite.js';
import { orphansCommand } from './orphans.js';
import { pathsCommand } from './paths.js';
import { pruneCommand } from './prune.js';
import { pullCommand } from './pull.js';
import { reportCommand } from './report.js';
import { restoreCommand } from './restore.js';
import { scheduleCommand } from './schedule.js';
import { serveCommand } from './serve.js';
import { sshCommand } from './ssh.js';
import { statusCommand } from './status.js';
import { usersCommand } from './users.js';
import { verifyCommand } from './verify.js';
import { whichCommand } from './which.js';

const list: CommandModule<GlobalArgs, never>[] = [
  // backups
  jobCommand,
  pullCommand,
  pruneCommand,
  offsiteCommand,
  // getting data back
  listCommand,
  restoreCommand,
  verifyCommand,
  serveCommand,
  usersCommand,
  // knowing what is backed up
  statusCommand,
  historyCommand,
  reportCommand,
  monitorCommand,
  // the site
  inventoryCommand,
  pathsCommand,
  whichCommand,
  sshCommand,
  scheduleCommand,
  moveCommand,
  applyCommand,
  orphansCommand,
  discoverCommand,
  exitCodesCommand,
  manCommand,
  completionCommand,
  demoCommand,
] as unknown as CommandModule<GlobalArgs, never>[];

export const commands = list;
