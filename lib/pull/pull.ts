/**
 * Remote tier: a backup server pulls the whole local tier of each server it is assigned into a new
 * dated snapshot (rsync --link-dest: unchanged files are hardlinks to the previous snapshot), which
 * becomes current only when complete (atomic switch of `<partition>/remote/<server>`).
 * See docs/remote.md.
 */
import { readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { lockPath, localRoot, pullHistoryName, serverHistoryDir, snapshotDir, snapshotsDir } from '../convention.js';
import { CommandError, INTERRUPTED_ERROR, TierbackError, UsageError, errorText, failureText } from '../errors.js';
import { exitCodeFor } from '../outcome.js';
import { cannotRun, createExec, type Exec } from '../exec.js';
import { appendRecord, newRunId, type HistoryRecord } from '../history.js';
import { findServer, type ResolvedBackupServer, type ResolvedPull, type Site } from '../inventory/model.js';
import { acquireLock } from '../lock.js';
import { pruneAfterPull } from '../retention/index.js';
import type { Logger } from '../log.js';
import { RETRYABLE_RSYNC_CODES, RSYNC_VANISHED, parseProgress, parseRsyncStats, rsyncArgv, sumRsyncStats, type RsyncPlan, type RsyncProgress, type RsyncStats } from './rsync.js';
import { exists } from '../fsutil.js';
import { prepareKnownHosts, remoteSource, sshArgv, sshTarget, DEFAULT_CONNECT_TIMEOUT_S } from './ssh.js';
import { currentStamp, freeStamp, readSnapshotState, switchCurrent } from './snapshots.js';
import { prepareSnapshot } from './engines/prepare.js';
import { changeMode, checkLists, recordFullPull, transferWithLists } from './changes.js';
import { appFolders, readSourceMarkers, settleApps } from './consistency.js';
import { selectPulls } from './select.js';
import { processKeys } from '../runstate.js';

export { resolveBackupServer, selectPulls } from './select.js';
export { explainFailure } from './failure.js';
import { explainFailure } from './failure.js';

export interface PullProgress extends RsyncProgress {
  server: string;
}

export interface PullOptions {
  log: Logger;
  exec?: Exec;
  /** Only these servers (must be among the backup server's pulls); default all. */
  servers?: string[];
  now?: () => Date;
  signal?: AbortSignal;
  /** Ask rsync for progress (--info=progress2) and report it through onProgress. */
  progress?: boolean;
  onProgress?: (p: PullProgress) => void;
  /** Called with each final history record (monitoring exports hook in here); its errors never fail the pull. */
  onFinished?: (record: HistoryRecord) => Promise<void>;
  /** Called with the start record once it is in history (start pings). Its failures never fail the pull. */
  onStarted?: (record: HistoryRecord) => Promise<void>;
  /** Servers pulled at the same time (default: the backup server's concurrency). */
  concurrency?: number;
  /** Retries after a connection-type failure (default 2), with exponential backoff from retryDelayMs (default 10 s). */
  retries?: number;
  retryDelayMs?: number;
  /** SSH ConnectTimeout in seconds (default 30). */
  connectTimeoutS?: number;
  /** rsync --timeout (I/O inactivity) in seconds (default: the backup server's timeout). */
  ioTimeoutS?: number;
  /**
   * rsync processes per server (default DEFAULT_PULL_STREAMS): above 1, the top level of the source
   * is copied first, then each top-level folder by its own rsync (all with --link-dest), at most this
   * many at a time. 1 = one rsync for the whole tree. See docs/remote.md for the measurements.
   */
  streams?: number;
  /** Copies of an app tried again when its job replaced it during the copy (default 2; lib/pull/consistency.ts). */
  recopies?: number;
  /** Walk everything and check the change lists (`pull --full`); `changeLists: false` never uses them. docs/remote.md#change-lists. */
  full?: boolean;
  changeLists?: boolean;
}

/** rsync processes per server pull, chosen by measurement (bench/pull-results-100k.txt). */
export const DEFAULT_PULL_STREAMS = 8;

export interface PullOutcome {
  server: string;
  status: 'ok' | 'warning' | 'failed' | 'locked';
  /** The new current snapshot's stamp (ok/warning). */
  snapshot?: string | undefined;
  /** The snapshot that stays current after a failure. */
  kept?: string | undefined;
  stats?: RsyncStats | undefined;
  durationS: number;
  attempts: number;
  /** The `.partial` stamp this run resumed, if any. */
  resumed?: string | undefined;
  error?: string | undefined;
  warning?: string | undefined;
  /** Apps copied again because their jobs replaced them during the copy; apps whose previous copy was kept instead. */
  recopiedApps?: string[] | undefined;
  keptApps?: string[] | undefined;
  /** How change lists were used ("used", "full: <why>"; undefined when not at all); entries a full pull found the lists missed. */
  lists?: string | undefined;
  listMissed?: number | undefined;
  historyFile?: string | undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

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

interface TransferResult {
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
async function transfer(exec: Exec, plan: RsyncPlan, streams: number, signal: AbortSignal | undefined, onProgress: ((p: RsyncProgress) => void) | undefined, log: Logger): Promise<TransferResult> {
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
        onProgress({ bytes, transferredFiles: files, percent: total ? Math.floor((100 * (total - toCheck)) / total) : p.percent, rate: p.rate, eta: p.eta, toCheck, total });
      }
    : undefined;
  let next = 0;
  const worker = async () => {
    while (next < folders.length && !failure && !inner.signal.aborted) {
      const name = folders[next++]!;
      const prev = plan.linkDest ? path.join(plan.linkDest, name) : undefined;
      const argv = rsyncArgv({
        ...plan,
        source: `${plan.source}${name}/`,
        dest: path.join(plan.dest, name),
        linkDest: prev && (await exists(prev)) ? prev : undefined,
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

interface PullContext {
  site: Site;
  backupServer: ResolvedBackupServer;
  opts: PullOptions;
  exec: Exec;
  now: () => Date;
}

async function pullOne(ctx: PullContext, pull: ResolvedPull): Promise<PullOutcome> {
  const { site, backupServer, opts, exec, now } = ctx;
  const log = opts.log.child({ server: pull.server });
  const partition = backupServer.partition;
  const start = now();
  const run = newRunId(start);
  const histDir = serverHistoryDir(partition);
  const base: HistoryRecord = { run, name: pullHistoryName(pull.server), kind: 'pull', tier: 'remote', status: 'running', start, host: backupServer.server, type: pull.transport, extra: processKeys() };
  const t0 = Date.now();
  let lock;
  try {
    lock = await acquireLock(lockPath(snapshotsDir(partition, pull.server)), `pull of ${pull.server}`);
  } catch (err) {
    log.warn({ err: errorText(err) }, 'pull skipped: locked');
    return { server: pull.server, status: 'locked', durationS: 0, attempts: 0, error: errorText(err) };
  }
  let historyFile: string | undefined;
  let attempts = 0;
  let resumed: string | undefined;
  let kept: string | undefined;
  const finish = async (o: Omit<PullOutcome, 'server' | 'durationS' | 'attempts' | 'historyFile'>): Promise<PullOutcome> => {
    const durationS = (Date.now() - t0) / 1000;
    const end = new Date(start.getTime() + (Date.now() - t0));
    const s = o.stats;
    const record: HistoryRecord = {
      ...base,
      status: o.status === 'locked' ? 'failed' : o.status,
      end,
      durationS,
      ...(s ? { files: s.files, mb: s.totalBytes / 1e6, bytes: s.totalBytes, transferredMb: s.receivedBytes / 1e6 } : {}),
      ...(o.error ? { error: o.error } : {}),
      ...(o.warning ? { warning: o.warning } : {}),
      extra: {
        attempts: String(attempts),
        ...(o.snapshot ? { snapshot: o.snapshot } : {}),
        ...(o.kept ? { kept: o.kept } : {}),
        ...(o.resumed ? { resumed: o.resumed } : {}),
        ...(o.recopiedApps?.length ? { recopied_apps: o.recopiedApps.join(',') } : {}),
        ...(o.keptApps?.length ? { kept_apps: o.keptApps.join(',') } : {}),
        ...(o.lists ? { lists: o.lists.split(':')[0]!, ...(o.listMissed !== undefined ? { list_missed: String(o.listMissed) } : {}) } : {}),
        ...(s ? { dirs: String(s.dirs), transferred_files: String(s.transferredFiles), changed_mb: (s.transferredBytes / 1e6).toFixed(3) } : {}),
      },
    };
    try {
      historyFile = await appendRecord(histDir, record, site.timezone);
    } catch (err) {
      log.error({ err: errorText(err) }, 'cannot write pull history');
    }
    if (opts.onFinished) {
      try {
        await opts.onFinished(record);
      } catch (err) {
        log.warn({ err: errorText(err) }, 'onFinished hook failed (the pull itself is not affected)');
      }
    }
    return { server: pull.server, durationS, attempts, historyFile, ...o };
  };

  let knownHosts: Awaited<ReturnType<typeof prepareKnownHosts>> | undefined;
  try {
    historyFile = await appendRecord(histDir, base, site.timezone);
    await opts.onStarted?.(base).catch((err: unknown) => log.warn({ err: errorText(err) }, 'onStarted hook failed (the pull itself is not affected)'));
    const source = findServer(site, pull.server);
    const state = await readSnapshotState(partition, pull.server);
    kept = state.current;
    const stamp = await freeStamp(partition, pull.server, start);
    const prepared = await prepareSnapshot(backupServer.snapshots, partition, pull.server, stamp, state, exec);
    resumed = prepared.resumed;
    if (resumed) log.info({ resumed }, 'resuming an interrupted pull');
    const linkDest = prepared.linkDest;

    let sourceArg: string;
    let rsh: string[] | undefined;
    if (pull.transport === 'local') {
      sourceArg = `${localRoot(source.partition)}/`;
    } else {
      const target = sshTarget(source);
      knownHosts = await prepareKnownHosts(target, `servers[${source.index}].ssh.host_key`);
      rsh = sshArgv(target, knownHosts.options, opts.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S);
      sourceArg = remoteSource(target);
    }
    const ioTimeoutS = opts.ioTimeoutS ?? backupServer.timeoutMs / 1000;
    const plan: RsyncPlan = { source: sourceArg, dest: prepared.dir, linkDest, inPlace: prepared.inPlace, rsh, ioTimeoutS, bwlimit: pull.bwlimit, progress: opts.progress };
    const streams = opts.streams ?? DEFAULT_PULL_STREAMS;
    const retries = opts.retries ?? 2;
    const delay = opts.retryDelayMs ?? 10_000;
    // Each app's manifest marker before the copy: was any app replaced by its job meanwhile?
    const apps = appFolders(site, pull.server);
    const before = await readSourceMarkers(exec, plan, apps, opts.signal);
    const mode = await changeMode({ ...prepared, resumed: !!resumed, full: opts.full, changeLists: opts.changeLists, partition, server: pull.server, everyMs: backupServer.fullPullEveryMs, now: start });
    let result: TransferResult;
    for (;;) {
      attempts++;
      log.info({ attempt: attempts, streams }, 'pull');
      result = mode.useLists ? await transferWithLists(exec, plan, apps, before, log, opts.signal) : await transfer(exec, plan, streams, opts.signal, opts.onProgress ? (p) => opts.onProgress!({ ...p, server: pull.server }) : undefined, log);
      if (opts.signal?.aborted) {
        return await finish({ status: 'failed', kept, resumed, error: INTERRUPTED_ERROR });
      }
      if (result.code === 0 || result.code === RSYNC_VANISHED) break;
      const retryable = result.code !== undefined && RETRYABLE_RSYNC_CODES.includes(result.code) && !/Host key verification failed|HOST IDENTIFICATION HAS CHANGED|Permission denied/.test(result.stderr);
      if (!retryable || attempts > retries) {
        return await finish({ status: 'failed', kept, resumed, error: explainFailure(result.code, result.stderr, pull.server) });
      }
      const wait = delay * 2 ** (attempts - 1);
      log.warn({ attempt: attempts, code: result.code, retryInMs: wait }, 'pull failed, retrying');
      await sleep(wait, opts.signal);
    }
    const stats = result.stats;
    if (!stats) return await finish({ status: 'failed', kept, resumed, error: 'rsync finished without its --stats summary; the snapshot was not made current' });
    const settled = await settleApps({ exec, log, plan, apps, before, previous: prepared.from, recopies: opts.recopies, signal: opts.signal });
    const missed = mode.check ? await checkLists(exec, plan, apps, before, [...settled.recopied, ...settled.kept], opts.signal) : undefined;
    await prepared.engine.seal(prepared.dir, exec);
    // Complete: name it, then make it current (rename(2) of a symlink).
    await rename(prepared.dir, snapshotDir(partition, pull.server, stamp));
    await switchCurrent(partition, pull.server, stamp);
    if ((await currentStamp(partition, pull.server)) !== stamp) throw new TierbackError(`switching ${pull.server} to ${stamp} did not take effect`);
    if (mode.check) await recordFullPull(partition, pull.server, start);
    const missedText = missed?.count ? `the change lists missed ${missed.count} entries (a bug to report; this full pull copied them): ${missed.sample.join('; ')}` : '';
    const warning = [result.code === RSYNC_VANISHED ? 'some source files vanished during the transfer (rsync exit 24)' : '', settled.warning ?? '', missedText].filter(Boolean).join('; ') || undefined;
    log.info({ snapshot: stamp, files: stats.files, bytes: stats.totalBytes, recopied: settled.recopied }, 'pull complete');
    const lists = mode.useLists ? 'used' : mode.check ? `full: ${mode.why}` : undefined; // hardlink engine, --no-change-lists: history as before
    return await finish({ status: warning ? 'warning' : 'ok', snapshot: stamp, stats, resumed, warning, recopiedApps: settled.recopied, keptApps: settled.kept, lists, listMissed: missed?.count });
  } catch (err) {
    return await finish({ status: 'failed', kept, resumed, error: failureText(err, opts.signal) });
  } finally {
    await knownHosts?.cleanup().catch(() => undefined);
    await lock.release();
  }
}

/**
 * Pulls every server `backupServer` is assigned (or `opts.servers`), at most `concurrency` at a
 * time. One server failing never stops the others; each outcome says how its pull ended.
 */
export async function runPulls(site: Site, backupServer: ResolvedBackupServer, opts: PullOptions): Promise<PullOutcome[]> {
  const pulls = selectPulls(site, backupServer, opts.servers);
  if (opts.streams !== undefined && !(Number.isInteger(opts.streams) && opts.streams >= 1 && opts.streams <= 64)) {
    throw new UsageError(`streams must be a whole number from 1 to 64, not ${opts.streams}`, 'e.g. --streams 4 (1 = a single rsync per server)');
  }
  const ctx: PullContext = { site, backupServer, opts, exec: opts.exec ?? createExec(opts.log), now: opts.now ?? (() => new Date()) };
  const outcomes: PullOutcome[] = new Array(pulls.length);
  let next = 0;
  const limit = Math.max(1, Math.min(opts.concurrency ?? backupServer.concurrency, pulls.length));
  const worker = async () => {
    while (next < pulls.length && !opts.signal?.aborted) {
      const i = next++;
      const outcome = await pullOne(ctx, pulls[i]!);
      outcomes[i] = outcome;
      if (outcome.status === 'ok' || outcome.status === 'warning') {
        // GFS pruning of this server's snapshots, when the inventory asks for it (defaults.prune.after_pull).
        await pruneAfterPull(site, backupServer, outcome.server, { now: ctx.now(), log: opts.log, exec: ctx.exec }).catch((err: unknown) =>
          opts.log.warn({ server: outcome.server, err: errorText(err) }, 'prune after the pull failed (the pull itself is fine)'),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return opts.signal?.aborted ? outcomes.filter(Boolean) : outcomes; // servers not started after an interruption have no outcome
}

/** The exit code for a set of outcomes (lib/outcome.ts): 0 all ok (warnings included), 1 all failed, 4 all locked, 5 some failed or locked. */
export function pullsExitCode(outcomes: readonly PullOutcome[]): number {
  return exitCodeFor(outcomes.map((o) => o.status));
}
