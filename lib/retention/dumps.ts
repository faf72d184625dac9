/**
 * Pruning an app's database dumps on the local tier: `<app dir>/db/<db>-<stamp>.<ext>`.
 * One policy per database name (the app's); a dump is every file sharing `<db>-<stamp>`
 * (e.g. `hydro-<stamp>.sql.gz` and `hydro-<stamp>.sql.gz.sha256`), removed together.
 * The newest dump of each database is always kept; nothing is removed while the app's
 * newest job has failed for longer than the grace; only regular files are ever removed.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../layout.js';
import * as N from '../names.js';
import { assertInside, exists } from '../fsutil.js';
import { INTERRUPTED_ERROR, failureText } from '../errors.js';
import { processKeys } from '../runstate.js';
import { appendRecord, hostName, newRunId, type HistoryRecord } from '../history.js';
import type { ResolvedApp, Site } from '../inventory/model.js';
import { acquireLock } from '../lock.js';
import { silentLogger, type Logger } from '../log.js';
import { checkGrace } from './grace.js';
import { applyPolicy } from './policy.js';
import type { PruneEntry, PruneResult } from './result.js';
import { dumpPolicy, pruneSettings } from './settings.js';

export interface PruneDumpsOptions {
  now: Date;
  dryRun?: boolean;
  log?: Logger;
  /**
   * Where this runs: 'server' (default) reads `<partition>/local/<vm>/<relpath>/db`; 'vm' reads the
   * VM's view `<mount>/<relpath>/db` and `<mount>/_history` (after a job, inside the VM).
   */
  view?: 'server' | 'vm';
  /** SIGINT/SIGTERM: stops between dumps; history records `error=interrupted`. */
  signal?: AbortSignal | undefined;
}

/** Prunes the dumps of one app; one result per database name found in its db/ folder. */
export async function pruneDumps(site: Site, app: ResolvedApp, opts: PruneDumpsOptions): Promise<PruneResult[]> {
  const log = opts.log ?? silentLogger();
  const dryRun = opts.dryRun ?? false;
  const onVm = opts.view === 'vm';
  const dir = onVm ? C.vmDumpDir(app.mount, app.relpath) : C.localDumpDir(app.partition, app.vm, app.relpath);
  if (!(await exists(dir))) return [];
  await assertInside(onVm ? app.mount : app.partition, dir);
  const st = await lstat(dir);
  if (!st.isDirectory()) return [];
  const { policy, source } = dumpPolicy(site, app);

  const lock = dryRun ? undefined : await acquireLock(C.pruneLockPath(dir), `pruning dumps of app "${app.name}"`);
  const started = Date.now();
  const run = newRunId(opts.now);
  const historyDir = onVm ? C.vmHistoryDir(app.mount) : C.jobHistoryDir(app.partition, app.vm);
  const record = (r: Partial<HistoryRecord>) =>
    appendRecord(historyDir, { run, name: N.pruneHistoryName(app.name), kind: 'prune', tier: 'local', status: 'running', start: opts.now, host: hostName(), extra: processKeys(), ...r }, site.timezone);
  let historyFile: string | undefined;
  const results: PruneResult[] = [];
  try {
    if (!dryRun) historyFile = await record({});
    // Group files by database, then by dump (<db>-<stamp>).
    const byDb = new Map<string, Map<string, { at: Date; paths: string[] }>>();
    const stray: PruneEntry[] = [];
    for (const name of (await readdir(dir)).sort()) {
      if (name.startsWith('.')) continue; // jobs' working files and the prune lock
      const p = path.posix.join(dir, name);
      const parsed = N.parseDumpFileName(name);
      const fst = await lstat(p);
      if (!parsed || !fst.isFile()) {
        stray.push({ id: name, paths: [p], reasons: [parsed ? `not a regular file (${fst.isSymbolicLink() ? 'symlink' : 'folder'}): ignored` : 'not a dump name (<db>-<stamp>.<ext>): ignored'] });
        continue;
      }
      const dumps = byDb.get(parsed.db) ?? new Map<string, { at: Date; paths: string[] }>();
      byDb.set(parsed.db, dumps);
      const id = `${parsed.db}-${parsed.stamp}`;
      const d = dumps.get(id) ?? { at: parsed.at, paths: [] };
      d.paths.push(p);
      dumps.set(id, d);
    }
    const grace = pruneSettings(site);
    const g = await checkGrace(historyDir, app.name, 'job', opts.now, grace.graceMs, 'job');
    const dbs = [...byDb.keys()].sort();
    for (const db of dbs) {
      const dumps = byDb.get(db)!;
      const result: PruneResult = {
        tier: 'local',
        host: app.server,
        subject: `${app.name}/${db}`,
        dir,
        policy,
        policySource: source,
        timeZone: site.timezone,
        now: opts.now,
        dryRun,
        held: g.hold,
        kept: [],
        removed: [],
        skipped: db === dbs[0] ? stray : [],
        finished: [],
        errors: [],
        historyFile,
      };
      const decision = applyPolicy([...dumps.entries()].map(([id, d]) => ({ id, at: d.at })), policy, { now: opts.now, timeZone: site.timezone });
      for (const k of decision.keep) result.kept.push({ id: k.id, at: k.at, paths: dumps.get(k.id)!.paths, reasons: k.reasons });
      for (const r of decision.remove) {
        const e: PruneEntry = { id: r.id, at: r.at, paths: dumps.get(r.id)!.paths, reasons: ['no rule keeps it'] };
        if (g.hold) {
          result.kept.push({ ...e, reasons: [`held: ${g.hold}`] });
          continue;
        }
        if (opts.signal?.aborted) {
          result.kept.push({ ...e, reasons: [INTERRUPTED_ERROR] });
          continue;
        }
        if (!dryRun) {
          try {
            for (const p of e.paths) await unlink(p);
            log.info({ dump: e.id, files: e.paths }, 'dump removed');
          } catch (err) {
            result.errors.push(`${e.id}: ${(err as Error).message}`);
            result.kept.push({ ...e, reasons: [`removal failed: ${(err as Error).message}`] });
            continue;
          }
        }
        result.removed.push(e);
      }
      results.push(result);
    }
    if (results.length === 0 && stray.length > 0) {
      results.push({
        tier: 'local', host: app.server, subject: app.name, dir, policy, policySource: source, timeZone: site.timezone, now: opts.now, dryRun,
        held: g.hold, kept: [], removed: [], skipped: stray, finished: [], errors: [], historyFile,
      });
    }
    if (opts.signal?.aborted && results.length > 0) results[0]!.errors.unshift(INTERRUPTED_ERROR);
    if (!dryRun) {
      const errors = results.flatMap((r) => r.errors);
      await record({
        status: errors.length ? 'failed' : 'ok',
        end: new Date(opts.now.getTime() + (Date.now() - started)),
        durationS: (Date.now() - started) / 1000,
        ...(errors.length ? { error: opts.signal?.aborted ? INTERRUPTED_ERROR : errors.join('; ').slice(0, 500) } : {}),
        ...(g.hold ? { warning: 'held by the grace rule: nothing removed' } : {}),
        extra: {
          kept: String(results.reduce((n, r) => n + r.kept.length, 0)),
          removed: String(results.reduce((n, r) => n + r.removed.length, 0)),
        },
      });
    }
    return results;
  } catch (err) {
    if (historyFile) await record({ status: 'failed', end: new Date(), error: failureText(err, opts.signal) }).catch(() => undefined);
    throw err;
  } finally {
    await lock?.release();
  }
}
