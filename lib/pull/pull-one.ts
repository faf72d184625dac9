/** The pull of one server into a new dated snapshot (lib/pull/pull.ts runs several). */
import { rename } from 'node:fs/promises';
import { lockPath, localRoot, pullHistoryName, serverHistoryDir, snapshotDir, snapshotsDir } from '../convention.js';
import { INTERRUPTED_ERROR, TierbackError, errorText, failureText } from '../errors.js';
import type { Exec } from '../exec.js';
import { appendRecord, newRunId, type HistoryRecord } from '../history.js';
import { findServer, type ResolvedBackupServer, type ResolvedPull, type Site } from '../inventory/model.js';
import { acquireLock } from '../lock.js';
import { RETRYABLE_RSYNC_CODES, RSYNC_VANISHED, type RsyncPlan } from './rsync.js';
import { prepareKnownHosts, remoteSource, sshArgv, sshTarget, DEFAULT_CONNECT_TIMEOUT_S } from './ssh.js';
import { currentStamp, freeStamp, preparePartial, readSnapshotState, switchCurrent } from './snapshots.js';
import { appFolders, readSourceMarkers, settleApps } from './consistency.js';
import { processKeys } from '../runstate.js';
import { explainFailure, sleep, transfer, type TransferResult } from './transfer.js';
import { DEFAULT_PULL_STREAMS, type PullOptions, type PullOutcome } from './types.js';

export interface PullContext {
  site: Site;
  backupServer: ResolvedBackupServer;
  opts: PullOptions;
  exec: Exec;
  now: () => Date;
}

export async function pullOne(ctx: PullContext, pull: ResolvedPull): Promise<PullOutcome> {
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
    const prepared = await preparePartial(partition, pull.server, stamp, state);
    resumed = prepared.resumed;
    if (resumed) log.info({ resumed }, 'resuming an interrupted pull');
    const linkStamp = state.complete.at(-1) ?? state.current;
    const linkDest = linkStamp ? snapshotDir(partition, pull.server, linkStamp) : undefined;

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
    const plan: RsyncPlan = { source: sourceArg, dest: prepared.dir, linkDest, rsh, ioTimeoutS, bwlimit: pull.bwlimit, progress: opts.progress };
    const streams = opts.streams ?? DEFAULT_PULL_STREAMS;
    const retries = opts.retries ?? 2;
    const delay = opts.retryDelayMs ?? 10_000;
    // Each app's manifest marker before the copy: was any app replaced by its job meanwhile?
    const apps = appFolders(site, pull.server);
    const before = await readSourceMarkers(exec, plan, apps, opts.signal);
    let result: TransferResult;
    for (;;) {
      attempts++;
      log.info({ attempt: attempts, streams }, 'pull');
      result = await transfer(exec, plan, streams, opts.signal, opts.onProgress ? (p) => opts.onProgress!({ ...p, server: pull.server }) : undefined, log);
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
    const settled = await settleApps({ exec, log, plan, apps, before, previous: linkDest, recopies: opts.recopies, signal: opts.signal });
    // Complete: name it, then make it current (rename(2) of a symlink).
    await rename(prepared.dir, snapshotDir(partition, pull.server, stamp));
    await switchCurrent(partition, pull.server, stamp);
    if ((await currentStamp(partition, pull.server)) !== stamp) throw new TierbackError(`switching ${pull.server} to ${stamp} did not take effect`);
    const warning = [result.code === RSYNC_VANISHED ? 'some source files vanished during the transfer (rsync exit 24)' : '', settled.warning ?? ''].filter(Boolean).join('; ') || undefined;
    log.info({ snapshot: stamp, files: stats.files, bytes: stats.totalBytes, recopied: settled.recopied }, 'pull complete');
    return await finish({ status: warning ? 'warning' : 'ok', snapshot: stamp, stats, resumed, warning, recopiedApps: settled.recopied, keptApps: settled.kept });
  } catch (err) {
    return await finish({ status: 'failed', kept, resumed, error: failureText(err, opts.signal) });
  } finally {
    await knownHosts?.cleanup().catch(() => undefined);
    await lock.release();
  }
}
