/**
 * The pino logger the CLI creates and passes into the library. Secrets are redacted here, before
 * any format sees a line. Formats (lib/base/log-format.ts): pino's JSON, or pino-pretty's readable
 * lines, or those lines with the journal's `<N>` priority prefixes.
 */
import { isatty } from 'node:tty';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import type { LogFormat } from './log-format.js';

/** What is used of pino-pretty's module (a CommonJS `export =`, seen through import()). */
interface PinoPretty {
  default: (options: PrettyOptions) => DestinationStream;
  prettyFactory: (options: PrettyOptions) => (entry: object) => string;
}
let pretty: PinoPretty | undefined;

/**
 * Loads pino-pretty when `format` needs it (human, journal). JSON logging, the default off a
 * terminal, never loads it (start-up time: docs/decisions.md); the CLI calls this before a command runs.
 */
export async function loadLogFormat(format: LogFormat): Promise<void> {
  if (format !== 'json') pretty ??= (await import('pino-pretty')) as unknown as PinoPretty;
}

function prettyModule(format: LogFormat): PinoPretty {
  if (!pretty) throw new Error(`log format ${format}: call loadLogFormat() before createLogger()`);
  return pretty;
}

export type { Logger } from 'pino';

/** Keys whose values never reach a log line (passwords, secret env, option files' contents). */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'passwd',
  '*.passwd',
  'secret',
  '*.secret',
  'secretEnv',
  '*.secretEnv',
  'env.PGPASSWORD',
  'env.MYSQL_PWD',
  '*.env.PGPASSWORD',
  '*.env.MYSQL_PWD',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
];

export interface LoggerOptions {
  level?: string;
  /** File descriptor or path; default stderr (fd 2) so stdout stays for data. */
  destination?: number | string;
  /** Default json (the library's callers and tests); the CLI picks with resolveLogFormat(). */
  format?: LogFormat;
}

/** syslog priority of each pino level (sd-daemon(3): `<3>` err, `<4>` warning, `<6>` info, `<7>` debug). */
export function journalPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** What both readable forms share: message first, then the line's facts on the same line; no pid or hostname. */
const READABLE: PrettyOptions = { ignore: 'pid,hostname', singleLine: true, sync: true };

/** Readable lines: `[18:20:01.042] WARN: pull failed {"server":"zg-3.softxs.ch","exitCode":23}`. */
function humanDestination(dest: number | string): DestinationStream {
  const colorize = typeof dest === 'number' && isatty(dest);
  return prettyModule('human').default({ ...READABLE, colorize, translateTime: 'SYS:HH:MM:ss.l', destination: dest });
}

/** Journal lines: `<4>WARN: pull failed {...}`; the journal adds the time and reads the priority. */
function journalDestination(dest: number | string): DestinationStream {
  const prettify = prettyModule('journal').prettyFactory({ ...READABLE, colorize: false, ignore: 'pid,hostname,time' });
  const out = pino.destination({ dest, sync: true });
  return {
    write(line: string) {
      const entry = JSON.parse(line) as { level: number };
      out.write(`<${journalPriority(entry.level)}>${prettify(entry)}`);
    },
  };
}

function destinationOf(format: LogFormat, dest: number | string): DestinationStream {
  if (format === 'human') return humanDestination(dest);
  if (format === 'journal') return journalDestination(dest);
  return pino.destination({ dest, sync: true });
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'warn',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destinationOf(opts.format ?? 'json', opts.destination ?? 2),
  );
}

/** A logger that drops everything (tests, library callers without one). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
