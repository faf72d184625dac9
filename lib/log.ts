/** The pino logger the CLI creates and passes into the library. Secrets are redacted here. */
import pino, { type Logger } from 'pino';

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
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'warn',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: opts.destination ?? 2, sync: true }),
  );
}

/** A logger that drops everything (tests, library callers without one). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
