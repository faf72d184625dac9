/**
 * Every path of an app on every tier, and the reverse: which server/vm/app/tier a path
 * belongs to. Built only from lib/model/convention.ts and the resolved site; pure.
 */
import path from 'node:path';
import * as C from './layout.js';
import * as N from './names.js';
import { NotFoundError, UsageError } from '../base/errors.js';
import type { ResolvedApp, Site } from './inventory/model.js';
import { pullersOf } from './inventory/model.js';

const posix = path.posix;

export interface AppPath {
  /** local | vm | remote | snapshots | history-local | history-vm | history-remote */
  kind: string;
  /** Machine on which the path exists. */
  host: string;
  path: string;
  description: string;
}

export function appPaths(site: Site, app: ResolvedApp): AppPath[] {
  const out: AppPath[] = [];
  const onVm = app.vm !== N.HOST_VM;
  out.push({ kind: 'local', host: app.server, path: C.localAppDir(app.partition, app.vm, app.relpath), description: 'local tier on the server' });
  if (onVm) out.push({ kind: 'vm', host: `${app.vm} (VM)`, path: C.vmAppDir(app.mount, app.relpath), description: 'the same folder seen from inside the VM' });
  out.push({
    kind: 'history-local',
    host: app.server,
    path: C.jobHistoryDir(app.partition, app.vm),
    description: `job history: backup-${app.name}-<yyyymmdd>`,
  });
  for (const b of pullersOf(site, app.server)) {
    out.push({ kind: 'remote', host: b.server, path: C.remoteAppDir(b.partition, app.server, app.vm, app.relpath), description: 'remote tier: newest complete pull' });
    out.push({
      kind: 'snapshots',
      host: b.server,
      path: posix.join(C.snapshotsDir(b.partition, app.server), '<stamp>', app.vm, app.relpath),
      description: 'dated snapshots (stamp like 2026-11-22T013000Z)',
    });
    out.push({
      kind: 'history-remote',
      host: b.server,
      path: C.remoteJobHistoryDir(b.partition, app.server, app.vm),
      description: `job history as pulled: backup-${app.name}-<yyyymmdd>`,
    });
    out.push({
      kind: 'history-pull',
      host: b.server,
      path: C.serverHistoryDir(b.partition),
      description: `pull history: backup-${N.pullHistoryName(app.server)}-<yyyymmdd>`,
    });
  }
  return out;
}

export type Tier = 'local' | 'vm' | 'remote' | 'snapshot' | 'partial-snapshot' | 'history';

export interface PathOwner {
  tier: Tier;
  /** Server whose data this is (the source server, also for remote/snapshot tiers). */
  server?: string;
  /** Backup server holding the path (remote/snapshot tiers and pull history). */
  backupServer?: string;
  vm?: string;
  app?: string;
  relpath?: string;
  /** Path inside the app's folder, '' for the folder itself. */
  inner?: string;
  /** Snapshot stamp, for snapshot tiers. */
  snapshot?: string;
  /** What the path is, when it is not inside an app folder (e.g. "job history", "VM tree"). */
  what?: string;
  partition?: string;
}

/**
 * Reverse lookup. `p` must be absolute; it is normalised lexically (no file system access,
 * so symlinks are not followed: `remote/<server>/...` and `snapshots/<server>/<stamp>/...`
 * are both understood). Returns every owner that matches (usually one).
 */
