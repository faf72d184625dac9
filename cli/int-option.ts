/**
 * Whole-number options with their accepted range. yargs' `type: 'number'` accepts anything (`abc`
 * is NaN, `-1`, `1.5`, `1e12`); every numeric option of every command is declared with intOption,
 * and a value outside its range is a usage error (exit 2) naming the option and the range.
 */
import { UsageError } from '../lib/base/errors.js';

export interface IntRange {
  min: number;
  max: number;
  /** Accept fractions too (e.g. seconds: --retry-delay 0.2). */
  decimals?: boolean;
}

/** The value of `--name` if it is a whole number within `range`; else a UsageError. */
export function checkInt(name: string, range: IntRange, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && (range.decimals ? Number.isFinite(value) : Number.isInteger(value)) && value >= range.min && value <= range.max) return value;
  const got = Array.isArray(value) ? `${value.length} values (give it once)` : typeof value === 'number' && Number.isNaN(value) ? 'not a number' : String(value);
  throw new UsageError(`--${name} must be a ${range.decimals ? 'number' : 'whole number'} from ${range.min} to ${range.max}, got ${got}`, `e.g. --${name} ${Math.max(range.min, Math.min(range.max, 1))}`);
}

/** A yargs option declaration for a whole number (or, with `decimals`, any number) in `range`, shown in --help. */
export function intOption(name: string, range: IntRange, o: { describe: string; default?: number }) {
  return {
    type: 'number' as const,
    ...o,
    describe: `${o.describe} (${range.min}-${range.max}${range.decimals ? ', decimals allowed' : ''})`,
    coerce: (v: unknown): number => checkInt(name, range, v) as number,
  };
}
