import { isUtcZone } from './clock.js';

/** Durations written like "90s", "30m", "26h", "7d", "2w". */
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Human form of a duration in ms: "3d 4h", "26h", "12m", "40s". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24 ? ` ${h % 24}h` : ''}`;
}

const localFormats = new Map<string, Intl.DateTimeFormat>();

/** "2026-11-22 01:30": an ISO time as wall-clock time in the IANA `timeZone` ("-" when absent). */
export function formatLocalTime(iso: string | undefined, timeZone: string): string {
  if (!iso) return '-';
  if (isUtcZone(timeZone)) return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
  let fmt = localFormats.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    localFormats.set(timeZone, fmt);
  }
  const parts = fmt.formatToParts(new Date(iso));
  const g = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}`;
}
