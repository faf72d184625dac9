/**
 * History files: `backup-<name>-<yyyymmdd>` in a history directory, one line per event in
 * logfmt (key=value, values with spaces quoted). A run writes a `status=running` line when it
 * starts and one final line with the same `run=` id when it ends; a run with no final line
 * was interrupted (killed, crashed, power cut) and is read back as failed.
 * Format: docs/convention.md#history.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { historyFilePath } from './layout.js';
import { parseHistoryFileName } from './names.js';
import { appendLogLine } from '../base/fsutil.js';
import { isUtcZone } from '../base/clock.js';
import type { FinalStatus } from './outcome.js';

export const HISTORY_HEADER = '# tierback history v1: one event per line, logfmt; see docs/convention.md#history';

/** The status of a history line: a start line says running, a final line how the run ended. */
export type LineStatus = 'running' | FinalStatus;
export type HistoryTier = 'local' | 'remote' | 'offsite' | 'drill';

/** What a final line tells of a run besides its times: counts, sizes, where it ran, how it went wrong. */
export interface RunFacts {
  durationS?: number | undefined;
  files?: number | undefined;
  /** Total size of the backup in MB (10^6 bytes). */
  mb?: number | undefined;
  bytes?: number | undefined;
  /** MB transferred by this run (pulls). */
  transferredMb?: number | undefined;
  host?: string | undefined;
  error?: string | undefined;
  warning?: string | undefined;
}

/** The facts of a run in this order (the order of `tierback history --json`). */
export function runFacts(r: RunFacts): RunFacts {
  return { durationS: r.durationS, files: r.files, mb: r.mb, bytes: r.bytes, transferredMb: r.transferredMb, host: r.host, error: r.error, warning: r.warning };
}

export interface HistoryRecord extends RunFacts {
  /** Unique id of the run; start and end lines share it. */
  run: string;
  name: string;
  kind: string; // job | pull | verify | prune | offsite
  tier: HistoryTier;
  status: LineStatus;
  start: Date;
  end?: Date | undefined;
  type?: string | undefined;
  /** Other keys, kept as strings. */
  extra?: Record<string, string> | undefined;
}

const ORDER = ['v', 'run', 'name', 'kind', 'tier', 'status', 'start', 'end', 'duration_s', 'files', 'mb', 'bytes', 'transferred_mb', 'host', 'type', 'warning', 'error'];

export function newRunId(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`;
}

/** yyyymmdd of `at` in the IANA `timeZone`. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

export function dayOf(at: Date, timeZone: string): string {
  if (isUtcZone(timeZone)) return at.toISOString().slice(0, 10).replace(/-/g, '');
  let fmt = dayFormats.get(timeZone);
  if (!fmt) dayFormats.set(timeZone, (fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  const parts = fmt.formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}${get('month')}${get('day')}`;
}

function quote(value: string): string {
  // Single line always: newlines and control characters are escaped.
  const clean = value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/[\u0000-\u001f]/g, ' ');
  return /^[A-Za-z0-9._:/@+-]+$/.test(clean) ? clean : `"${clean}"`;
}

export function formatRecord(r: HistoryRecord): string {
  const kv: Record<string, string> = {
    v: '1',
    run: r.run,
    name: r.name,
    kind: r.kind,
    tier: r.tier,
    status: r.status,
    start: r.start.toISOString(),
  };
  if (r.end) kv['end'] = r.end.toISOString();
  if (r.durationS !== undefined) kv['duration_s'] = r.durationS.toFixed(3);
  if (r.files !== undefined) kv['files'] = String(r.files);
  if (r.mb !== undefined) kv['mb'] = r.mb.toFixed(3);
  if (r.bytes !== undefined) kv['bytes'] = String(r.bytes);
  if (r.transferredMb !== undefined) kv['transferred_mb'] = r.transferredMb.toFixed(3);
  if (r.host) kv['host'] = r.host;
  if (r.type) kv['type'] = r.type;
  if (r.warning) kv['warning'] = r.warning;
  if (r.error) kv['error'] = r.error;
  for (const [k, v] of Object.entries(r.extra ?? {})) if (/^[a-z_][a-z0-9_]*$/.test(k) && !(k in kv)) kv[k] = v;
  const keys = [...ORDER.filter((k) => k in kv), ...Object.keys(kv).filter((k) => !ORDER.includes(k))];
  return keys.map((k) => `${k}=${quote(kv[k]!)}`).join(' ');
}

/** The fields of a logfmt line, and `req(key)`: a field's value, throwing `missing "key"` when it is absent or empty. */
export function logfmtFields(line: string): { kv: Record<string, string>; req: (key: string) => string } {
  const kv = parseLogfmt(line);
  const req = (k: string) => {
    const v = kv[k];
    if (v === undefined || v === '') throw new Error(`missing "${k}"`);
    return v;
  };
  return { kv, req };
}

/** Parses one logfmt line; throws on malformed input. */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`expected key=value at column ${i + 1}`);
    const key = line.slice(i, eq);
    if (!/^[a-z_][a-z0-9_]*$/.test(key)) throw new Error(`bad key "${key}" at column ${i + 1}`);
    i = eq + 1;
    let value = '';
    if (line[i] === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const c = line[i]!;
        if (c === '\\') {
          const n = line[i + 1];
          value += n === 'n' ? '\n' : n === 'r' ? '\r' : (n ?? '');
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed) throw new Error(`unterminated quote for "${key}"`);
    } else {
      const sp = line.indexOf(' ', i);
      value = line.slice(i, sp < 0 ? line.length : sp);
      i = sp < 0 ? line.length : sp;
    }
    out[key] = value;
  }
  return out;
}

