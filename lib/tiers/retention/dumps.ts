/**
 * Pruning an app's database dumps on the local tier: `<app dir>/db/<db>-<stamp>.<ext>`.
 * One policy per database name (the app's); a dump is every file sharing `<db>-<stamp>`
 * (e.g. `hydro-<stamp>.sql.gz` and `hydro-<stamp>.sql.gz.sha256`), removed together.
 * The newest dump of each database is always kept; nothing is removed while the app's
 * newest job has failed for longer than the grace; only regular files are ever removed.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../model/convention.js';
import * as N from '../../model/names.js';
import { assertInside, exists } from '../../base/fsutil.js';
import { INTERRUPTED_ERROR } from '../../base/errors.js';
import { processKeys } from '../../model/runstate.js';
import { hostName, newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { recordRun, type RunEnd } from '../../model/run-record.js';
import { silentLogger, type Logger } from '../../base/log.js';
import { checkGrace } from './grace.js';
import { applyPolicy } from './policy.js';
import { startPruneResult, type PruneEntry, type PruneResult } from './result.js';
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

  const started = Date.now();
  const run = newRunId(opts.now);
  const historyDir = onVm ? C.vmHistoryDir(app.mount) : C.jobHistoryDir(app.partition, app.vm);
  const base: HistoryRecord = { run, name: C.pruneHistoryName(app.name), kind: 'prune', tier: 'local', status: 'running', start: opts.now, host: hostName(), extra: processKeys() };
  const r = await recordRun(
    {
      base,
      historyDir,
      timezone: site.timezone,
      lock: dryRun ? undefined : { path: C.pruneLockPath(dir), what: `pruning dumps of app "${app.name}"` },
      record: !dryRun,
      log,
      what: 'prune',
      signal: opts.signal,
      end: () => new Date(opts.now.getTime() + (Date.now() - started)),
    },
    async ({ historyFile }): Promise<RunEnd<PruneResult[]>> => {
      const results: PruneResult[] = [];
      // Group files by database, then by dump (<db>-<stamp>).
      const byDb = new Map<string, Map<string, { at: Date; paths: string[] }>>();
      const stray: PruneEntry[] = [];
      for (const name of (await readdir(dir)).sort()) {
        if (name.startsWith('.')) continue; // jobs' working files and the prune lock
        const p = path.posix.join(dir, name);
        const parsed = C.parseDumpFileName(name);
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
        const result = startPruneResult({
          tier: 'local', host: app.server, subject: `${app.name}/${db}`, dir, policy, policySource: source, timeZone: site.timezone, now: opts.now, dryRun,
          held: g.hold, skipped: db === dbs[0] ? stray : [], historyFile,
        });
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
        results.push(startPruneResult({
          tier: 'local', host: app.server, subject: app.name, dir, policy, policySource: source, timeZone: site.timezone, now: opts.now, dryRun,
          held: g.hold, skipped: stray, historyFile,
        }));
      }
      if (opts.signal?.aborted && results.length > 0) results[0]!.errors.unshift(INTERRUPTED_ERROR);
      const errors = results.flatMap((x) => x.errors);
      const fields = {
        ...(errors.length ? { error: opts.signal?.aborted ? INTERRUPTED_ERROR : errors.join('; ').slice(0, 500) } : {}),
        ...(g.hold ? { warning: 'held by the grace rule: nothing removed' } : {}),
        extra: {
          kept: String(results.reduce((n, x) => n + x.kept.length, 0)),
          removed: String(results.reduce((n, x) => n + x.removed.length, 0)),
        },
      };
      return { status: errors.length ? 'failed' : 'ok', fields, value: results };
    },
  );
  if (r.status === 'locked') throw r.error;
  if (r.error) throw r.error; // after its failed final line
  return r.value ?? [];
}
