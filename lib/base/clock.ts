/**
 * "Now" for every command that reads the time: the real clock, or a fixed starting time given
 * with `--now` / `$TIERBACK_NOW` (a testing and drill aid: replay a prune, see what status says
 * next week, simulate a year of nights). docs/operate.md#clock.
 */
import { UsageError } from './errors.js';

/** Environment variable that fixes "now": an ISO 8601 date. */
export const NOW_ENV = 'TIERBACK_NOW';

/** The fixed "now" given (--now text, else $TIERBACK_NOW), or undefined for the real clock. Throws UsageError on an unparsable date. */
export function givenNow(given: string | undefined, env: NodeJS.ProcessEnv = process.env): Date | undefined {
  const text = given ?? env[NOW_ENV];
  if (text === undefined || text === '') return undefined;
  const d = /^\d{4}-\d{2}-\d{2}T/.test(text) || /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(
      `${given !== undefined ? '--now' : `$${NOW_ENV}`} "${text}" is not a date`,
      'write an ISO 8601 date with a timezone, e.g. 2026-01-01T00:00:00Z or 2026-01-01T01:00:00+01:00',
    );
  }
  return d;
}

/** "Now": the given text (--now), else $TIERBACK_NOW, else the clock. */
export function resolveNow(given: string | undefined, env: NodeJS.ProcessEnv = process.env): Date {
  return givenNow(given, env) ?? new Date();
}

/**
 * A clock for commands that write stamps (job, pull, offsite, verify): the real clock, or one that
 * starts at `start` and advances with real time, so a run's start and end stay apart by its duration.
 */
export function clockFrom(start: Date | undefined): () => Date {
  if (!start) return () => new Date();
  const t0 = Date.now();
  return () => new Date(start.getTime() + (Date.now() - t0));
}

/**
 * True for the names of UTC itself. Dates in UTC are read from the Date (toISOString) without
 * Intl.DateTimeFormat: building one loads ICU's locale and calendar data, about 8 MB of memory
 * for the rest of the process (a pull of a site on the default timezone never pays it).
 */
export function isUtcZone(timeZone: string): boolean {
  return timeZone === 'UTC' || timeZone === 'Etc/UTC' || timeZone === 'Etc/UCT' || timeZone === 'UCT' || timeZone === 'Etc/Universal' || timeZone === 'Universal' || timeZone === 'Zulu' || timeZone === 'Etc/Zulu';
}
