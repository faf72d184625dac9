/**
 * The inventory schema: the single description of a site. Types are inferred from it,
 * docs/inventory.md is generated from its descriptions (a test keeps them in step),
 * and `tierback inventory schema` prints it as JSON Schema for editors.
 */
import { z } from 'zod';
import { checkCron } from '../cron.js';
import { isUtcZone } from '../../base/clock.js';
import { checkHostKey, checkNetworkHost, checkSshPath, checkUserName } from './values.js';
import { DEFAULT_PARTITION, checkAppName, checkHostname, checkPartition, checkRelpath, checkVmName, type Violation } from '../names.js';

function rule(check: (v: unknown) => Violation | undefined) {
  return (value: unknown, ctx: z.RefinementCtx) => {
    const v = check(value);
    if (v) ctx.addIssue({ code: 'custom', message: v.message, params: { hint: v.hint } });
  };
}

const hostname = z.string().superRefine(rule((v) => checkHostname(String(v))));
const absolutePath = z
  .string()
  .superRefine(rule((v) => (typeof v === 'string' && v.startsWith('/') && !v.split('/').includes('..') ? undefined : { message: `"${String(v)}" is not an absolute path without ".."`, hint: 'write an absolute path such as "/home/v2/rails/hydro-app"' })));

const userName = z.string().superRefine(rule((v) => checkUserName(String(v))));
/** An absolute path that rsync passes on to ssh (`-e`): no quotes, no control characters. */
const sshPath = absolutePath.superRefine(rule((v) => checkSshPath(String(v))));

export const DURATION_RE = /^(\d+)(s|m|h|d|w)$/;
export const duration = z
  .string()
  .regex(DURATION_RE, { message: 'is not a duration like "26h", "90m", "7d" or "2w"' });

/** Five-field cron expression (minute hour day-of-month month day-of-week), or @daily/@hourly/...: syntax and ranges (lib/model/cron.ts). */
export const cronSchedule = z.string().superRefine(rule((v) => checkCron(String(v))));

const count = z.number().int().min(0);
export const retentionSchema = z
  .strictObject({
    last: count.optional().meta({ description: 'Keep the N newest backups, whatever their dates.' }),
    hourly: count.optional().meta({ description: 'Keep the newest backup of each of the last N hours that have one.' }),
    daily: count.optional().meta({ description: 'Keep the newest backup of each of the last N days that have one.' }),
    weekly: count.optional().meta({ description: 'Keep the newest backup of each of the last N ISO weeks that have one.' }),
    monthly: count.optional().meta({ description: 'Keep the newest backup of each of the last N months that have one.' }),
    quarterly: count.optional().meta({ description: 'Keep the newest backup of each of the last N quarters that have one.' }),
    yearly: count.optional().meta({ description: 'Keep the newest backup of each of the last N years that have one.' }),
    within: duration.optional().meta({ description: 'Keep every backup younger than this duration, e.g. "2d".' }),
  })
  .meta({ description: 'A GFS retention policy: counts per calendar bucket (docs/retention.md).' });

// ---------------------------------------------------------------- pruning
export const pruneSchema = z
  .strictObject({
    grace: duration
      .default('0s')
      .meta({
        description:
          'While the newest job/pull has failed for longer than this, prune removes nothing (e.g. "2d" tolerates two failed nights). "0s": hold as soon as the newest run failed.',
      }),
    after_job: z.boolean().default(false).meta({ description: 'Prune an app\'s database dumps after each successful job.' }),
    after_pull: z.boolean().default(false).meta({ description: 'Prune a server\'s snapshots after each successful pull.' }),
  })
  .meta({ description: 'When and how safely `tierback prune` runs (docs/retention.md).' });
// ---------------------------------------------------------------- end of pruning block

