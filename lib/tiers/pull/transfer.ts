/**
 * The copy of one pull: one rsync, or a top-level pass then one rsync per top-level folder, with
 * progress streamed and rsync's statistics summed; and the explanation of a failed copy.
 */
import { setMaxListeners } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CommandError } from '../../base/errors.js';
import { cannotRun, type Exec } from '../../base/exec.js';
import { exists } from '../../base/fsutil.js';
import type { Logger } from '../../base/log.js';
import { folderPass } from './plan.js';
import type { StreamProgress } from './types.js';
import { RSYNC_VANISHED, describeRsyncExit, parseProgress, parseRsyncStats, rsyncArgv, sumRsyncStats, type RsyncPlan, type RsyncProgress, type RsyncStats } from './rsync.js';

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export { explainFailure } from './failure.js';

interface AttemptResult {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs rsync once, streaming its output: progress updates are parsed as they come, stats kept from the tail. */
async function runRsync(exec: Exec, argv: string[], opts: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined; onProgress?: ((p: RsyncProgress) => void) | undefined }): Promise<AttemptResult> {
  const child = exec.spawn({ argv, env: { LC_ALL: 'C' }, stream: true, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) }, opts.signal);
  let tail = '';
  let stderr = '';
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-8192);
    if (!opts.onProgress) return;
    pending += chunk;
    const parts = pending.split(/[\r\n]/);
    pending = parts.pop() ?? '';
    if (pending.length > 4096) pending = '';
    const last = parts.reverse().map(parseProgress).find((p) => p !== undefined);
    if (last) opts.onProgress(last);
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16384);
  });
  const r = await child;
  const why = cannotRun({ ...r, stderr });
  if (why) throw new CommandError(`cannot run rsync: ${why}`, argv, undefined, '', 'install rsync (apt-get install rsync)');
  return { code: r.exitCode ?? undefined, stdout: tail, stderr };
}

export interface TransferResult {
  /** 0, 24 (vanished files) or the first failure's code (undefined: killed). */
  code: number | undefined;
  stderr: string;
  /** rsync's own statistics, summed over the passes; undefined when a pass printed none. */
  stats: RsyncStats | undefined;
}

/**
 * Copies `plan.source` into `plan.dest` with `streams` rsync processes. With one stream: one rsync.
 * With more: a top-level pass (`--dirs`: top-level files, folders created empty, deletions of
 * top-level entries a resumed partial has in excess), then one rsync per top-level folder, each with
 * `--link-dest` at the same folder of the previous snapshot, `streams` at a time. Every pass has
 * archive semantics, `--delete` and `--stats`; the first hard failure stops the others.
 */
export async function transfer(exec: Exec, plan: RsyncPlan, streams: number, signal: AbortSignal | undefined, onProgress: ((p: StreamProgress) => void) | undefined, log: Logger): Promise<TransferResult> {
  if (streams <= 1) {
    const argv = rsyncArgv(plan);
    log.info({ argv }, 'rsync');
    const r = await runRsync(exec, argv, { signal, onProgress });
    return { code: r.code, stderr: r.stderr, stats: r.code === 0 || r.code === RSYNC_VANISHED ? parseRsyncStats(r.stdout) : undefined };
  }
  const top = rsyncArgv({ ...plan, topLevelOnly: true, progress: false });
  log.info({ argv: top }, 'rsync (top level)');
  const first = await runRsync(exec, top, { signal });
  if (first.code !== 0 && first.code !== RSYNC_VANISHED) return { code: first.code, stderr: first.stderr, stats: undefined };
  const parts: (RsyncStats | undefined)[] = [parseRsyncStats(first.stdout)];
  let vanished = first.code === RSYNC_VANISHED;
  // The folders the top-level pass created are exactly the source's top-level folders (excludes applied).
  const folders = (await readdir(plan.dest, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const inner = new AbortController();
  // Each running rsync listens twice on it (lib/base/exec.ts), `streams` of them at once.
  setMaxListeners(2 * streams + 10, inner.signal);
  const onOuterAbort = () => inner.abort();
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: AttemptResult | undefined;
  const live = new Map<string, RsyncProgress>();
  const report = onProgress
    ? (name: string, p: RsyncProgress) => {
        live.set(name, p);
        let bytes = 0;
        let files = 0;
        let toCheck = 0;
        let total = 0;
        for (const x of live.values()) {
          bytes += x.bytes;
          files += x.transferredFiles;
          toCheck += x.toCheck ?? 0;
          total += x.total ?? 0;
        }
        onProgress({ bytes, transferredFiles: files, percent: total ? Math.floor((100 * (total - toCheck)) / total) : p.percent, rate: p.rate, eta: p.eta, toCheck, total, totalsKnown: live.size === folders.length });
      }
    : undefined;
  let next = 0;
  const worker = async () => {
    while (next < folders.length && !failure && !inner.signal.aborted) {
      const name = folders[next++]!;
      const prev = plan.linkDest ? path.join(plan.linkDest, name) : undefined;
      const argv = rsyncArgv({
        ...plan,
        ...folderPass(plan, name, prev && (await exists(prev)) ? prev : undefined),
      });
      log.debug({ argv }, 'rsync (folder)');
      const r = await runRsync(exec, argv, { signal: inner.signal, onProgress: report ? (p) => report(name, p) : undefined });
      if (r.code === 0 || r.code === RSYNC_VANISHED) {
        vanished ||= r.code === RSYNC_VANISHED;
        parts.push(parseRsyncStats(r.stdout));
      } else if (!failure && !inner.signal.aborted) {
        failure = r;
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(streams, Math.max(1, folders.length)) }, worker));
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
  if (failure) return { code: failure.code, stderr: failure.stderr, stats: undefined };
  if (signal?.aborted) return { code: undefined, stderr: '', stats: undefined };
  const stats = parts.every((p): p is RsyncStats => p !== undefined) ? sumRsyncStats(parts, parts.length - 1) : undefined;
  return { code: vanished ? RSYNC_VANISHED : 0, stderr: '', stats };
}
