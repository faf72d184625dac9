/**
 * Schedules from the inventory: which tierback commands run when on one host (a VM, a server,
 * a backup server), as data; lib/features/schedule/render.ts writes it as cron.d lines or systemd units and
 * lib/features/schedule/install.ts installs it.
 *
 * Plans are data (argv arrays); rendering quotes every word; tierback locks itself, so no flock.
 * Times are the host's local time (cron and systemd timers both use it).
 */
import path from 'node:path';
import { HOST_VM } from '../../model/names.js';
import { ownHostName } from '../../model/machine.js';
import { CRON_ALIASES } from '../../model/cron.js';
import { parseDuration } from '../../base/duration.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { DEFAULT_INVENTORY } from '../../site/load.js';
import type { Site } from '../../model/inventory/model.js';
import { schedulesSchema, type Schedules } from '../../model/inventory/schema.js';
import { layoutServerJobs } from './fit.js';

const posix = path.posix;

export type ScheduleKind = 'job' | 'pull' | 'prune' | 'verify' | 'status' | 'offsite';
export type ScheduleFormat = 'cron' | 'systemd';

export interface ScheduleEntry {
  /** Unique on the host, safe as a file-name part: "job-hydro", "pull", "prune", "verify", "status", "offsite-s3-main". */
  id: string;
  kind: ScheduleKind;
  description: string;
  /** Effective five-field cron expression (after staggering). */
  cron: string;
  /** Where the schedule comes from, e.g. "apps[1].schedule" or "defaults.schedule +10m (stagger)". */
  source: string;
  /** The command, as data. */
  argv: string[];
  /** Log file the command appends to. */
  log: string;
}

export interface HostSchedule {
  host: string;
  /** "vm": jobs of the VM's apps; "server": jobs of apps on the server itself, and pulls etc. if it is a backup server. */
  kind: 'vm' | 'server';
  server: string;
  user: string;
  path: string;
  logDir: string;
  entries: ScheduleEntry[];
  /** Apps of this host that get no line, and why (paused, retired); also offsite targets (`id` set, app "offsite:<target>"). */
  skipped: { app: string; reason: string; id?: string }[];
}

/** The commands other parts of tierback provide, in one place (argv after the program). */
export const SCHEDULED_COMMANDS = {
  job: (app: string) => ['job', app],
  pull: (backupServer: string) => ['pull', '--backup-server', backupServer],
  prune: (backupServer: string) => ['prune', '--backup-server', backupServer],
  verify: (backupServer: string) => ['verify', '--all', '--backup-server', backupServer],
  status: () => ['monitor', 'export'],
  offsite: (target: string, backupServer: string, servers: readonly string[]) => ['offsite', 'push', target, ...servers, '--backup-server', backupServer],
} as const;

const SCHEDULE_DEFAULTS = schedulesSchema.parse({});

/** Where a schedule came from: the key, marked "(default)" when it holds the schema's default. */
function sourceOf(site: Site, key: 'verify' | 'status_export'): string {
  const set = site.inventory.schedules?.[key];
  return set !== undefined && set !== SCHEDULE_DEFAULTS[key] ? `schedules.${key}` : `schedules.${key} (default)`;
}

export function scheduleSettings(site: Site): Schedules {
  return schedulesSchema.parse(site.inventory.schedules ?? {});
}

const ALIASES = CRON_ALIASES;

/** Five-field form of a cron schedule (expands @daily etc.). */
export function normalizeCron(expr: string): string {
  const s = expr.trim();
  return ALIASES[s] ?? s.split(/\s+/).join(' ');
}

/**
 * Shifts a schedule with a fixed minute and hour ("30 1 * * *") by `minutes`, carrying into the hour
 * (and wrapping past midnight). Schedules with lists, ranges or steps in those fields are returned unchanged.
 */
export function shiftCron(expr: string, minutes: number): string {
  const [m, h, ...rest] = normalizeCron(expr).split(' ');
  if (!/^\d+$/.test(m ?? '') || !/^\d+$/.test(h ?? '') || minutes === 0) return normalizeCron(expr);
  const total = (Number(h) * 60 + Number(m) + minutes) % (24 * 60);
  return [String(total % 60), String(Math.floor(total / 60)), ...rest].join(' ');
}

function isFixedTime(expr: string): boolean {
  const [m, h] = normalizeCron(expr).split(' ');
  return /^\d+$/.test(m ?? '') && /^\d+$/.test(h ?? '');
}

