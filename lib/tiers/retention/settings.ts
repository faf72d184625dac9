/** Which policy applies to what (and why), the pruning switches, and the injectable "now". */
import { parseDuration } from '../../base/duration.js';
import { DEFAULT_RETENTION, type ResolvedApp, type ResolvedBackupServer, type Site } from '../../model/inventory/model.js';
import { pruneSchema, type Retention } from '../../model/inventory/schema.js';

export { NOW_ENV, resolveNow } from '../../base/clock.js';

export interface EffectivePolicy {
  policy: Retention;
  /** Where it comes from, as an inventory path: `servers[1].retention`, `defaults.retention.remote`, or `built-in default`. */
  source: string;
}

/** Policy of the snapshots of `pulledServer` on `backupServer`: the pulled server's own `retention`, else the backup server's, else defaults. */
export function snapshotPolicy(site: Site, backupServer: ResolvedBackupServer, pulledServer: string): EffectivePolicy {
  const inv = site.inventory;
  const pi = inv.servers.findIndex((s) => s.fqdn === pulledServer);
  const pr = pi >= 0 ? inv.servers[pi]!.retention : undefined;
  if (pr) return { policy: pr, source: `servers[${pi}].retention` };
  const bi = inv.servers.findIndex((s) => s.fqdn === backupServer.server);
  const br = bi >= 0 ? inv.servers[bi]!.retention : undefined;
  if (br) return { policy: br, source: `servers[${bi}].retention (the backup server)` };
  if (inv.defaults.retention.remote) return { policy: inv.defaults.retention.remote, source: 'defaults.retention.remote' };
  return { policy: backupServer.retention ?? DEFAULT_RETENTION, source: 'built-in default' };
}

/**
 * Policy of an app's dumps: `apps[i].retention`, else `defaults.retention.local`, else the
 * built-in default. An explicit `apps[i].keep_dumps` N is honoured as a floor (`last` at least N).
 */
export function dumpPolicy(site: Site, app: ResolvedApp): EffectivePolicy {
  const a = site.inventory.apps[app.index];
  let out: EffectivePolicy;
  if (a?.retention) out = { policy: a.retention, source: `apps[${app.index}].retention` };
  else if (site.inventory.defaults.retention.local) out = { policy: site.inventory.defaults.retention.local, source: 'defaults.retention.local' };
  else out = { policy: app.retention ?? DEFAULT_RETENTION, source: 'built-in default' };
  if (a?.keep_dumps !== undefined && a.keep_dumps > (out.policy.last ?? 0)) {
    out = { policy: { ...out.policy, last: a.keep_dumps }, source: `${out.source} + apps[${app.index}].keep_dumps as last` };
  }
  return out;
}

export interface PruneSwitches {
  graceMs: number;
  grace: string;
  afterJob: boolean;
  afterPull: boolean;
}

/** `defaults.prune`, resolved. The job and pull runners call this to decide whether to prune after a run. */
export function pruneSettings(site: Site): PruneSwitches {
  const p = (site.inventory.defaults as { prune?: unknown }).prune ?? {};
  const s = pruneSchema.parse(p);
  return { grace: s.grace, graceMs: parseDuration(s.grace) ?? 0, afterJob: s.after_job, afterPull: s.after_pull };
}

