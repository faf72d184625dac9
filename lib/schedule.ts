/**
 * Schedules from the inventory: which tierback commands run when on one host (a VM, a server,
 * a backup server), as cron.d lines or systemd service+timer units, and their idempotent install.
 *
 * Plans are data (argv arrays); rendering quotes every word; tierback locks itself, so no flock.
 * Times are the host's local time (cron and systemd timers both use it).
 */
import path from 'node:path';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { HOST_VM } from './names.js';
import { ownHostName } from './machine.js';
import { CRON_ALIASES, parseCronField } from './cron.js';
import { parseDuration } from './duration.js';
import { NotFoundError, UsageError } from './errors.js';
import type { Exec } from './exec.js';
import { ensureDir, writeFileAtomic } from './fsutil.js';
import { DEFAULT_INVENTORY } from './inventory/load.js';
import type { Site } from './inventory/model.js';
import { schedulesSchema, type Schedules } from './inventory/schema.js';

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

/** Finds the host a schedule is for: a server fqdn, a VM name, or (default) this machine (lib/machine.ts ownHostName). */
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

/** The schedule of one host, as data. */
export function planSchedule(site: Site, host?: string): HostSchedule {
  const where = resolveScheduleHost(site, host);
  const cfg = scheduleSettings(site);
  const staggerMin = Math.round((parseDuration(cfg.stagger) ?? 300_000) / 60_000);
  const inv = cfg.inventory ?? (site.source === 'default' && site.file === DEFAULT_INVENTORY ? undefined : site.file);
  const invArgs = inv ? ['-i', inv] : [];
  const log = (id: string) => posix.join(cfg.log_dir, `${id}.log`);
  const entries: ScheduleEntry[] = [];
  const skipped: HostSchedule['skipped'] = [];

  // Stagger slots count every active app with the default schedule on the same server, in inventory
  // order, so jobs of different VMs sharing one disk do not start together either.
  let slot = 0;
  for (const app of site.apps) {
    if (app.server !== where.server) continue;
    const explicit = site.inventory.apps[app.index]?.schedule !== undefined;
    const mine = where.kind === 'vm' ? app.vm === where.name : app.vm === HOST_VM;
    const active = app.status === 'active';
    const mySlot = !explicit && active && isFixedTime(app.schedule) ? slot++ : 0;
    if (!mine) continue;
    if (!active) {
      skipped.push({ app: app.name, reason: app.status === 'paused' ? 'paused: monitored, not run' : 'retired: neither run nor monitored' });
      continue;
    }
    const cron = explicit ? normalizeCron(app.schedule) : shiftCron(app.schedule, mySlot * staggerMin);
    entries.push({
      id: `job-${app.name}`,
      kind: 'job',
      description: `backup job of app ${app.name} (${app.type}, ${app.relpath})`,
      cron,
      source: explicit ? `apps[${app.index}].schedule` : `defaults.schedule${mySlot > 0 && isFixedTime(app.schedule) ? ` +${mySlot * staggerMin}m (stagger)` : ''}`,
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

// ---------------------------------------------------------------- rendering

/** Quotes one word for /bin/sh (cron runs its command lines with it) and escapes cron's "%". */
export function shellWord(word: string): string {
  const q = /^[A-Za-z0-9_./:=@+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
  return q.replace(/%/g, '\\%');
}

export const GENERATED_MARK = 'Generated by `tierback schedule`';

/** An /etc/cron.d file (with the user field). */
export function renderCron(plan: HostSchedule, site: Site): string {
  const lines = [
    `# ${GENERATED_MARK} for ${plan.kind} ${plan.host} from ${site.file}.`,
    '# Do not edit: change the inventory and run `tierback schedule --install` again.',
    '# Times are this host\'s local time. tierback takes its own locks: no flock needed.',
    'SHELL=/bin/sh',
    `PATH=${plan.path}`,
    'MAILTO=""',
    '',
  ];
  if (plan.entries.length === 0) lines.push(`# nothing to run on ${plan.host}`);
  for (const e of plan.entries) {
    lines.push(`# ${e.id}: ${e.description} [${e.source}]`);
    lines.push(`${e.cron} ${plan.user} ${e.argv.map(shellWord).join(' ')} >>${shellWord(e.log)} 2>&1`);
  }
  for (const s of plan.skipped) lines.push(`# ${s.id ?? `job-${s.app}`}: not scheduled (${s.reason})`);
  return `${lines.join('\n')}\n`;
}

const DOW_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** Expands one cron field to its sorted values, or undefined for "every value" ("*"). */
export function expandCronField(field: string, index: number): number[] | undefined {
  const r = parseCronField(field, index);
  if (r !== undefined && !Array.isArray(r)) throw new UsageError(r.message, 'fix the schedule in the inventory');
  return r;
}

/** systemd OnCalendar= values equivalent to a cron schedule (two when both day fields are set: cron ORs them). */
export function cronToOnCalendar(expr: string): string[] {
  const fields = normalizeCron(expr).split(' ');
  if (fields.length !== 5) throw new UsageError(`"${expr}" is not a five-field cron schedule`);
  const [mi, ho, dom, mon, dow] = fields.map((f, i) => expandCronField(f, i));
  const num = (v: number[] | undefined) => (v ? v.map((x) => String(x).padStart(2, '0')).join(',') : '*');
  const time = `${num(ho)}:${num(mi)}:00`;
  const day = (d: number[] | undefined, w: number[] | undefined) => `${w ? `${w.map((x) => DOW_NAMES[x]).join(',')} ` : ''}*-${num(mon)}-${num(d)} ${time}`;
  // Vixie cron: when both day-of-month and day-of-week are restricted (neither starts with "*"), either matches.
  if (dom && dow && !fields[2]!.startsWith('*') && !fields[4]!.startsWith('*')) return [day(dom, undefined), day(undefined, dow)];
  return [day(dom, dow)];
}

export interface UnitFile {
  name: string;
  content: string;
}

export function unitBaseName(e: ScheduleEntry): string {
  return `tierback-${e.id}`;
}

/** systemd service+timer pairs, one per entry. */
export function renderSystemd(plan: HostSchedule, site: Site): UnitFile[] {
  const out: UnitFile[] = [];
  const head = `# ${GENERATED_MARK} for ${plan.kind} ${plan.host} from ${site.file}; do not edit.`;
  for (const e of plan.entries) {
    const base = unitBaseName(e);
    out.push({
      name: `${base}.service`,
      content: [
        head,
        '[Unit]',
        `Description=tierback ${e.id}: ${e.description}`,
        'Documentation=file:///usr/local/share/doc/tierback/operate.md',
        'After=network-online.target',
        'Wants=network-online.target',
        '',
        '[Service]',
        'Type=oneshot',
        `User=${plan.user}`,
        `Environment=PATH=${plan.path}`,
        `ExecStart=${e.argv.map(systemdWord).join(' ')}`,
        `StandardOutput=append:${e.log}`,
        'StandardError=inherit',
        ...(e.kind === 'status' ? [] : ['Nice=10', 'IOSchedulingClass=best-effort', 'IOSchedulingPriority=7']),
        '',
      ].join('\n'),
    });
    out.push({
      name: `${base}.timer`,
      content: [
        head,
        '[Unit]',
        `Description=tierback ${e.id} at ${e.cron} [${e.source}]`,
        '',
        '[Timer]',
        ...cronToOnCalendar(e.cron).map((c) => `OnCalendar=${c}`),
        ...(e.kind === 'status' ? [] : ['Persistent=true']),
        `Unit=${base}.service`,
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    });
  }
  return out;
}

/** Quotes one ExecStart= word (systemd's own quoting; "%" and "$" escaped). */
function systemdWord(word: string): string {
  const esc = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_./:=@+,-]+$/.test(esc) ? esc : `"${esc.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// ---------------------------------------------------------------- install

export interface InstallOptions {
  format: ScheduleFormat;
  /** Prefix for /etc and /var (tests use a temp dir); default "/". */
  root?: string;
  /** Run systemctl daemon-reload / enable --now (default: when root is "/"). */
  activate?: boolean;
  exec?: Exec;
}

export interface InstallResult {
  written: string[];
  unchanged: string[];
  removed: string[];
  /** Commands run to activate (systemctl), as argv. */
  activated: string[][];
  logDir: string;
}

export const CRON_FILE = '/etc/cron.d/tierback';
export const SYSTEMD_DIR = '/etc/systemd/system';

async function readOr(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes the schedule of the host: /etc/cron.d/tierback, or tierback-*.service/.timer units. Idempotent. */
export async function installSchedule(plan: HostSchedule, site: Site, opts: InstallOptions): Promise<InstallResult> {
  const root = opts.root ?? '/';
  const at = (p: string) => path.join(root, p);
  const result: InstallResult = { written: [], unchanged: [], removed: [], activated: [], logDir: at(plan.logDir) };
  await ensureDir(at(plan.logDir), 0o750);
  const write = async (file: string, content: string) => {
    if ((await readOr(file)) === content) {
      result.unchanged.push(file);
      return;
    }
    // cron ignores files that are group- or other-writable; units are world-readable like every unit.
    await writeFileAtomic(file, content, 0o644);
    result.written.push(file);
  };
  if (opts.format === 'cron') {
    await ensureDir(path.dirname(at(CRON_FILE)), 0o755);
    await write(at(CRON_FILE), renderCron(plan, site));
    return result;
  }
  const dir = at(SYSTEMD_DIR);
  await ensureDir(dir, 0o755);
  const units = renderSystemd(plan, site);
  for (const u of units) await write(path.join(dir, u.name), u.content);
  // Remove our own units that the inventory no longer asks for (only files carrying our mark).
  const activate = (opts.activate ?? root === '/') && opts.exec !== undefined;
  const run = async (argv: string[]) => {
    result.activated.push(argv);
    await opts.exec!.run({ argv });
  };
  const wanted = new Set(units.map((u) => u.name));
  for (const name of (await readdir(dir)).sort()) {
    if (!/^tierback-.*\.(service|timer)$/.test(name) || wanted.has(name)) continue;
    const file = path.join(dir, name);
    if (!(await stat(file)).isFile() || !(await readOr(file))?.includes(GENERATED_MARK)) continue;
    if (activate && name.endsWith('.timer')) await run(['systemctl', 'disable', '--now', name]);
    await rm(file);
    result.removed.push(file);
  }
  if (activate) {
    await run(['systemctl', 'daemon-reload']);
    const timers = units.filter((u) => u.name.endsWith('.timer')).map((u) => u.name);
    if (timers.length > 0) await run(['systemctl', 'enable', '--now', ...timers]);
  }
  return result;
}