/** Finds the host a schedule is for: a server fqdn, a VM name, or (default) this machine (lib/model/machine.ts ownHostName). */
export function resolveScheduleHost(site: Site, host: string | undefined): { kind: 'vm' | 'server'; name: string; server: string } {
  const wanted = ownHostName(host).name;
  const server = site.servers.find((s) => s.fqdn === wanted);
  const vm = site.vms.find((v) => v.name === wanted);
  if (server && vm) {
    throw new UsageError(`"${wanted}" is both a server and a VM in ${site.file}`, 'rename one of them; VM names and server names should differ');
  }
  if (server) return { kind: 'server', name: server.fqdn, server: server.fqdn };
  if (vm) return { kind: 'vm', name: vm.name, server: vm.server };
  if (host === undefined) {
    // Short host name of a server ("zg-3" for "zg-3.softxs.ch").
    const short = wanted.split('.')[0];
    const byShort = site.servers.filter((s) => s.fqdn.split('.')[0] === short);
    if (byShort.length === 1) return { kind: 'server', name: byShort[0]!.fqdn, server: byShort[0]!.fqdn };
  }
  throw new NotFoundError(
    `"${wanted}" is neither a server nor a VM of ${site.file}`,
    host === undefined ? 'give the host: `tierback schedule HOST` with a VM name or a server fqdn' : 'give a VM name or a server fqdn from `tierback inventory show`',
  );
}

/** The schedule of one host, as data. `durations`: seconds per app name (recent runs), for the layout before the pull. */
export function planSchedule(site: Site, host?: string, durations: ReadonlyMap<string, number> = new Map()): HostSchedule {
  const where = resolveScheduleHost(site, host);
  const cfg = scheduleSettings(site);
  const staggerMin = Math.round((parseDuration(cfg.stagger) ?? 300_000) / 60_000);
  const inv = cfg.inventory ?? (site.source === 'default' && site.file === DEFAULT_INVENTORY ? undefined : site.file);
  const invArgs = inv ? ['-i', inv] : [];
  const log = (id: string) => posix.join(cfg.log_dir, `${id}.log`);
  const entries: ScheduleEntry[] = [];
  const skipped: HostSchedule['skipped'] = [];

  // Every active app with the default schedule on the same server (all its VMs share its disks) is
  // laid out together, in inventory order, to end before the server's first pull (lib/features/schedule/fit.ts).
  const layout = layoutServerJobs(site, where.server, cfg, durations);
  for (const app of site.apps) {
    if (app.server !== where.server) continue;
    const mine = where.kind === 'vm' ? app.vm === where.name : app.vm === HOST_VM;
    if (!mine) continue;
    if (app.status !== 'active') {
      skipped.push({ app: app.name, reason: app.status === 'paused' ? 'paused: monitored, not run' : 'retired: neither run nor monitored' });
      continue;
    }
    const explicit = site.inventory.apps[app.index]?.schedule !== undefined;
    const slot = explicit ? undefined : layout.slots.get(app.name);
    const cron = slot ? shiftCron(app.schedule, slot.offset) : normalizeCron(app.schedule);
    const lane = slot && layout.lanes > 1 ? `, lane ${slot.lane + 1} of ${layout.lanes}` : '';
    entries.push({
      id: `job-${app.name}`,
      kind: 'job',
      description: `backup job of app ${app.name} (${app.type}, ${app.relpath})`,
      cron,
      source: explicit ? `apps[${app.index}].schedule` : `defaults.schedule${slot && slot.offset > 0 ? ` +${slot.offset}m (laid out before the pull${lane})` : lane ? ` (${lane.slice(2)})` : ''}`,
      argv: [cfg.bin, ...SCHEDULED_COMMANDS.job(app.name), ...invArgs],
      log: log(`job-${app.name}`),
    });
  }

  if (where.kind === 'server') {
    const server = site.servers.find((s) => s.fqdn === where.server)!;
    const backup = site.backupServers.find((b) => b.server === where.server);
    if (backup) {
      const explicitPull = site.inventory.backup_servers[backup.index]?.schedule !== undefined;
      entries.push({
        id: 'pull',
        kind: 'pull',
        description: `pull ${backup.pulls.map((p) => p.server).join(', ')}`,
        cron: normalizeCron(backup.schedule),
        source: explicitPull ? `backup_servers[${backup.index}].schedule` : 'defaults.pull_schedule',
        argv: [cfg.bin, ...SCHEDULED_COMMANDS.pull(backup.server), ...invArgs],
        log: log('pull'),
      });
      const prune = cfg.prune ? normalizeCron(cfg.prune) : isFixedTime(backup.schedule) ? shiftCron(backup.schedule, 120) : '0 12 * * *';
      entries.push({
        id: 'prune',
        kind: 'prune',
        description: 'apply retention to the snapshots of this backup server',
        cron: prune,
        source: cfg.prune ? 'schedules.prune' : isFixedTime(backup.schedule) ? 'pull schedule +2h' : 'fixed 12:00 (pull schedule is not a fixed time)',
        argv: [cfg.bin, ...SCHEDULED_COMMANDS.prune(backup.server), ...invArgs],
        log: log('prune'),
      });
      entries.push({
        id: 'verify',
        kind: 'verify',
        description: 'restore drills of the pulled backups',
        cron: normalizeCron(cfg.verify),
        source: sourceOf(site, 'verify'),
        argv: [cfg.bin, ...SCHEDULED_COMMANDS.verify(backup.server), ...invArgs],
        log: log('verify'),
      });
      entries.push(...offsiteEntries(site, backup, cfg, staggerMin, invArgs, log, skipped));
    }
    // The Prometheus textfile keeps ages current between runs; only when the inventory configures one.
    if ((backup || server.role !== 'backup') && site.inventory.monitoring?.prometheus) {
      entries.push({
        id: 'status',
        kind: 'status',
        description: 'export backup status for monitoring',
        cron: normalizeCron(cfg.status_export),
        source: sourceOf(site, 'status_export'),
        argv: [cfg.bin, ...SCHEDULED_COMMANDS.status(), ...invArgs],
        log: log('status'),
      });
    }
  }
  return { host: where.name, kind: where.kind, server: where.server, user: cfg.user, path: cfg.path, logDir: cfg.log_dir, entries, skipped };
}

