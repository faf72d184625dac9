/**
 * Pruning the dated, hardlinked snapshots of a backup server:
 * `<partition>/snapshots/<server>/<stamp>`. Safety rules (docs/retention.md#safety):
 * - `<stamp>.partial` (a pull in progress) and anything that is not a real folder named by a stamp is never touched;
 * - the snapshot `remote/<server>` points to, and the newest complete snapshot, are always kept;
 * - nothing is removed while the newest pull has failed for longer than `defaults.prune.grace`;
 * - a snapshot is renamed to `.<stamp>.deleting` (atomic, same folder) before `rm -rf`, so no reader
 *   ever sees a half-deleted snapshot under its stamp; the next prune finishes cut-short deletions.
 */
import { currentStamp } from '../snapshots/snapshots.js';
import { lstat, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../model/convention.js';
import * as N from '../../model/names.js';
import { createExec, type Exec } from '../../base/exec.js';
import { INTERRUPTED_ERROR, NotFoundError } from '../../base/errors.js';
import { processKeys } from '../../model/runstate.js';
import { exists, assertInside } from '../../base/fsutil.js';
import { hostName, newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import { recordRun, type RunEnd } from '../../model/run-record.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { checkGrace } from './grace.js';
import { applyPolicy } from './policy.js';
import { startPruneResult, type PruneEntry, type PruneResult } from './result.js';
import { pruneSettings, snapshotPolicy } from './settings.js';
import { deleteSnapshots } from '../snapshots/engines/registry.js';

export { removeTree, removeTrees, removeTreesInParallel, REMOVE_JOBS } from '../snapshots/remove.js';

/** Folders handed to one `rm` process. */
const REMOVE_BATCH = 64;

export interface PruneSnapshotsOptions {
  now: Date;
  dryRun?: boolean;
  /** Only these pulled servers (default: every server the backup server pulls). */
  servers?: readonly string[];
  log?: Logger;
  /** Runs `rm`; default: a fresh one from lib/base/exec.ts. */
  exec?: Exec;
  /** SIGINT/SIGTERM: stops between removals (and the `rm`s running); history records `error=interrupted`. */
  signal?: AbortSignal | undefined;
}

/** Renames a snapshot to `.<stamp>.deleting` unless it is current; returns the new path, or undefined if it was gone. */
async function hideSnapshot(partition: string, server: string, stamp: string): Promise<string | undefined> {
  if ((await currentStamp(partition, server)) === stamp) throw new Error(`snapshot ${stamp} is current (remote/${server} points to it)`);
  const to = C.deletingSnapshotDir(partition, server, stamp);
  try {
    await rename(C.snapshotDir(partition, server, stamp), to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return to;
}

/**
 * Removes one snapshot so that it never appears half-deleted: rename to `.<stamp>.deleting`, then delete.
 * Refuses the snapshot `remote/<server>` points to. Returns false when the snapshot was already gone.
 */
export async function removeSnapshot(partition: string, server: string, stamp: string, exec: Exec): Promise<boolean> {
  const hidden = await hideSnapshot(partition, server, stamp);
  if (!hidden) return false;
  await deleteSnapshots([hidden], exec);
  return true;
}

// The current snapshot is read by the pull's own reader: an odd `remote/<server>` (a real folder,
// a link elsewhere) refuses the prune rather than leaving the current snapshot unprotected.
export { currentStamp };

/** Prunes the snapshots of every (or the given) pulled server on one backup server; one result per pulled server. */
export async function pruneSnapshots(site: Site, backupServer: ResolvedBackupServer, opts: PruneSnapshotsOptions): Promise<PruneResult[]> {
  const pulled = backupServer.pulls.map((p) => p.server);
  const wanted = opts.servers ?? pulled;
  for (const s of wanted) {
    if (!pulled.includes(s)) {
      throw new NotFoundError(`backup server ${backupServer.server} does not pull "${s}"`, `it pulls: ${pulled.join(', ')} (backup_servers[${backupServer.index}].pulls)`);
    }
  }
  const results: PruneResult[] = [];
  for (const server of wanted) {
    if (opts.signal?.aborted) break; // servers not started: no history line
    results.push(await pruneServerSnapshots(site, backupServer, server, opts));
  }
  return results;
}

async function pruneServerSnapshots(site: Site, b: ResolvedBackupServer, server: string, opts: PruneSnapshotsOptions): Promise<PruneResult> {
  const log = opts.log ?? silentLogger();
  const exec = opts.exec ?? createExec(log);
  const dryRun = opts.dryRun ?? false;
  const partition = b.partition;
  const dir = C.snapshotsDir(partition, server);
  const { policy, source } = snapshotPolicy(site, b, server);
  const result = startPruneResult({ tier: 'remote', host: b.server, subject: server, dir, policy, policySource: source, timeZone: site.timezone, now: opts.now, dryRun, held: undefined });
  if (!(await exists(dir))) return result;
  await assertInside(partition, dir);

  const started = Date.now();
  const base: HistoryRecord = { run: newRunId(opts.now), name: C.pruneHistoryName(server), kind: 'prune', tier: 'remote', status: 'running', start: opts.now, host: hostName(), extra: processKeys() };
  const r = await recordRun(
    {
      base,
      historyDir: C.serverHistoryDir(partition),
      timezone: site.timezone,
      lock: dryRun ? undefined : { path: C.pruneLockPath(dir), what: `pruning snapshots of ${server}` },
      record: !dryRun,
      log,
      what: 'prune',
      signal: opts.signal,
      end: () => new Date(opts.now.getTime() + (Date.now() - started)),
    },
    async ({ historyFile }): Promise<RunEnd<PruneResult>> => {
      result.historyFile = historyFile;

      // 1. Finish deletions an earlier prune could not complete.
      const entries = await readdir(dir, { withFileTypes: true });
      result.finished = entries.filter((e) => C.parseDeletingName(e.name) !== undefined).map((e) => path.posix.join(dir, e.name));
      if (!dryRun) {
        try {
          await deleteSnapshots(result.finished, exec, opts.signal);
        } catch (err) {
          result.errors.push(`finishing ${result.finished.join(', ')}: ${(err as Error).message}`);
        }
      }

      // 2. What is there.
      const current = await currentStamp(partition, server);
      const items: { id: string; at: Date }[] = [];
      for (const e of entries) {
        const p = path.posix.join(dir, e.name);
        if (C.parseDeletingName(e.name) !== undefined || e.name === '.prune.lock') continue;
        if (C.parseSnapshotEntry(e.name)?.state === 'partial') {
          result.skipped.push({ id: e.name, paths: [p], reasons: ['a pull is writing it (or was cut short): never touched'] });
          continue;
        }
        const at = C.parseSnapshotStamp(e.name);
        if (!at) {
          result.skipped.push({ id: e.name, paths: [p], reasons: ['not a snapshot name: ignored'] });
          continue;
        }
        const st = await lstat(p);
        if (!st.isDirectory()) {
          result.skipped.push({ id: e.name, paths: [p], reasons: [`not a folder (${st.isSymbolicLink() ? 'symlink' : 'file'}): ignored`] });
          continue;
        }
        items.push({ id: e.name, at });
      }

      // 3. Decide.
      const decision = applyPolicy(items, policy, { now: opts.now, timeZone: site.timezone });
      const grace = pruneSettings(site);
      const g = await checkGrace(C.serverHistoryDir(partition), C.pullHistoryName(server), 'pull', opts.now, grace.graceMs, 'pull');
      result.held = g.hold;
      const entry = (id: string, at: Date, reasons: string[]): PruneEntry => ({ id, at, paths: [path.posix.join(dir, id)], reasons });
      for (const k of decision.keep) {
        const reasons = [...k.reasons];
        if (k.id === current) reasons.unshift(`current (remote/${server} points to it)`);
        result.kept.push(entry(k.id, k.at, reasons));
      }
      const toRemove: PruneEntry[] = [];
      for (const r of decision.remove) {
        if (r.id === current) result.kept.push(entry(r.id, r.at, [`current (remote/${server} points to it)`]));
        else if (g.hold) result.kept.push(entry(r.id, r.at, [`held: ${g.hold}`]));
        else toRemove.push(entry(r.id, r.at, ['no rule keeps it']));
      }
      result.kept.sort((x, y) => (x.id < y.id ? 1 : -1));

      // 4. Remove, oldest first: rename each out of sight (atomic), then delete the renamed trees in batches.
      const renamed: { entry: PruneEntry; hidden: string }[] = [];
      for (const r of toRemove.reverse()) {
        if (opts.signal?.aborted) break; // not hidden: still a whole snapshot, kept
        if (dryRun) {
          result.removed.push(r);
          continue;
        }
        try {
          const hidden = await hideSnapshot(partition, server, r.id);
          if (hidden) renamed.push({ entry: r, hidden });
        } catch (err) {
          result.errors.push(`${r.paths[0]}: ${(err as Error).message}`);
          result.kept.push({ ...r, reasons: [`removal failed: ${(err as Error).message}`] });
        }
      }
      for (let i = 0; i < renamed.length; i += REMOVE_BATCH) {
        const batch = renamed.slice(i, i + REMOVE_BATCH);
        if (opts.signal?.aborted) {
          // Hidden, not yet deleted: no longer snapshots; the next prune finishes these deletions.
          result.errors.push(`${INTERRUPTED_ERROR}: ${batch.length} hidden snapshot(s) left for the next prune to delete`);
          continue;
        }
        try {
          await deleteSnapshots(batch.map((b) => b.hidden), exec, opts.signal);
          for (const b of batch) result.removed.push(b.entry);
          log.info({ snapshots: batch.map((b) => b.entry.id) }, 'snapshots removed');
        } catch (err) {
          // Renamed but not (fully) deleted: no longer a snapshot; the next prune finishes the deletion.
          result.errors.push(`${batch.map((b) => b.hidden).join(', ')}: ${(err as Error).message} (the next prune finishes this deletion)`);
        }
      }
      result.removed.sort((x, y) => (x.id < y.id ? 1 : -1));

      if (opts.signal?.aborted && !result.errors.some((e) => e.startsWith(INTERRUPTED_ERROR))) result.errors.unshift(INTERRUPTED_ERROR);
      const fields = {
        ...(result.errors.length ? { error: opts.signal?.aborted ? INTERRUPTED_ERROR : result.errors.join('; ').slice(0, 500) } : {}),
        ...(result.held ? { warning: 'held by the grace rule: nothing removed' } : {}),
        extra: { kept: String(result.kept.length), removed: String(result.removed.length), finished: String(result.finished.length) },
      };
      return { status: result.errors.length ? 'failed' : 'ok', fields, value: result };
    },
  );
  if (r.status === 'locked') throw r.error;
  if (r.error) throw r.error; // after its failed final line
  return result;
}