const sshSchema = z
  .strictObject({
    host: z.string().superRefine(rule((v) => checkNetworkHost(String(v)))).optional().meta({ description: 'Host name (RFC 1123) or IP address to connect to; defaults to the server\'s fqdn.' }),
    port: z.number().int().min(1).max(65535).optional().meta({ description: 'SSH port (default 22).' }),
    user: userName.optional().meta({ description: 'Remote user (default root): a POSIX user name.' }),
    host_key: z.string().superRefine(rule((v) => checkHostKey(String(v)))).optional().meta({ description: 'Pinned host public key, "ssh-ed25519 AAAA..." as in known_hosts.' }),
    known_hosts: sshPath.optional().meta({ description: 'known_hosts file holding the server\'s key (instead of host_key).' }),
    identity: sshPath.optional().meta({ description: 'Private key file the backup server uses to log in.' }),
    // ---- remote pulls ----
    rrsync: z.boolean().optional().meta({ description: 'true when this server restricts the backup server\'s key with `rrsync -ro <partition>/local` (the line `tierback ssh authorize` prints): pulls then ask for "/" of that restricted folder. Default false: the key is unrestricted and pulls ask for <partition>/local/.' }),
  })
  .meta({ description: 'How backup servers reach this server over SSH.' });

/** A size such as "300G" or "1.5T" (powers of 1000). */
const byteSize = z.string().regex(/^\d+(\.\d+)?\s*[KMGTP]?B?$/i, 'a size like "300G", "1.5T" or "800M"');

export const serverSchema = z.strictObject({
  fqdn: hostname.meta({ description: 'Fully qualified domain name of the server, e.g. "zg-3.softxs.ch".' }),
  description: z.string().optional().meta({ description: 'Free text.' }),
  partition: z.string().superRefine(rule(checkPartition)).optional().meta({ description: `Absolute path of the backup partition (default: defaults.partition, "${DEFAULT_PARTITION}").` }),
  role: z.enum(['app', 'backup', 'both']).default('app').meta({ description: '"app": runs VMs/apps and keeps a local tier; "backup": pulls other servers; "both".' }),
  ssh: sshSchema.optional(),
  retention: retentionSchema.optional().meta({ description: 'Retention of this server\'s remote snapshots (overrides defaults.retention.remote).' }),
  copies: z.number().int().min(1).max(8).optional().meta({ description: 'How many backup servers pull this server (default 1); `pulls: auto` places the copies missing from hand-written lists.' }),
  size: byteSize.optional().meta({ description: 'Expected size of its local tier, e.g. "300G", for placing pulls by bytes (default: 1G per active app). `inventory show` compares it with what pulls measured.' }),
});

export const vmSchema = z.strictObject({
  name: z.string().superRefine(rule(checkVmName)).meta({ description: 'VM name, a single DNS label such as "web"; unique in the site.' }),
  server: hostname.meta({ description: 'fqdn of the server the VM runs on.' }),
  mount: absolutePath.optional().meta({ description: 'Where <partition>/local/<vm> is mounted inside the VM (default: defaults.mount).' }),
  description: z.string().optional().meta({ description: 'Free text.' }),
});

export const appSchema = z.strictObject({
  name: z.string().superRefine(rule(checkAppName)).meta({ description: 'Short unique name of the app, used on the command line and in history file names.' }),
  description: z.string().optional().meta({ description: 'Free text, e.g. "Hydro Demo".' }),
  server: hostname.meta({ description: 'fqdn of the server the app runs on (directly or in one of its VMs).' }),
  vm: z.string().superRefine(rule(checkVmName)).optional().meta({ description: 'VM the app runs in; omit (or "_host") when it runs directly on the server.' }),
  path: absolutePath.meta({ description: 'Where the app lives on its VM (or server), e.g. "/home/v2/rails/hydro-app".' }),
  relpath: z.string().superRefine(rule(checkRelpath)).meta({ description: 'Virtual host FQDN plus relative path, e.g. "v2.softxs.ch/hydro": the app\'s folder in every tier.' }),
  type: z.string().meta({ description: 'Job type (docs/jobs/): one of the types of the job type registry, each listed with its options under "Job type options" below.' }),
  options: z.record(z.string(), z.unknown()).default({}).meta({ description: 'Options of the job type, checked against that type\'s own schema.' }),
  status: z.enum(['active', 'paused', 'retired']).default('active').meta({ description: '"active": backed up and monitored; "paused": monitored, not run; "retired": neither, old backups kept until retention removes them.' }),
  schedule: cronSchedule.optional().meta({ description: 'Cron schedule of the job (default: defaults.schedule).' }),
  duration: duration.optional().meta({ description: 'Expected duration of the job, for laying out schedules before the pull (default: the median of its recent runs where `tierback schedule` sees its history, else schedules.stagger).' }),
  retention: retentionSchema.optional().meta({ description: 'Retention of this app\'s dumps (overrides defaults.retention.local).' }),
  keep_dumps: count.optional().meta({ description: 'Number of database dumps kept in the app\'s db/ folder (default: defaults.keep_dumps).' }),
  stale_after: duration.optional().meta({ description: 'Age after which the last success counts as STALE (default: defaults.stale_after).' }),
  shrink_threshold: z.number().min(0).max(100).optional().meta({ description: 'Percent of size lost since the previous run that marks it SHRUNK (default: defaults.shrink_threshold).' }),
});

