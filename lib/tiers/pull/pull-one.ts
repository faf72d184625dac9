/** The pull of one server into a new dated snapshot (lib/tiers/pull/pull.ts runs several). */
import { rename } from 'node:fs/promises';
import { CHANGE_LIST_FILE, MANIFEST_FILE, lockPath, pullHistoryName, serverHistoryDir, snapshotDir, snapshotsDir } from '../../model/convention.js';
import { INTERRUPTED_ERROR, TierbackError, errorText } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { newRunId, type HistoryRecord } from '../../model/history.js';
import { findServer, type ResolvedBackupServer, type ResolvedPull, type Site } from '../../model/inventory/model.js';
import { recordRun, type RunEnd } from '../../model/run-record.js';
import { RETRYABLE_RSYNC_CODES, RSYNC_VANISHED, type RsyncPlan } from './rsync.js';
import { currentStamp, switchCurrent } from '../snapshots/snapshots.js';
import { prepareSnapshot, writesInPlace } from '../snapshots/engines/prepare.js';
import { changeMode, checkLists, recordFullPull, transferWithLists } from './changes.js';
import { planPull } from './plan.js';
import { appFolders, fetchSourceFiles, markersIn, settleApps, totalsIn } from './consistency.js';
import { DEFAULT_CONNECT_TIMEOUT_S, openMultiplex, sshTarget } from './ssh.js';
import { processKeys } from '../../model/runstate.js';
import { explainFailure, sleep, transfer, type TransferResult } from './transfer.js';
import type { PullOptions, PullOutcome } from './types.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_S, firstPullStreams } from './budget.js';

export interface PullContext {
  site: Site;
  backupServer: ResolvedBackupServer;
  opts: PullOptions;
  exec: Exec;
  now: () => Date;
  /**
   * Streams "auto": a first pull may use fewer than `opts.streams` once its apps' manifests are read
   * (lib/tiers/pull/budget.ts firstPullStreams) and gives the rest back to the budget with `release`.
   */
  autoStreams?: { release(unused: number): void } | undefined;
}

