/** The resolved site: the inventory with every default applied, ready for the rest of tierback. */
import path from 'node:path';
import { localVmDir } from '../layout.js';
import { HOST_VM } from '../names.js';
import { parseDuration } from '../../base/duration.js';
import { NotFoundError } from '../../base/errors.js';
import type { InventoryProblem } from '../../base/errors.js';
import { parseSize, place } from './placement.js';
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
  /** The job type's options, parsed by its schema when the inventory loaded (defaults applied; lib/model/inventory/options.ts). */
  options: Record<string, unknown>;
  status: 'active' | 'paused' | 'retired';
  schedule: string;
  /** Expected job duration (ms) from `apps[].duration`, for schedules. */
  duration?: number | undefined;
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
  /** Placed by `pulls: auto` (lib/model/inventory/placement.ts) rather than listed by hand. */
  placed?: true;
}

export interface ResolvedBackupServer {
  index: number;
  server: string;
  partition: string;
  pulls: ResolvedPull[];
  /** `pulls: auto`: takes part in automatic placement. */
  auto: boolean;
  /** `capacity:` in bytes: its weight in automatic placement (none: equal shares). */
  capacity?: number | undefined;
  schedule: string;
  /** The transfer budget: rsync processes at once, all pulls together (lib/tiers/pull/budget.ts). */
  transfers: number;
  /** rsync processes per server: "auto" (history and the budget decide) or a fixed number. */
  streams: number | 'auto';
  /** Servers pulled at the same time (never more than `transfers`). */
  concurrency: number;
  timeoutMs: number;
  retention: Retention;
  /** Snapshot engine setting (lib/tiers/snapshots/engines/registry.ts). */
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
  /** Where pulls are placed and how many bytes each backup server takes (hand-written and automatic). */
  placement: SitePlacement;
  /** Not errors, but worth a look: printed by `inventory check`. */
  warnings: InventoryProblem[];
}

export interface SitePlacement {
  /** Expected bytes of each server's local tier: `servers[].size`, else 1G per active app. */
  serverBytes: Map<string, number>;
  /** Bytes each backup server pulls. */
  backupBytes: Map<string, number>;
  /** Servers with fewer backup servers than their copies. */
  short: { server: string; copies: number; pulledBy: number }[];
}

/** The size estimate of a server without `size:` (per active app). */
export const APP_SIZE_ESTIMATE = 1e9;

export const DEFAULT_RETENTION: Retention = { daily: 7 };

/**
 * Pull defaults (docs/remote.md#transfer-budget, #hung-sources). `transfers`: rsync processes a
 * backup server runs at once, all pulls together. `timeout`: rsync --timeout, so a hung source
 * fails after 4 minutes of silence; with 2 retries that is at most 15 minutes in all.
 */
export const DEFAULT_TRANSFERS = 8;
export const DEFAULT_PULL_TIMEOUT = '4m';
export const DEFAULT_PULL_TIMEOUT_S = 240;

/** Parses an app's job options by its type (lib/site/options.ts, which knows the job types); identity when not given. */
export type OptionsParser = (type: string, options: Record<string, unknown>, index: number) => Record<string, unknown>;