const pullEntry = z.union([
  hostname,
  z.strictObject({
    server: hostname.meta({ description: 'fqdn of the server to pull.' }),
    transport: z.enum(['ssh', 'local']).default('ssh').meta({ description: '"ssh" (default) or "local" when the backup server pulls its own local tier.' }),
    bwlimit: z.string().regex(/^\d+[KMG]?$/).optional().meta({ description: 'rsync --bwlimit, e.g. "20M".' }),
  }),
]);

export const backupServerSchema = z.strictObject({
  server: hostname.meta({ description: 'fqdn of the backup server (an entry of servers with role backup or both).' }),
  pulls: z.union([z.literal('auto'), z.array(pullEntry).min(1)]).meta({ description: 'Servers whose whole local tier this backup server pulls: fqdn strings or {server, transport, bwlimit}; or "auto": tierback places servers on the backup servers marked auto, balanced by bytes and stable when one is added (docs/remote.md#placement).' }),
  capacity: byteSize.optional().meta({ description: 'Relative capacity for `pulls: auto`, e.g. "20T": a backup server with twice the capacity gets twice the bytes (default: equal shares).' }),
  schedule: cronSchedule.optional().meta({ description: 'Cron schedule of the pulls (default: defaults.pull_schedule).' }),
  transfers: z.number().int().min(1).max(64).optional().meta({ description: 'The transfer budget: rsync processes this backup server runs at once, all pulls together (default 8). Servers and streams share it: one server pulled alone gets up to 8 streams, 50 small ones run 8 at a time with one each. See docs/remote.md#transfer-budget.' }),
  streams: z.union([z.literal('auto'), z.number().int().min(1).max(64)]).optional().meta({ description: 'rsync processes per server: "auto" (default: from the files of its last pull and its share of the budget) or a number (at most `transfers`; 1 = one rsync for the whole tree).' }),
  concurrency: z.number().int().min(1).max(64).optional().meta({ description: 'Servers pulled at the same time (default: `transfers`; never more than `transfers`).' }),
  timeout: duration.optional().meta({ description: 'rsync --timeout of a pull: it fails after this long without a byte from the source, then is retried (default "4m": a hung source holds a slot at most 15 minutes, docs/remote.md#hung-sources).' }),
  snapshots: z.enum(['hardlink', 'btrfs', 'auto']).default('hardlink').meta({ description: 'Snapshot engine: "hardlink" (default: rsync --link-dest), "btrfs" (each snapshot a subvolume, O(1) to make and delete; the partition must be on btrfs) or "auto" (btrfs when the partition is on btrfs). See docs/remote.md, "Snapshot engines".' }),
  full_pull_every: duration.default('7d').meta({ description: 'With change lists (btrfs engine): a full pull, walking every folder, when the last one is older than this (default "7d"). See docs/remote.md, "Change lists".' }),
});

