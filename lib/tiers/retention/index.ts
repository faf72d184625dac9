/**
 * Retention: the policy engine (policy.ts), pruning of remote snapshots (snapshots.ts) and of
 * local database dumps (dumps.ts). `prune` is what `tierback prune` calls: everything this host holds.
 */
import { resolveHost } from '../../model/machine.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import type { ResolvedApp, ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import { findApp, findServer, suggest } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import type { Exec } from '../../base/exec.js';
import { pruneDumps, type PruneDumpsOptions } from './dumps.js';
import type { PruneResult } from './result.js';
import { pruneSnapshots, type PruneSnapshotsOptions } from './snapshots.js';
import { pruneSettings } from './settings.js';

export { applyPolicy, describePolicy, bucketOf, hasRules, type Policy, type PolicyItem, type PolicyResult, type KeptItem, type RemovedItem } from './policy.js';
export { pruneSnapshots, removeSnapshot, removeTree, removeTrees, removeTreesInParallel, REMOVE_JOBS, currentStamp, type PruneSnapshotsOptions } from './snapshots.js';
export { pruneDumps, type PruneDumpsOptions } from './dumps.js';
export { pruneSettings, resolveNow, snapshotPolicy, dumpPolicy, NOW_ENV, type PruneSwitches, type EffectivePolicy } from './settings.js';
export { checkGrace, RUNNING_WINDOW_MS, type GraceCheck } from './grace.js';
export type { PruneEntry, PruneResult } from './result.js';

/** Which server prune runs on: lib/model/machine.ts, the one answer to "which host is this?". */
export { HOST_ENV, resolveHost } from '../../model/machine.js';

export interface PruneOptions {
  /** The inventory server this runs on (--host, else $TIERBACK_HOST, else the host name). */
  host?: string | undefined;
  /** Only this tier: `remote` (snapshots this backup server holds) or `local` (dumps of apps on this server). */
  tier?: 'local' | 'remote' | undefined;
  /** Only the snapshots of this pulled server (implies tier remote). */
  server?: string | undefined;
  /** Only the dumps of this app (implies tier local). */
  app?: string | undefined;
  now: Date;
  dryRun?: boolean | undefined;
  log?: Logger | undefined;
  exec?: Exec | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** SIGINT/SIGTERM (cli/lifecycle.ts): stop between removals, record `error=interrupted`. */
  signal?: AbortSignal | undefined;
}

export interface PruneReport {
  host: string;
  results: PruneResult[];
  /** Stopped by SIGINT/SIGTERM (exit 130). */
  interrupted?: boolean;
}


/** Prunes what `host` holds: snapshots of the servers it pulls (remote) and dumps of its apps (local). */
export async function prune(site: Site, opts: PruneOptions): Promise<PruneReport> {
  const host = resolveHost(site, opts.host, opts.env);
  findServer(site, host);
  if (opts.server && opts.tier === 'local') throw new UsageError('--server selects snapshots (tier remote); it cannot go with --tier local');
  if (opts.app && opts.tier === 'remote') throw new UsageError('--app selects dumps (tier local); it cannot go with --tier remote', 'snapshots are pruned per pulled server: use --server');
  const tiers = new Set<'local' | 'remote'>(opts.tier ? [opts.tier] : opts.server && !opts.app ? ['remote'] : opts.app && !opts.server ? ['local'] : ['local', 'remote']);
  const results: PruneResult[] = [];
  const common = { now: opts.now, dryRun: opts.dryRun ?? false, ...(opts.log ? { log: opts.log } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };

  if (tiers.has('remote')) {
    const b = site.backupServers.find((x) => x.server === host);
    if (opts.server) {
      findServer(site, opts.server);
      if (!b || !b.pulls.some((p) => p.server === opts.server)) {
        throw new NotFoundError(`${host} does not pull ${opts.server}, so it holds no snapshots of it`, 'run prune on a backup server that pulls it (backup_servers[].pulls), or give --host');
      }
    }
    if (b) results.push(...(await pruneSnapshots(site, b, { ...common, ...(opts.server ? { servers: [opts.server] } : {}), ...(opts.exec ? { exec: opts.exec } : {}) })));
  }
  if (tiers.has('local')) {
    let apps = site.apps.filter((a) => a.server === host);
    if (opts.app) {
      const a = findApp(site, opts.app);
      if (a.server !== host) throw new NotFoundError(`app "${a.name}" runs on ${a.server}, not on ${host}`, `its dumps are pruned there: tierback prune --app ${a.name} on ${a.server}`);
      apps = [a];
    }
    for (const a of apps) {
      if (opts.signal?.aborted) break; // apps not started: no history line
      results.push(...(await pruneDumps(site, a, common)));
    }
  }
  return { host, results, ...(opts.signal?.aborted ? { interrupted: true } : {}) };
}

/**
 * For the pull runner: call after a pull of `server` succeeded. Prunes that server's snapshots when
 * `defaults.prune.after_pull` is on; returns undefined (and does nothing) when it is off.
 */
export async function pruneAfterPull(site: Site, backupServer: ResolvedBackupServer, server: string, opts: PruneSnapshotsOptions): Promise<PruneResult | undefined> {
  if (!pruneSettings(site).afterPull) return undefined;
  const [r] = await pruneSnapshots(site, backupServer, { ...opts, servers: [server] });
  return r;
}

/**
 * For the job runner: call after a job of `app` succeeded. Prunes the app's dumps when
 * `defaults.prune.after_job` is on; returns undefined (and does nothing) when it is off.
 */
export async function pruneAfterJob(site: Site, app: ResolvedApp, opts: PruneDumpsOptions): Promise<PruneResult[] | undefined> {
  if (!pruneSettings(site).afterJob) return undefined;
  return pruneDumps(site, app, opts);
}
