/** The resolved site: the inventory with every default applied, ready for the rest of tierback. */
import path from 'node:path';
import { HOST_VM, localVmDir } from '../convention.js';
import { parseDuration } from '../duration.js';
import { NotFoundError } from '../errors.js';
import type { Inventory, Retention, SshSettings } from './schema.js';

export interface ResolvedServer {
  index: number;
  fqdn: string;
  description: string | undefined;
  partition: string;
  role: 'app' | 'backup' | 'both';
  ssh: SshSettings | undefined;
  retention: Retention;
}

export interface ResolvedVm {
  index: number;
  name: string;
  server: string;
  /** Where the VM's local tree is seen from inside the VM. */
  mount: string;
  description: string | undefined;
}

export interface ResolvedApp {
  index: number;
  name: string;
  description: string | undefined;
  server: string;
  /** The VM name; HOST_VM for apps running directly on the server. */
  vm: string;
  path: string;
  relpath: string;
  type: string;
  options: Record<string, unknown>;
  status: 'active' | 'paused' | 'retired';
  schedule: string;
  retention: Retention;
  keepDumps: number;
  staleAfterMs: number;
  shrinkThreshold: number;
  /** Partition of the app's server. */
  partition: string;
  /** Where the app's job sees its VM's local tree (the VM mount, or the server's own folder for HOST_VM). */
  mount: string;
}

export interface ResolvedPull {
  server: string;
  transport: 'ssh' | 'local';
  bwlimit: string | undefined;
}

export interface ResolvedBackupServer {
  index: number;
  server: string;
  partition: string;
  pulls: ResolvedPull[];
  schedule: string;
  concurrency: number;
  timeoutMs: number;
  retention: Retention;
  /** Snapshot engine setting (lib/pull/engines/registry.ts). */
  snapshots: 'hardlink' | 'btrfs' | 'auto';
  /** With change lists: a full pull when the last one is older than this. */
  fullPullEveryMs: number;
}

export type InventorySource = 'option' | 'environment' | 'default' | 'embedded';

export interface Site {
  file: string;
  source: InventorySource;
  name: string;
  timezone: string;
  inventory: Inventory;
  servers: ResolvedServer[];
  vms: ResolvedVm[];
  apps: ResolvedApp[];
  backupServers: ResolvedBackupServer[];
}

export const DEFAULT_RETENTION: Retention = { daily: 7 };

/** Applies defaults. The inventory must already have passed the schema and the cross-field rules. */
export function resolveSite(inv: Inventory, file: string, source: InventorySource): Site {
  const d = inv.defaults;
  const servers: ResolvedServer[] = inv.servers.map((s, index) => ({
    index,
    fqdn: s.fqdn,
    description: s.description,
    partition: s.partition ?? d.partition,
    role: s.role,
    ssh: s.ssh,
    retention: s.retention ?? d.retention.remote ?? DEFAULT_RETENTION,
  }));
  const serverByFqdn = new Map(servers.map((s) => [s.fqdn, s]));
  const vms: ResolvedVm[] = inv.vms.map((v, index) => ({
    index,
    name: v.name,
    server: v.server,
    mount: v.mount ?? d.mount,
    description: v.description,
  }));
  const vmByName = new Map(vms.map((v) => [v.name, v]));
  const apps: ResolvedApp[] = inv.apps.map((a, index) => {
    const vm = a.vm ?? HOST_VM;
    const partition = serverByFqdn.get(a.server)?.partition ?? d.partition;
    const mount = vm === HOST_VM ? localVmDir(partition, HOST_VM) : (vmByName.get(vm)?.mount ?? d.mount);
    return {
      index,
      name: a.name,
      description: a.description,
      server: a.server,
      vm,
      path: a.path,
      relpath: a.relpath,
      type: a.type,
      options: a.options,
      status: a.status,
      schedule: a.schedule ?? d.schedule,
      retention: a.retention ?? d.retention.local ?? DEFAULT_RETENTION,
      keepDumps: a.keep_dumps ?? d.keep_dumps,
      staleAfterMs: parseDuration(a.stale_after ?? d.stale_after) ?? 26 * 3_600_000,
      shrinkThreshold: a.shrink_threshold ?? d.shrink_threshold,
      partition,
      mount,
    };
  });
  const backupServers: ResolvedBackupServer[] = inv.backup_servers.map((b, index) => {
    const own = serverByFqdn.get(b.server);
    return {
      index,
      server: b.server,
      partition: own?.partition ?? d.partition,
      pulls: b.pulls.map((p) =>
        typeof p === 'string' ? { server: p, transport: 'ssh' as const, bwlimit: undefined } : { server: p.server, transport: p.transport, bwlimit: p.bwlimit },
      ),
      schedule: b.schedule ?? d.pull_schedule,
      concurrency: b.concurrency ?? 2,
      timeoutMs: parseDuration(b.timeout ?? '1h') ?? 3_600_000,
      retention: own?.retention ?? d.retention.remote ?? DEFAULT_RETENTION,
      snapshots: b.snapshots ?? 'hardlink',
      fullPullEveryMs: parseDuration(b.full_pull_every ?? '7d') ?? 7 * 86_400_000,
    };
  });
  return {
    file: path.resolve(file),
    source,
    name: inv.site ?? path.basename(file).replace(/\.ya?ml$/, ''),
    timezone: d.timezone,
    inventory: inv,
    servers,
    vms,
    apps,
    backupServers,
  };
}

export function findServer(site: Site, fqdn: string): ResolvedServer {
  const s = site.servers.find((x) => x.fqdn === fqdn);
  if (!s) throw new NotFoundError(`no server "${fqdn}" in ${site.file}`, suggest(fqdn, site.servers.map((x) => x.fqdn), 'servers'));
  return s;
}

export function findApp(site: Site, name: string): ResolvedApp {
  const a = site.apps.find((x) => x.name === name);
  if (!a) throw new NotFoundError(`no app "${name}" in ${site.file}`, suggest(name, site.apps.map((x) => x.name), 'apps'));
  return a;
}

/** The backup servers that pull a given server. */
export function pullersOf(site: Site, server: string): ResolvedBackupServer[] {
  return site.backupServers.filter((b) => b.pulls.some((p) => p.server === server));
}

export function suggest(wrong: string, candidates: readonly string[], what: string): string {
  const best = closest(wrong, candidates);
  return best ? `did you mean "${best}"? (\`tierback inventory show\` lists the ${what})` : `\`tierback inventory show\` lists the ${what}`;
}

/** The candidate within edit distance 2 (or a third of the word) of `wrong`, if any. */
export function closest(wrong: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(wrong.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(wrong, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