export const defaultsSchema = z.strictObject({
  partition: z.string().superRefine(rule(checkPartition)).default(DEFAULT_PARTITION).meta({ description: 'Partition of servers that do not set one.' }),
  mount: absolutePath.default('/backup').meta({ description: 'Mount point of <partition>/local/<vm> inside VMs that do not set one.' }),
  schedule: cronSchedule.default('30 1 * * *').meta({ description: 'Schedule of app jobs.' }),
  pull_schedule: cronSchedule.default('0 4 * * *').meta({ description: 'Schedule of pulls on backup servers.' }),
  timezone: z
    .string()
    .superRefine(
      rule((v) => {
        try {
          if (!isUtcZone(String(v))) new Intl.DateTimeFormat('en', { timeZone: String(v) });
          return undefined;
        } catch {
          return { message: `"${String(v)}" is not an IANA timezone`, hint: 'write it like "Europe/Zurich" or "UTC"' };
        }
      }),
    )
    .default('UTC').meta({ description: 'IANA timezone of the site: history days and retention buckets use it.' }),
  keep_dumps: count.default(7).meta({ description: 'Database dumps kept per app.' }),
  stale_after: duration.default('26h').meta({ description: 'Age of the last success after which an app is STALE.' }),
  shrink_threshold: z.number().min(0).max(100).default(20).meta({ description: 'Percent of size lost that marks a run SHRUNK.' }),
  retention: z
    .strictObject({
      local: retentionSchema.optional().meta({ description: 'Dumps on the local tier.' }),
      remote: retentionSchema.optional().meta({ description: 'Snapshots on backup servers.' }),
    })
    .default({})
    .meta({ description: 'Site-wide retention per tier (default: daily 7).' }),
  prune: pruneSchema.default(pruneSchema.parse({})).meta({ description: 'Pruning switches and safety.' }),
});

// ---------------------------------------------------------------- operate: schedules
// How `tierback schedule HOST` turns the inventory into crontab lines or systemd timers.
export const schedulesSchema = z
  .strictObject({
    bin: absolutePath.default('/usr/local/bin/tierback').meta({ description: 'Path of the tierback program on every host (the symlink to the bundle that docs/install.md installs; it runs through its shebang).' }),
    inventory: absolutePath.optional().meta({ description: 'Path of the inventory on every host, passed with -i (default: the file `tierback schedule` read; omitted when that is /etc/tierback/inventory.yaml).' }),
    user: userName.default('root').meta({ description: 'User the scheduled commands run as (cron.d user field, systemd User=).' }),
    path: z.string().regex(/^\/[^:\s]*(:\/[^:\s]*)*$/).default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').meta({ description: 'PATH of scheduled commands (rsync, ssh, mysqldump, pg_dump must be on it).' }),
    log_dir: absolutePath.default('/var/log/tierback').meta({ description: 'Folder of the scheduled commands\' logs, one file per command (rotate them with logrotate).' }),
    stagger: duration.default('5m').meta({ description: 'Expected duration of an app job with no history and no apps[].duration: app jobs of one server that use the default schedule start one after another, each its expected duration after the one before.' }),
    job_lanes: z.number().int().min(1).max(16).default(2).meta({ description: 'How many app jobs of one server may run side by side when one after another they would not end before the pull.' }),
    pull_margin: duration.default('10m').meta({ description: 'App jobs are laid out to end this long before the first pull of their server.' }),
    prune: cronSchedule.optional().meta({ description: 'Schedule of `tierback prune` on backup servers (default: two hours after the pulls).' }),
    verify: cronSchedule.default('0 6 * * 0').meta({ description: 'Schedule of the restore drills (`tierback verify`) on backup servers.' }),
    status_export: cronSchedule.default('*/15 * * * *').meta({ description: 'Schedule of the status export (`tierback monitor export`) on servers and backup servers.' }),
    // -------- rows (offsite lines in schedules)
    offsite: cronSchedule.optional().meta({ description: 'Schedule of `tierback offsite push <target>` on backup servers, one line per offsite.targets[] (default: three hours after the pulls, after prune; further targets staggered). USB copies are never scheduled: a person plugs the drive in.' }),
    // -------- end rows
  })
  .meta({ description: 'Generated schedules (docs/operate.md#schedules).' });