export async function pullOne(ctx: PullContext, pull: ResolvedPull): Promise<PullOutcome> {
  const { site, backupServer, opts, exec, now } = ctx;
  const log = opts.log.child({ server: pull.server });
  const partition = backupServer.partition;
  const start = now();
  const run = newRunId(start);
  const base: HistoryRecord = { run, name: pullHistoryName(pull.server), kind: 'pull', tier: 'remote', status: 'running', start, host: backupServer.server, type: pull.transport, extra: processKeys() };
  const t0 = Date.now();
  let attempts = 0;
  let resumed: string | undefined;
  let kept: string | undefined;
  type Ended = Omit<PullOutcome, 'server' | 'durationS' | 'attempts' | 'historyFile'>;
  /** The final line's fields of an ended pull (byte for byte those of earlier versions). */
  const fieldsOf = (o: Ended): Partial<HistoryRecord> => {
    const s = o.stats;
    return {
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
  };
  const finish = async (o: Ended): Promise<RunEnd<Ended>> => ({ status: o.status === 'ok' || o.status === 'warning' ? o.status : 'failed', fields: fieldsOf(o), value: o });
  const r = await recordRun(
    {
      base,
      historyDir: serverHistoryDir(partition),
      timezone: site.timezone,
      lock: { path: lockPath(snapshotsDir(partition, pull.server)), what: `pull of ${pull.server}` },
      log,
      what: 'pull',
      signal: opts.signal,
      end: () => new Date(start.getTime() + (Date.now() - t0)),
      onStarted: opts.onStarted,
      onFinished: opts.onFinished,
      onError: async () => fieldsOf({ status: 'failed', kept, resumed }),
    },
    () => pullBody(),
  );
  if (r.status === 'locked') {
    log.warn({ err: errorText(r.error) }, 'pull skipped: locked');
    return { server: pull.server, status: 'locked', durationS: 0, attempts: 0, error: errorText(r.error) };
  }
  const ended: Ended = r.value ?? { status: 'failed', kept, resumed };
  return { server: pull.server, durationS: r.record.durationS ?? 0, attempts, historyFile: r.historyFile, ...ended, status: r.status, ...(r.status === 'failed' ? { error: r.record.error } : {}) };

  async function pullBody(): Promise<RunEnd<Ended>> {
    let knownHosts: { cleanup(): Promise<void> } | undefined;
    let closeMux: (() => Promise<void> | undefined) | undefined;
    let closeFetched: (() => Promise<void>) | undefined;
    try {
      const { plan: pp, cleanup } = await planPull(site, backupServer, pull, { ...opts, now: start }); // lib/tiers/pull/plan.ts: what --dry-run prints
      knownHosts = { cleanup };
      kept = pp.current;
      // One SSH connection for the short rsyncs (markers, lists, the copy by lists), opened while the snapshot is prepared.
      const muxing = pp.rsync.rsh ? openMultiplex(exec, pp.rsync.rsh, sshTarget(findServer(site, pull.server)).host, { waitMs: (opts.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000, signal: opts.signal }) : undefined;
      closeMux = () => muxing?.then((m) => m?.close());
      // The snapshot engine (lib/tiers/snapshots/engines/) makes the folder: hardlinks by --link-dest, or a btrfs snapshot updated in place.
      const prepared = await prepareSnapshot(backupServer.snapshots, partition, pull.server, pp.stamp, pp.snapshots, exec);
      resumed = prepared.resumed;
      if (resumed) log.info({ resumed }, 'resuming an interrupted pull');
      let { streams } = pp;
      const plan: RsyncPlan = { ...pp.rsync, dest: prepared.dir, linkDest: prepared.linkDest, inPlace: writesInPlace(prepared) };
      const stamp = pp.stamp;
      const retries = opts.retries ?? DEFAULT_RETRIES;
      const delay = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_S * 1000;
      const mux = await muxing;
      // The short rsyncs go over the shared connection; a walking copy keeps a connection per stream (one ssh process would carry every stream's encryption).
      const short: RsyncPlan = mux ? { ...plan, rsh: mux.rsh } : plan;
      const apps = appFolders(site, pull.server);
      const mode = await changeMode({ ...prepared, resumed: !!resumed, first: !prepared.from, full: opts.full, changeLists: opts.changeLists, partition, server: pull.server, everyMs: backupServer.fullPullEveryMs, now: start });
      // Each app's manifest marker before the copy (was any app replaced by its job meanwhile?), and with the lists' mode the lists, in one rsync.
      const source = await fetchSourceFiles(exec, short, apps, mode.useLists ? [MANIFEST_FILE, CHANGE_LIST_FILE] : [MANIFEST_FILE], opts.signal);
      closeFetched = source.cleanup;
      const before = await markersIn(source.dir, apps);
      if (ctx.autoStreams && !prepared.from && !mode.useLists && streams > 1) {
        // A first pull of large files is bound by the CPU and disk, not by look-ups: fewer streams.
        const chosen = firstPullStreams(streams, await totalsIn(source.dir, apps));
        if (chosen.streams < streams) ctx.autoStreams.release(streams - chosen.streams);
        streams = chosen.streams;
        log.info({ streams, why: chosen.why }, 'first pull: streams');
      }
      let result: TransferResult;
      for (;;) {
        attempts++;
        log.info({ attempt: attempts, streams }, 'pull');
        result = mode.useLists
          ? await transferWithLists(exec, short, apps, before, log, opts.signal, source.dir, streams)
          : await transfer(exec, plan, streams, opts.signal, opts.onProgress ? (p) => opts.onProgress!({ ...p, server: pull.server }) : undefined, log);
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
      const settled = await settleApps({ exec, log, plan: short, apps, before, previous: prepared.from, recopies: opts.recopies, signal: opts.signal });
      const missed = mode.check ? await checkLists(exec, short, apps, before, [...settled.recopied, ...settled.kept], opts.signal) : undefined;
      await prepared.engine.seal(prepared.dir, exec);
      // Complete: name it, then make it current (rename(2) of a symlink).
      await rename(prepared.dir, snapshotDir(partition, pull.server, stamp));
      await switchCurrent(partition, pull.server, stamp);
      if ((await currentStamp(partition, pull.server)) !== stamp) throw new TierbackError(`switching ${pull.server} to ${stamp} did not take effect`);
      if (mode.full) await recordFullPull(partition, pull.server, start);
      const missedText = missed?.count ? `the change lists missed ${missed.count} entries (a bug to report; this full pull copied them): ${missed.sample.join('; ')}` : '';
      const warning = [result.code === RSYNC_VANISHED ? 'some source files vanished during the transfer (rsync exit 24)' : '', settled.warning ?? '', missedText].filter(Boolean).join('; ') || undefined;
      log.info({ snapshot: stamp, files: stats.files, bytes: stats.totalBytes, recopied: settled.recopied }, 'pull complete');
      const lists = mode.useLists ? 'used' : mode.full ? `full: ${mode.why}` : undefined; // hardlink engine, --no-change-lists: history as before
      return await finish({ status: warning ? 'warning' : 'ok', snapshot: stamp, stats, resumed, warning, recopiedApps: settled.recopied, keptApps: settled.kept, lists, listMissed: missed?.count });
    } finally {
      await closeFetched?.().catch(() => undefined);
      await closeMux?.()?.catch(() => undefined);
      await knownHosts?.cleanup().catch(() => undefined);
    }
  }
}