const STATUSES = new Set<LineStatus>(['running', 'ok', 'warning', 'failed']);
const KNOWN = new Set(ORDER);

export function parseRecord(line: string): HistoryRecord {
  const { kv, req } = logfmtFields(line);
  const date = (k: string) => {
    const v = kv[k];
    if (v === undefined) return undefined;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw new Error(`bad date in "${k}": ${v}`);
    return d;
  };
  const num = (k: string) => {
    const v = kv[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`bad number in "${k}": ${v}`);
    return n;
  };
  const status = req('status') as LineStatus;
  if (!STATUSES.has(status)) throw new Error(`unknown status "${status}"`);
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(kv)) if (!KNOWN.has(k)) extra[k] = v;
  return {
    run: req('run'),
    name: req('name'),
    kind: req('kind'),
    tier: req('tier') as HistoryTier,
    status,
    start: date('start') ?? (() => { throw new Error('missing "start"'); })(),
    end: date('end'),
    durationS: num('duration_s'),
    files: num('files'),
    mb: num('mb'),
    bytes: num('bytes'),
    transferredMb: num('transferred_mb'),
    host: kv['host'],
    type: kv['type'],
    warning: kv['warning'],
    error: kv['error'],
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

/** Appends one record to `<dir>/backup-<name>-<day>`; creates dir 0700 and file 0600 with a header. */
export async function appendRecord(dir: string, record: HistoryRecord, timeZone: string): Promise<string> {
  const file = historyFilePath(dir, record.name, dayOf(record.start, timeZone));
  await appendLogLine(file, HISTORY_HEADER, formatRecord(record));
  return file;
}

export interface HistoryProblem {
  file: string;
  line: number;
  message: string;
}

export interface Run extends HistoryRecord {
  /** True when the run has a start line but no end line and its process is not running. */
  interrupted?: boolean;
  file: string;
}

export interface ReadOptions {
  /** Only files of this history name. */
  name?: string;
  /** Only files whose day is >= this yyyymmdd. */
  sinceDay?: string;
  /** Decides whether a run without an end line is still running (default: never, i.e. interrupted). */
  isRunning?: (r: HistoryRecord) => boolean;
}

/**
 * Reads every history file of a directory (missing dir = no history) and folds start/end lines
 * into runs, oldest first. Malformed lines are returned as problems, never thrown.
 */
export async function readHistory(dir: string, opts: ReadOptions = {}): Promise<{ runs: Run[]; problems: HistoryProblem[] }> {
  const files = (await historyFolderNames(dir))
    .map((n) => ({ n, p: parseHistoryFileName(n) }))
    .filter((x) => x.p && (!opts.name || x.p.name === opts.name) && (!opts.sinceDay || x.p.day >= opts.sinceDay))
    .sort((a, b) => (a.p!.day === b.p!.day ? a.n.localeCompare(b.n) : a.p!.day.localeCompare(b.p!.day)))
    .map(({ n }) => path.join(dir, n));
  return readHistoryFiles(files, opts);
}

export function hostName(): string {
  return os.hostname();
}

// ---------------------------------------------------------------- fast reading (status, reports)

export interface HistoryFile {
  name: string;
  /** yyyymmdd */
  day: string;
  path: string;
}

/**
 * One readdir of a history directory: its files grouped by history name, oldest day first.
 * A missing directory is an empty map. Lets callers read only the newest files of a name.
 */
export async function listHistoryFiles(dir: string): Promise<Map<string, HistoryFile[]>> {
  const out = new Map<string, HistoryFile[]>();
  for (const n of await historyFolderNames(dir)) {
    const p = parseHistoryFileName(n);
    if (!p) continue;
    let list = out.get(p.name);
    if (!list) out.set(p.name, (list = []));
    list.push({ name: p.name, day: p.day, path: path.join(dir, n) });
  }
  for (const list of out.values()) list.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return out;
}

/** The entries of a history folder; none when it is missing (or not a folder). */
export async function historyFolderNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * Reads the given history files and folds their lines into runs, oldest first, exactly as
 * readHistory does. A file that cannot be read is a problem, not an error (a missing one is skipped
 * with `missingOk`).
 */
export async function readHistoryFiles(files: readonly string[], opts: Pick<ReadOptions, 'isRunning'> & { missingOk?: boolean } = {}): Promise<{ runs: Run[]; problems: HistoryProblem[] }> {
  const problems: HistoryProblem[] = [];
  const runs = new Map<string, Run>();
  for (const file of files) {
    let text: string;
    try {
      // Small files read synchronously: four times faster than the promise API for thousands of them.
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // `missingOk`: the caller names the files of days that may have had no run (probing instead of listing a folder).
      if (opts.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      problems.push({ file, line: 0, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.trim() === '' || line.startsWith('#')) continue;
      try {
        const r = parseRecord(line);
        const prev = runs.get(r.run);
        if (!prev || prev.status === 'running') runs.set(r.run, { ...(prev ?? {}), ...r, file });
      } catch (err) {
        problems.push({ file, line: i + 1, message: (err as Error).message });
      }
    }
  }
  const out = [...runs.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
  for (const r of out) {
    if (r.status === 'running' && !(opts.isRunning?.(r) ?? false)) {
      r.interrupted = true;
      r.status = 'failed';
      r.error = r.error ?? 'interrupted: the run started but never finished (killed, crashed or power lost)';
    }
  }
  return { runs: out, problems };
}