export type Schedules = z.output<typeof schedulesSchema>;
// ---------------------------------------------------------------- end operate
// ---------------------------------------------------------------- monitoring (status and monitoring)
// Where status goes besides `tierback status`: a Prometheus textfile, InfluxDB events and
// Healthchecks-style pings (docs/monitoring.md). Secrets are read from an env var or a file, never written here.

const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, { message: 'is not an http(s) URL' });
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { message: 'is not an environment variable name' });

export const monitoringSchema = z
  .strictObject({
    prometheus: z
      .strictObject({
        textfile: absolutePath.meta({ description: 'File for node_exporter\'s textfile collector, e.g. "/var/lib/prometheus/node-exporter/tierback.prom"; replaced atomically after each run and by `tierback monitor export`.' }),
      })
      .optional()
      .meta({ description: 'Prometheus metrics per app and tier: last success timestamp, age, files, bytes, duration, state.' }),
    influxdb: z
      .strictObject({
        url: httpUrl.meta({ description: 'Base URL of the InfluxDB HTTP API, e.g. "http://influx.example.org:8086".' }),
        db: z.string().min(1).meta({ description: 'Database (InfluxDB 1.x) or bucket mapped through the 1.x-compatible /write endpoint.' }),
        measurement: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('tierback_run').meta({ description: 'Measurement name of the events (default "tierback_run").' }),
        username: z.string().optional().meta({ description: 'User for basic authentication (with password_env or password_file).' }),
        password_env: envName.optional().meta({ description: 'Environment variable holding the password.' }),
        password_file: absolutePath.optional().meta({ description: 'File (0600) holding the password.' }),
        token_env: envName.optional().meta({ description: 'Environment variable holding an API token, sent as "Authorization: Token ...".' }),
        token_file: absolutePath.optional().meta({ description: 'File (0600) holding an API token.' }),
      })
      .optional()
      .meta({ description: 'An event in InfluxDB line protocol for every finished job and pull, failures and sizes included.' }),
    healthchecks: z
      .strictObject({
        apps: z.record(z.string(), httpUrl).default({}).meta({ description: 'Ping URL per app name, e.g. {hydro: "https://hc-ping.com/<uuid>"}; /start, /fail are appended.' }),
        pulls: z.record(z.string(), httpUrl).default({}).meta({ description: 'Ping URL per pulled server fqdn.' }),
      })
      .optional()
      .meta({ description: 'Healthchecks-style pings: start, success and fail per app or pull.' }),
    spool: absolutePath.default('/var/lib/tierback/monitor-spool.jsonl').meta({ description: 'Queue (0600) of deliveries that failed, retried on the next run.' }),
    timeout: duration.default('10s').meta({ description: 'Timeout of one delivery.' }),
  })
  .meta({ description: 'Exports and notifications (docs/monitoring.md). Delivery failures never fail a backup: they are logged and retried on the next run.' });
export type Monitoring = z.output<typeof monitoringSchema>;