/** Applies defaults. The inventory must already have passed the schema and the cross-field rules. */
export function resolveSite(inv: Inventory, file: string, source: InventorySource, parseOptions: OptionsParser = (_t, o) => o): Site {
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
      options: parseOptions(a.type, a.options, index),
      status: a.status,
      schedule: a.schedule ?? d.schedule,
      ...(a.duration !== undefined ? { duration: parseDuration(a.duration) } : {}),
      retention: a.retention ?? d.retention.local ?? DEFAULT_RETENTION,
      keepDumps: a.keep_dumps ?? d.keep_dumps,
      staleAfterMs: parseDuration(a.stale_after ?? d.stale_after) ?? 26 * 3_600_000,
      shrinkThreshold: a.shrink_threshold ?? d.shrink_threshold,
      partition,
      mount,
    };
  });
  const serverBytes = new Map<string, number>();
  for (const a of apps) if (a.status === 'active') serverBytes.set(a.server, (serverBytes.get(a.server) ?? 0) + APP_SIZE_ESTIMATE);
  for (const s of inv.servers) {
    const given = s.size !== undefined ? parseSize(s.size) : undefined;
    if (given !== undefined) serverBytes.set(s.fqdn, given);
  }
  const backupServers: ResolvedBackupServer[] = inv.backup_servers.map((b, index) => {
    const own = serverByFqdn.get(b.server);
    return {
      index,
      server: b.server,
      partition: own?.partition ?? d.partition,
      pulls:
        b.pulls === 'auto'
          ? []
          : b.pulls.map((p) =>
              typeof p === 'string' ? { server: p, transport: 'ssh' as const, bwlimit: undefined } : { server: p.server, transport: p.transport, bwlimit: p.bwlimit },
            ),
      auto: b.pulls === 'auto',
      ...(b.capacity !== undefined ? { capacity: parseSize(b.capacity) } : {}),
      schedule: b.schedule ?? d.pull_schedule,
      transfers: b.transfers ?? DEFAULT_TRANSFERS,
      streams: b.streams ?? 'auto',
      concurrency: Math.min(b.concurrency ?? b.transfers ?? DEFAULT_TRANSFERS, b.transfers ?? DEFAULT_TRANSFERS),
      timeoutMs: parseDuration(b.timeout ?? DEFAULT_PULL_TIMEOUT) ?? DEFAULT_PULL_TIMEOUT_S * 1000,
      retention: own?.retention ?? d.retention.remote ?? DEFAULT_RETENTION,
      snapshots: b.snapshots ?? 'hardlink',
      fullPullEveryMs: parseDuration(b.full_pull_every ?? '7d') ?? 7 * 86_400_000,
    };
  });
  const { placement, warnings } = placePulls(inv, servers, backupServers, serverBytes);
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
    placement,
    warnings,
  };
}

/** A backup server's weight in automatic placement: its capacity; one without gets the mean of the others' (equal shares when none has one). */
export function placementWeight(backupServers: readonly ResolvedBackupServer[], b: ResolvedBackupServer): number {
  if (b.capacity !== undefined) return b.capacity;
  const given = backupServers.filter((x) => x.auto && x.capacity !== undefined).map((x) => x.capacity!);
  return given.length > 0 ? given.reduce((n, c) => n + c, 0) / given.length : 1;
}

/** Adds the automatic pulls to the backup servers marked `pulls: auto`, and says where copies differ from `copies`. */
function placePulls(
  inv: Inventory,
  servers: readonly ResolvedServer[],
  backupServers: ResolvedBackupServer[],
  serverBytes: ReadonlyMap<string, number>,
): { placement: SitePlacement; warnings: InventoryProblem[] } {
  const manual = new Map<string, string[]>();
  for (const b of backupServers) {
    for (const p of b.pulls) {
      const by = manual.get(p.server);
      if (by) by.push(b.server);
      else manual.set(p.server, [b.server]);
    }
  }
  const pulled = servers.filter((s) => s.role !== 'backup' || manual.has(s.fqdn));
  const copiesOf = (i: number) => inv.servers[i]?.copies ?? 1;
  const result = place(
    pulled.map((s) => ({ fqdn: s.fqdn, copies: copiesOf(s.index), bytes: serverBytes.get(s.fqdn) ?? 0, manual: manual.get(s.fqdn) ?? [] })),
    backupServers.map((b) => ({ server: b.server, auto: b.auto, weight: placementWeight(backupServers, b) })),
  );
  for (const b of backupServers) {
    for (const fqdn of result.assigned.get(b.server) ?? []) b.pulls.push({ server: fqdn, transport: fqdn === b.server ? 'local' : 'ssh', bwlimit: undefined, placed: true });
  }
  const warnings: InventoryProblem[] = [];
  for (const s of pulled) {
    const by = manual.get(s.fqdn) ?? [];
    if (by.length > copiesOf(s.index)) {
      warnings.push({
        path: `servers[${s.index}]`,
        message: `${s.fqdn} is pulled by ${by.length} backup servers (${by.join(', ')}) but has copies: ${copiesOf(s.index)}`,
        hint: `set copies: ${by.length} on servers[${s.index}] if the extra copy is meant, else remove it from one pulls list`,
        subject: s.fqdn,
      });
    }
  }
  for (const x of result.short) {
    if (x.pulledBy === 0) continue; // an error of the cross-field rules when nothing pulls it
    const s = servers.find((v) => v.fqdn === x.server)!;
    warnings.push({ path: `servers[${s.index}].copies`, message: `${x.server} wants ${x.copies} copies but only ${x.pulledBy} backup server(s) can pull it`, hint: 'add a backup server with pulls: auto, or lower copies', subject: x.server });
  }
  return { placement: { serverBytes: new Map(serverBytes), backupBytes: result.bytes, short: result.short }, warnings };
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