export function whichPath(site: Site, p: string): PathOwner[] {
  if (!posix.isAbsolute(p)) throw new UsageError(`"${p}" is not an absolute path`, 'give the full path, e.g. /v01/backup/local/web/v2.softxs.ch/hydro');
  const norm = posix.normalize(p).replace(/(.)\/+$/, '$1');
  const results: PathOwner[] = [];
  const partitions = new Set(site.servers.map((s) => s.partition));

  for (const partition of partitions) {
    const segs = C.segmentsUnder(partition, norm);
    if (!segs) continue;
    const [area, ...rest] = segs;
    if (area === undefined) {
      results.push({ tier: 'history', what: 'partition root', partition });
      continue;
    }
    if (area === 'local') {
      const holders = site.servers.filter((s) => s.partition === partition && s.role !== 'backup');
      results.push(...lookupVmTree(site, holders.map((s) => s.fqdn), rest, 'local', partition));
    } else if (area === 'remote' || area === 'snapshots') {
      const [server, stampOrVm, ...more] = rest;
      const holders = site.backupServers.filter((b) => b.partition === partition);
      if (server === undefined) {
        results.push({ tier: area === 'remote' ? 'remote' : 'snapshot', what: `${area} root`, partition, ...(holders.length === 1 ? { backupServer: holders[0]!.server } : {}) });
        continue;
      }
      const pulled = holders.filter((b) => b.pulls.some((x) => x.server === server));
      const base = { partition, ...(pulled.length === 1 ? { backupServer: pulled[0]!.server } : {}) };
      if (!site.servers.some((s) => s.fqdn === server)) continue;
      if (area === 'remote') {
        const inner = stampOrVm === undefined ? [] : [stampOrVm, ...more];
        for (const r of lookupVmTree(site, [server], inner, 'remote', partition)) results.push({ ...r, ...base, server });
      } else {
        if (stampOrVm === undefined) {
          results.push({ tier: 'snapshot', server, what: 'snapshots of the server', ...base });
          continue;
        }
        const entry = C.parseSnapshotEntry(stampOrVm);
        if (entry === undefined || entry.state === 'deleting') continue;
        const { stamp } = entry;
        const partial = entry.state === 'partial';
        const tier: Tier = partial ? 'partial-snapshot' : 'snapshot';
        for (const r of lookupVmTree(site, [server], more, tier, partition)) results.push({ ...r, ...base, server, snapshot: stamp });
      }
    } else if (area === 'history') {
      const file = rest[0] ? N.parseHistoryFileName(rest[0]) : undefined;
      const server = file?.name.startsWith('pull-') ? file.name.slice('pull-'.length) : undefined;
      const holders = site.backupServers.filter((b) => b.partition === partition);
      results.push({
        tier: 'history',
        what: file ? (server ? `pull history of ${server}, ${file.day}` : `history ${file.name}, ${file.day}`) : 'server history',
        partition,
        ...(server ? { server } : {}),
        ...(holders.length === 1 ? { backupServer: holders[0]!.server } : {}),
      });
    }
  }

  // Inside a VM: <mount>/<relpath>
  for (const vm of site.vms) {
    const segs = C.segmentsUnder(vm.mount, norm);
    if (!segs) continue;
    for (const r of lookupVmTree(site, [vm.server], [vm.name, ...segs], 'vm', undefined)) results.push(r);
  }
  return dedupe(results);
}

function lookupVmTree(site: Site, servers: string[], segs: string[], tier: Tier, partition: string | undefined): PathOwner[] {
  const [vm, ...rest] = segs;
  const part = partition ? { partition } : {};
  if (vm === undefined) return [{ tier, what: tier === 'local' ? 'local tier root' : 'server tree', ...part, ...(servers.length === 1 ? { server: servers[0]! } : {}) }];
  const vmServers = vm === N.HOST_VM ? servers : site.vms.filter((v) => v.name === vm && servers.includes(v.server)).map((v) => v.server);
  if (vmServers.length === 0) return [];
  if (rest.length === 0) return vmServers.map((server) => ({ tier, server, vm, what: vm === N.HOST_VM ? 'apps running on the server itself' : 'VM tree', ...part }));
  if (rest[0] === C.HISTORY_DIR) {
    const file = rest[1] ? N.parseHistoryFileName(rest[1]) : undefined;
    const app = file ? site.apps.find((a) => a.name === file.name && a.vm === vm && vmServers.includes(a.server)) : undefined;
    return vmServers.map((server) => ({
      tier,
      server,
      vm,
      what: file ? `job history, ${file.day}` : 'job history',
      ...(app ? { app: app.name, relpath: app.relpath } : {}),
      ...part,
    }));
  }
  if (rest[0] === C.MOVES_DIR) {
    const app = rest[1] ? site.apps.find((a) => a.name === rest[1] && a.vm === vm && vmServers.includes(a.server)) : undefined;
    return vmServers.map((server) => ({ tier, server, vm, what: rest[1] ? `move record of ${rest[1]}` : 'move records', ...(app ? { app: app.name, relpath: app.relpath } : {}), ...part }));
  }
  const rel = rest.join('/');
  const out: PathOwner[] = [];
  for (const a of site.apps) {
    if (a.vm !== vm || !vmServers.includes(a.server)) continue;
    if (rel === a.relpath || rel.startsWith(`${a.relpath}/`)) {
      out.push({ tier, server: a.server, vm, app: a.name, relpath: a.relpath, inner: rel.slice(a.relpath.length + 1), ...part });
    }
  }
  return out;
}

function dedupe(list: PathOwner[]): PathOwner[] {
  const seen = new Set<string>();
  return list.filter((o) => {
    const k = JSON.stringify(o);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function whichPathOrThrow(site: Site, p: string): PathOwner[] {
  const r = whichPath(site, p);
  if (r.length === 0) {
    throw new NotFoundError(
      `${p} belongs to no server, VM or app of ${site.file}`,
      `paths start with a partition (${[...new Set(site.servers.map((s) => s.partition))].join(', ')}) or a VM mount point; \`tierback paths APP\` shows an app's paths`,
    );
  }
  return r;
}