// ---------------------------------------------------------------- offsite: USB drives and object storage
// `tierback offsite usb|push|drives|lifecycle|get` (docs/offsite.md).
const AGE_RECIPIENT = /^(age1[02-9ac-hj-np-z]{58}|ssh-ed25519 [A-Za-z0-9+/]+=*( .*)?|ssh-rsa [A-Za-z0-9+/]+=*( .*)?)$/;
export const offsiteTargetSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).meta({ description: 'Name of the target, used on the command line (`tierback offsite push NAME`) and in history file names.' }),
  remote: z.string().regex(/^([A-Za-z0-9_.][A-Za-z0-9_.-]*)?:[^\s]*$|^\/[^\s]*$/, { message: 'is not an rclone remote ("name:path", the name not starting with "-") or an absolute path' }).meta({ description: 'rclone remote and path, e.g. "s3:my-bucket/tierback" or "box:backups/site" (any rclone backend: S3, Swift, Box, SFTP...).' }),
  rclone_config: absolutePath.optional().meta({ description: 'rclone config file for this target (default: offsite.rclone_config).' }),
  servers: z.array(hostname).optional().meta({ description: 'Servers pushed to this target (default: offsite.servers).' }),
  retention: retentionSchema.optional().meta({ description: 'Retention by GFS cycle prefixes, turned into S3 lifecycle rules (default: offsite.retention). Layout "gfs" only.' }),
  layout: z.enum(['gfs', 'dated']).default('gfs').meta({ description: 'Where copies go: "gfs" under `<cycle>/<server>/<stamp>/` (expired by lifecycle rules per cycle), or "dated" under `<server>/<yyyymmdd>/` (the push day in the site\'s timezone), expired by age by tierback itself (`keep_days`).' }),
  keep_days: z.number().int().min(1).default(30).meta({ description: 'Layout "dated": after each successful push, the server\'s day folders older than this many days are removed (never the newest complete copy). Ignored by "gfs".' }),
});
export const offsiteSchema = z
  .strictObject({
    recipients: z
      .array(z.string().regex(AGE_RECIPIENT, { message: 'is not an age recipient ("age1..." or an "ssh-ed25519 AAAA..." public key)' }))
      .default([])
      .meta({ description: 'age recipients (public keys) offsite copies are encrypted to. The matching identities (private keys) are never stored with the data; give one at restore time (`--identity`).' }),
    servers: z.array(hostname).optional().meta({ description: 'Servers copied offsite (default: every server this backup server pulls).' }),
    swap_after: duration.default('7d').meta({ description: 'A USB drive written for longer than this without being swapped for another is OVERDUE (`tierback offsite drives`).' }),
    drive_keep: z.number().int().min(1).default(4).meta({ description: 'Snapshots of each server kept on a USB drive (the oldest are removed after a successful copy).' }),
    rclone_config: absolutePath.optional().meta({ description: 'Default rclone config file (else rclone\'s own default, ~/.config/rclone/rclone.conf).' }),
    retention: retentionSchema.optional().meta({ description: 'Retention of object-storage copies by GFS cycle (default: defaults.retention.remote).' }),
    targets: z.array(offsiteTargetSchema).default([]).meta({ description: 'Named object-storage targets for `tierback offsite push NAME`.' }),
  })
  .meta({ description: 'Offsite tier: USB drives and object storage through rclone, encrypted with age (docs/offsite.md).' });
export type Offsite = z.output<typeof offsiteSchema>;
export type OffsiteTarget = z.output<typeof offsiteTargetSchema>;
// ---------------------------------------------------------------- end offsite

export const inventorySchema = z
  .strictObject({
    version: z.literal(1).meta({ description: 'Inventory format version; always 1.' }),
    site: z.string().optional().meta({ description: 'Name of the site, shown in reports.' }),
    defaults: defaultsSchema.default(defaultsSchema.parse({})).meta({ description: 'Values used where servers, VMs and apps do not set their own.' }),
    servers: z.array(serverSchema).min(1).meta({ description: 'Every server: application servers and backup servers.' }),
    vms: z.array(vmSchema).default([]).meta({ description: 'Every VM and the server it runs on.' }),
    apps: z.array(appSchema).default([]).meta({ description: 'Every application backed up.' }),
    backup_servers: z.array(backupServerSchema).default([]).meta({ description: 'Which backup server pulls which servers.' }),
    schedules: schedulesSchema.optional().meta({ description: 'How schedules are generated (operate, docs/operate.md).' }),
    monitoring: monitoringSchema.optional(),
    offsite: offsiteSchema.optional().meta({ description: 'Offsite tier: USB drives and object storage (docs/offsite.md).' }),
  })
  .meta({ title: 'tierback inventory', description: 'The single description of a site for tierback.' });

export type Inventory = z.output<typeof inventorySchema>;
export type Server = z.output<typeof serverSchema>;
export type Vm = z.output<typeof vmSchema>;
export type App = z.output<typeof appSchema>;
export type BackupServer = z.output<typeof backupServerSchema>;
export type Defaults = z.output<typeof defaultsSchema>;
export type Retention = z.output<typeof retentionSchema>;
export type PruneSettings = z.output<typeof pruneSchema>;
export type SshSettings = z.output<typeof sshSchema>;

export function inventoryJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(inventorySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
