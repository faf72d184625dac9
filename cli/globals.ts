/**
 * The global options and the EXIT STATUS epilog: what the entry point needs before it knows the
 * command. Light on purpose (no pino, zod or inventory): `--version`, `--help` and completion
 * load this and yargs only.
 */
import type { Argv } from 'yargs';
import { NOW_ENV } from '../lib/base/clock.js';
import { exitCodesText } from '../lib/base/exit-codes.js';
import { LOG_FORMATS, LOG_FORMAT_ENV } from '../lib/base/log-format.js';

export interface GlobalArgs {
  inventory?: string | undefined;
  json?: boolean | undefined;
  debug?: boolean | undefined;
  verbose?: boolean | undefined;
  now?: string | undefined;
  'log-format'?: string | undefined;
}

export function withGlobals<T>(y: Argv<T>) {
  return y
    .option('inventory', { alias: 'i', type: 'string', describe: 'Inventory file (else $TIERBACK_INVENTORY, else /etc/tierback/inventory.yaml)', global: true })
    .option('debug', { type: 'boolean', describe: 'Debug logging and stack traces', global: true })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'Info logging (which inventory, each command run)', global: true })
    .option('log-format', {
      type: 'string',
      choices: LOG_FORMATS,
      describe: `Log lines on stderr: human (readable), json (pino), journal (systemd priority prefixes); else $${LOG_FORMAT_ENV}, else human on a terminal and json elsewhere`,
      global: true,
    })
    .option('now', { type: 'string', describe: `Testing aid: run as if it were this time (ISO 8601; else $${NOW_ENV}, else the clock); docs/operate.md#clock`, global: true });
}

/** The EXIT STATUS section every command's `--help` ends with, generated from lib/base/exit-codes.ts. */
export const EXIT_CODES_EPILOG = exitCodesText();
