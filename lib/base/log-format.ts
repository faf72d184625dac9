/**
 * Which form log lines take on stderr (docs/operate.md#logs). Light on purpose: the entry point
 * reads the choices before any logger is loaded.
 * - `human`: time, level word, message, key facts (pino-pretty); the default on a terminal.
 * - `json`: one pino JSON object a line; the default elsewhere (cron mail, pipes, log shippers).
 * - `journal`: `<N>` syslog priority prefixes that systemd's journal reads from stderr, no time
 *   (the journal stamps lines); the default when stderr is the journal ($JOURNAL_STREAM).
 */
import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';

export const LOG_FORMATS = ['human', 'json', 'journal'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Environment variable that picks the log format when `--log-format` is not given. */
export const LOG_FORMAT_ENV = 'TIERBACK_LOG_FORMAT';

export function isLogFormat(s: string | undefined): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s ?? '');
}

/** True when `fd` is the stream systemd connected to the journal ($JOURNAL_STREAM is "device:inode"). */
export function isJournalStream(env: NodeJS.ProcessEnv, fd: number): boolean {
  const js = env['JOURNAL_STREAM'];
  if (!js) return false;
  try {
    const st = fstatSync(fd);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** `--log-format`, else $TIERBACK_LOG_FORMAT, else journal/human/json by what `fd` (stderr) is. */
export function resolveLogFormat(given: string | undefined, env: NodeJS.ProcessEnv, fd = 2): LogFormat {
  if (isLogFormat(given)) return given;
  const fromEnv = env[LOG_FORMAT_ENV];
  if (isLogFormat(fromEnv)) return fromEnv;
  if (isJournalStream(env, fd)) return 'journal';
  return isatty(fd) ? 'human' : 'json';
}
