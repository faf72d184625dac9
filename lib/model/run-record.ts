/**
 * One lifecycle for every kind of run (job, pull, verify, prune, offsite): the order below is the
 * only one in the product, so a run is recorded the same way whatever it does.
 *
 *   lock -> start line (`status=running`) -> onStarted hook -> body -> final line -> unlock -> onFinished hook
 *
 * - The final line is written while the lock is still held: a run that finds the lock free finds the
 *   previous run's final line too, and nothing can start in between.
 * - The final line is always written, whatever the body does: when it throws, the line says
 *   `failed` with the error (capped to ERROR_CAP characters), or `interrupted` when the run's signal
 *   was aborted (SIGINT/SIGTERM). An interrupted run never looks complete.
 * - Hooks (start pings, monitoring exports) are isolated: their failures are logged, never fail the run.
 * - A held lock gives `locked`: nothing written, the body not run.
 * Library code: never prints, never exits.
 */
import { INTERRUPTED_ERROR, LockedError, errorText } from '../base/errors.js';
import { appendRecord, type HistoryRecord } from './history.js';
import { acquireLock } from '../base/lock.js';
import type { Logger } from '../base/log.js';
import type { FinalStatus } from './outcome.js';

/** History keeps a run's error text to this many characters. */
export const ERROR_CAP = 2000;

/** The error text of a failed run as history keeps it: `interrupted` after an abort, else the error capped. */
export function runErrorText(err: unknown, signal?: AbortSignal): string {
  return signal?.aborted ? INTERRUPTED_ERROR : errorText(err).slice(0, ERROR_CAP);
}

export type RunHook = (record: HistoryRecord) => Promise<void>;

export interface RunRecordSpec {
  /** The start line (`status=running`); the final line is this record with the body's fields over it. */
  base: HistoryRecord;
  /** Where history goes (`appendRecord`), and the site's timezone that names the day's file. */
  historyDir: string;
  timezone: string;
  /** The lock of the run, or none (a run another lock already covers, or one that writes nothing). */
  lock?: { path: string; what: string } | undefined;
  /** Writes no history at all (e.g. `verify --no-record`); the lock, body and hooks still run. */
  record?: boolean | undefined;
  log: Logger;
  /** What hook warnings call the run ("job", "pull", ...). */
  what: string;
  signal?: AbortSignal | undefined;
  /** The end time of the run (default: now). */
  end?: (() => Date) | undefined;
  onStarted?: RunHook | undefined;
  onFinished?: RunHook | undefined;
  /** Extra fields of the final line when the body threw (e.g. the folder's figures); its own failure is ignored. */
  onError?: ((err: Error) => Promise<Partial<HistoryRecord>>) | undefined;
}

/** What the body says of its run: the final status and the fields of the final line. */
export interface RunEnd<T> {
  status: FinalStatus;
  fields?: Partial<HistoryRecord> | undefined;
  value: T;
}

export type RecordedRun<T> =
  | { status: 'locked'; error: LockedError; record: undefined; value: undefined; historyFile: undefined }
  | { status: FinalStatus; record: HistoryRecord; value: T | undefined; error: Error | undefined; historyFile: string | undefined };

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Runs `body` inside the one run lifecycle (see the head of this file). Throws only what the lock throws besides LockedError. */
export async function recordRun<T>(spec: RunRecordSpec, body: (run: { historyFile: string | undefined }) => Promise<RunEnd<T>>): Promise<RecordedRun<T>> {
  const { base, log } = spec;
  const write = spec.record ?? true;
  let lock;
  try {
    lock = spec.lock ? await acquireLock(spec.lock.path, spec.lock.what) : undefined;
  } catch (err) {
    if (err instanceof LockedError) return { status: 'locked', error: err, record: undefined, value: undefined, historyFile: undefined };
    throw err;
  }
  const endAt = spec.end ?? (() => new Date());
  let record: HistoryRecord;
  let value: T | undefined;
  let error: Error | undefined;
  let historyFile: string | undefined;
  try {
    try {
      if (write) historyFile = await appendRecord(spec.historyDir, base, spec.timezone);
      await hook(spec.onStarted, base, 'onStarted', spec);
      const r = await body({ historyFile });
      value = r.value;
      record = finalRecord(base, endAt(), { status: r.status, ...r.fields });
    } catch (err) {
      error = asError(err);
      const extra = (await spec.onError?.(error).catch(() => undefined)) ?? {};
      record = finalRecord(base, endAt(), { ...extra, status: 'failed', error: runErrorText(error, spec.signal) });
      log.warn({ err: error.message }, `${spec.what} failed`);
    }
    if (write) {
      try {
        historyFile = await appendRecord(spec.historyDir, record, spec.timezone);
      } catch (err) {
        error ??= asError(err);
        log.error({ err: errorText(err) }, `cannot write the history of the ${spec.what}`);
        record = { ...record, status: 'failed', error: `cannot write history: ${asError(err).message}` };
      }
    }
  } finally {
    await lock?.release();
  }
  await hook(spec.onFinished, record, 'onFinished', spec);
  return { status: record.status as FinalStatus, record, value, error, historyFile };
}

function finalRecord(base: HistoryRecord, end: Date, fields: Partial<HistoryRecord>): HistoryRecord {
  const r: HistoryRecord = { ...base, end, durationS: (end.getTime() - base.start.getTime()) / 1000, ...fields };
  return r.error && r.error.length > ERROR_CAP ? { ...r, error: r.error.slice(0, ERROR_CAP) } : r;
}

async function hook(fn: RunHook | undefined, record: HistoryRecord, name: string, spec: RunRecordSpec): Promise<void> {
  if (!fn) return;
  try {
    await fn(record);
  } catch (err) {
    spec.log.warn({ err: errorText(err) }, `${name} hook failed (the ${spec.what} itself is not affected)`);
  }
}
