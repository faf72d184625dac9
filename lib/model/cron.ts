/**
 * Five-field cron schedules (Vixie cron, as Debian's cron and cron.d read them): each field's
 * syntax and range, with the field named in every error. Pure.
 *
 *   minute 0-59   hour 0-23   day of month 1-31   month 1-12 or jan-dec   day of week 0-7 (0 and 7: Sunday) or sun-sat
 *
 * A field is `*`, a number, a range `a-b`, either with a step `/n`, or a comma-separated list of
 * those; a month or weekday name stands alone (cron accepts no ranges or lists of names).
 */
import type { Violation } from './names.js';

export const CRON_ALIASES: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

export const CRON_FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

const HINT = 'five fields "minute hour day-of-month month day-of-week", e.g. "30 1 * * *", or @daily';

function describeField(f: Field): string {
  return `${f.min}-${f.max}${f.names ? ` or ${f.names[0]}-${f.names.at(-1)}` : ''}`;
}

/**
 * The values of one field (index 0-4), sorted; undefined for a bare "*". Day of week 7 counts as 0.
 * Returns a Violation naming the field when the syntax or a range is wrong.
 */
export function parseCronField(field: string, index: number): number[] | undefined | Violation {
  const f = CRON_FIELDS[index]!;
  const bad = (message: string): Violation => ({ message, hint: `${f.name} is ${describeField(f)}; ${HINT}` });
  if (field === '*') return undefined;
  const named = f.names?.indexOf(field.toLowerCase()) ?? -1;
  if (named >= 0) return [named + (f.name === 'month' ? 1 : 0)];
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) {
      if (f.names && /[a-z]/i.test(part)) return bad(`${f.name} "${field}" is not valid: a name (${f.names.join(', ')}) must stand alone, not in a list or range`);
      return bad(`${f.name} "${field}" is not valid`);
    }
    const lo = m[1] === '*' ? f.min : Number(m[2]);
    const hi = m[1] === '*' ? f.max : m[3] !== undefined ? Number(m[3]) : m[4] ? f.max : lo;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    for (const v of [lo, hi]) if (v < f.min || v > f.max) return bad(`${f.name} ${v} is out of range ${f.min}-${f.max}`);
    if (lo > hi) return bad(`${f.name} range ${lo}-${hi} runs backwards`);
    if (step < 1) return bad(`${f.name} step /${m[4]} must be at least 1`);
    for (let v = lo; v <= hi; v += step) out.add(index === 4 && v === 7 ? 0 : v);
  }
  return [...out].sort((a, b) => a - b);
}

function isViolation(v: number[] | undefined | Violation): v is Violation {
  return v !== undefined && !Array.isArray(v);
}

/** Checks a schedule: five fields each valid and in range, or an @alias. */
export function checkCron(expr: string): Violation | undefined {
  const s = expr.trim();
  if (s.startsWith('@')) return CRON_ALIASES[s] ? undefined : { message: `"${s}" is not a cron schedule`, hint: `the @ forms are ${Object.keys(CRON_ALIASES).join(', ')}` };
  const fields = s.split(/\s+/);
  if (fields.length !== 5) return { message: `"${s}" is not a cron schedule (${fields.length} field${fields.length === 1 ? '' : 's'}, not 5)`, hint: HINT };
  for (let i = 0; i < 5; i++) {
    const r = parseCronField(fields[i]!, i);
    if (isViolation(r)) return { message: `"${s}": ${r.message}`, hint: r.hint };
  }
  return undefined;
}

/** The values of one field of a schedule that passed checkCron (undefined for "*"); throws on an invalid field. */
export function cronFieldValues(field: string, index: number): number[] | undefined {
  const r = parseCronField(field, index);
  if (isViolation(r)) throw new TypeError(r.message);
  return r;
}
