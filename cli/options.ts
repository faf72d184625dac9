/**
 * Options several commands share, one definition each: `.option('json', jsonOption())`.
 * Name and alias stay at the call, so each command's help reads as before; the help text may differ per command.
 */
import { intOption } from './int-option.js';

/** --json: print the result as JSON instead of text. */
export function jsonOption(describe = 'As JSON') {
  return { type: 'boolean' as const, describe };
}

/** --dry-run / -n: print the plan and do nothing. */
export function dryRunOption(describe: string) {
  return { alias: 'n', type: 'boolean' as const, describe };
}

/** --root: the folder standing for / ($TIERBACK_ROOT, else /). */
export function rootOption(describe = 'Look below this folder instead of / ($TIERBACK_ROOT)') {
  return { type: 'string' as const, default: process.env['TIERBACK_ROOT'] || '/', describe };
}

/** --backup-server: which backup server this host is, or a filter on backup servers. */
export function backupServerOption(describe = 'Which backup server this host is (else $TIERBACK_HOST, hostname, the only one)') {
  return { type: 'string' as const, describe };
}

/** The help texts of the database connection options: each command says what the connection is for. */
export interface DbConnectionHelp {
  host: string;
  port: string;
  socket: string;
  user: string;
  passwordFile: string;
}

/** --db-host, --db-port, --db-socket, --db-user, --db-password-file, in that order: `.options(dbConnectionOptions({...}))`. */
export function dbConnectionOptions(help: DbConnectionHelp) {
  return {
    'db-host': { type: 'string' as const, describe: help.host },
    'db-port': intOption('db-port', { min: 1, max: 65535 }, { describe: help.port }),
    'db-socket': { type: 'string' as const, describe: help.socket },
    'db-user': { type: 'string' as const, describe: help.user },
    'db-password-file': { type: 'string' as const, describe: help.passwordFile },
  };
}