/**
 * `tierback offsite push <target>` lines of a backup server, one per `offsite.targets[]` whose servers
 * it pulls (all of them: the push's defaults; some: named on the line; none: no line, noted in
 * `skipped`). Default time: three hours after the pulls (after prune's two), targets staggered.
 * USB drives get no line: a person has to plug one in (docs/operate.md).
 */
function offsiteEntries(
  site: Site,
  backup: Site['backupServers'][number],
  cfg: Schedules,
  staggerMin: number,
  invArgs: string[],
  log: (id: string) => string,
  skipped: HostSchedule['skipped'],
): ScheduleEntry[] {
  const offsite = site.inventory.offsite;
  if (!offsite) return [];
  const pulled = backup.pulls.map((p) => p.server);
  const base = cfg.offsite ? normalizeCron(cfg.offsite) : isFixedTime(backup.schedule) ? shiftCron(backup.schedule, 180) : '0 15 * * *';
  const baseSource = cfg.offsite ? 'schedules.offsite' : isFixedTime(backup.schedule) ? 'pull schedule +3h' : 'fixed 15:00 (pull schedule is not a fixed time)';
  const out: ScheduleEntry[] = [];
  (offsite.targets ?? []).forEach((t, i) => {
    const wanted = t.servers && t.servers.length > 0 ? t.servers : offsite.servers && offsite.servers.length > 0 ? offsite.servers : undefined;
    const mine = wanted ? wanted.filter((s) => pulled.includes(s)) : pulled;
    if (mine.length === 0) {
      skipped.push({ app: `offsite:${t.name}`, id: `offsite-${t.name}`, reason: `${backup.server} pulls none of the servers of offsite.targets[${i}] (${t.name})` });
      return;
    }
    const servers = wanted && mine.length < wanted.length ? mine : [];
    const slot = out.length;
    const shifted = slot > 0 && isFixedTime(base);
    out.push({
      id: `offsite-${t.name}`,
      kind: 'offsite',
      description: `push the current snapshots of ${mine.join(', ')} to ${t.name} (${t.remote})`,
      cron: shifted ? shiftCron(base, slot * staggerMin) : base,
      source: `${baseSource}${shifted ? ` +${slot * staggerMin}m (stagger)` : ''}`,
      argv: [cfg.bin, ...SCHEDULED_COMMANDS.offsite(t.name, backup.server, servers), ...invArgs],
      log: log(`offsite-${t.name}`),
    });
  });
  return out;
}
