/** `tierback offsite usb|drives|push|lifecycle|ls|get`: the offsite tier (docs/offsite.md). */
import type { CommandModule } from 'yargs';
import { OFFSITE_CYCLES, type OffsiteCycle } from '../../lib/model/names.js';
import { formatDuration } from '../../lib/base/duration.js';
import { ExitCode } from '../../lib/base/errors.js';
import { exitCodeFor } from '../../lib/model/outcome.js';
import { createExec } from '../../lib/base/exec.js';
import { fetchOffsite, planFetch, type FetchPlan } from '../../lib/tiers/offsite/fetch.js';
import { pushToRemote, targetLifecycle } from '../../lib/tiers/offsite/push.js';
import { listRemoteSnapshots, resolveTarget } from '../../lib/tiers/offsite/rclone.js';
import { copyToDrive, listDrives } from '../../lib/tiers/offsite/usb.js';
import { formatUsbPlan, planUsb } from '../../lib/tiers/offsite/usb-plan.js';
import { resolveBackupServer } from '../../lib/tiers/pull/pull.js';
import { loadInventory } from '../../lib/site/load.js';
import { EXIT_CODES_EPILOG, clockOf, loadSite, makeLogger, nowOf, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { commandGroup } from '../command-group.js';
import { intOption } from '../int-option.js';
import { interruptSignal, run } from '../lifecycle.js';
import { backupServerOption, dryRunOption, jsonOption } from '../options.js';

interface UsbArgs extends GlobalArgs {
  'dry-run'?: boolean;
  mount: string;
  servers?: string[];
  'backup-server'?: string;
  init?: boolean;
  label?: string;
  keep?: number;
  'not-a-mountpoint'?: boolean;
  json?: boolean;
}

interface DrivesArgs extends GlobalArgs {
  'backup-server'?: string;
  json?: boolean;
}

interface PushArgs extends GlobalArgs {
  remote: string;
  servers?: string[];
  'backup-server'?: string;
  config?: string;
  force?: boolean;
  unencrypted?: boolean;
  cycle?: string;
  'dry-run'?: boolean;
  json?: boolean;
}

interface LifecycleArgs extends GlobalArgs {
  target: string;
  prefix?: string;
  'transition-days'?: number;
  'storage-class'?: string;
}

interface LsArgs extends GlobalArgs {
  target: string;
  config?: string;
  json?: boolean;
}

interface GetArgs extends GlobalArgs {
  target: string;
  path: string;
  to: string;
  identity?: string;
  snapshot?: string;
  config?: string;
  json?: boolean;
  'dry-run'?: boolean;
}

const mb = (b: number | undefined) => (b === undefined ? '' : (b / 1e6).toFixed(1));

const usb: CommandModule<GlobalArgs, UsbArgs> = {
  command: 'usb <mount> [servers..]',
  describe: 'Copy the current snapshot of each server to a mounted USB drive, as hardlinked snapshots',
  builder: (y) =>
    y
      .positional('mount', { type: 'string', demandOption: true, describe: 'Mount point of the drive' })
      .positional('servers', { type: 'string', array: true, describe: 'Servers to copy (default: offsite.servers, else every server this backup server pulls)' })
      .option('backup-server', backupServerOption())
      .option('init', { type: 'boolean', describe: 'Make a non-empty drive without a label file a tierback drive (nothing is deleted)' })
      .option('label', { type: 'string', describe: 'Label written at first use, e.g. "offsite-a" (default drive-<id>)' })
      .option('keep', intOption('keep', { min: 1, max: 10000 }, { describe: 'Snapshots per server kept on the drive (default offsite.drive_keep)' }))
      .option('not-a-mountpoint', { type: 'boolean', describe: 'Allow a folder that is not a mount point' })
      .option('json', jsonOption())
      .option('dry-run', dryRunOption('Print what would be copied, switched and removed on the drive (the rsync as argv) and do nothing'))
      .example('$0 offsite usb /media/offsite --dry-run', 'what the copy would write and remove on the drive; nothing done')
      .example('$0 offsite usb /media/offsite --label offsite-a', 'first use of a new drive: label it and copy every server')
      .example('$0 offsite usb /media/offsite zg-3.softxs.ch', 'copy one server to the drive now plugged in')
      .epilog(`The drive gets <mount>/tierback-drive.json at first use, <mount>/snapshots/<server>/<stamp>/ and\n<mount>/remote/<server> -> the newest copy. Unchanged files are hardlinks to the previous copy on the same drive.\nHistory: <partition>/history/backup-offsite-usb-<label>-<yyyymmdd>. See docs/offsite.md.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const b = resolveBackupServer(site, argv['backup-server']);
    const usbOpts = { ...clockOf(argv), servers: argv.servers, init: argv.init, label: argv.label, allowNotMountpoint: argv['not-a-mountpoint'], ...(argv.keep !== undefined ? { keep: argv.keep } : {}) };
    if (argv['dry-run']) {
      const plan = await planUsb(site, b, argv.mount, usbOpts);
      if (argv.json) printJson(plan);
      else out(formatUsbPlan(plan));
      return ExitCode.OK;
    }
    const r = await copyToDrive(site, b, argv.mount, { log, signal: interruptSignal(), ...usbOpts });
    if (argv.json) printJson(r);
    else {
      out(`drive ${r.drive.label} (${r.drive.id})${r.created ? ', labelled now' : ''} at ${r.mount}`);
      out(table(['SERVER', 'STATUS', 'SNAPSHOT', 'FILES', 'MB', 'COPIED MB', 'DETAIL'], r.outcomes.map((o) => [o.server, o.status.toUpperCase(), o.snapshot ?? '-', o.files, mb(o.bytes), mb(o.transferredBytes), o.error ?? o.warning ?? (o.unchanged ? 'already on the drive' : o.pruned ? `removed ${o.pruned.join(', ')}` : '')])));
    }
    return exitCodeFor(r.outcomes.map((o) => o.status));
  }),
};

const drives: CommandModule<GlobalArgs, DrivesArgs> = {
  command: 'drives',
  describe: 'Which USB drive holds what, from when, and which is overdue to be swapped',
  builder: (y) =>
    y
      .option('backup-server', backupServerOption('Which backup server this host is'))
      .option('json', jsonOption())
      .example('$0 offsite drives', 'the drive in service and the drives away')
      .epilog(`Exit 1 when the drive in service is overdue (offsite.swap_after).\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site) => {
    const list = await listDrives(site, resolveBackupServer(site, argv['backup-server']), nowOf(argv));
    if (argv.json) printJson(list);
    else if (list.length === 0) out('no drive written yet (`tierback offsite usb MOUNT` writes one)');
    else {
      out(
        table(
          ['DRIVE', 'ID', 'STATE', 'LAST WRITTEN', 'AGE', 'HOLDS'],
          list.map((d) => [
            d.label,
            d.id.slice(0, 8),
            d.state === 'in-service' ? `${d.overdue ? 'OVERDUE' : 'IN SERVICE'} for ${formatDuration(d.inServiceMs ?? 0)}` : 'AWAY',
            d.lastWritten ?? '-',
            d.ageMs === undefined ? '' : formatDuration(d.ageMs),
            Object.entries(d.servers).map(([s, v]) => `${s}@${v.snapshot}`).join(' '),
          ]),
        ),
      );
      for (const d of list.filter((x) => x.overdue)) out(`swap ${d.label}: it has been written for ${formatDuration(d.inServiceMs ?? 0)} (offsite.swap_after): take it offsite and plug in another drive`);
    }
    return list.some((d) => d.overdue) ? ExitCode.FAILED : ExitCode.OK;
  }),
};

const push: CommandModule<GlobalArgs, PushArgs> = {
  command: 'push <remote> [servers..]',
  describe: 'Push the current snapshot of each server to object storage with rclone, encrypted with age, under GFS cycle prefixes',
  builder: (y) =>
    y
      .positional('remote', { type: 'string', demandOption: true, describe: 'A target of offsite.targets, or an rclone remote:path' })
      .positional('servers', { type: 'string', array: true, describe: 'Servers to push (default: the target\'s servers, offsite.servers, else every server pulled)' })
      .option('backup-server', backupServerOption('Which backup server this host is'))
      .option('config', { type: 'string', describe: 'rclone config file (else the target\'s rclone_config, offsite.rclone_config)' })
      .option('force', { type: 'boolean', describe: 'Push even when the target already holds the current snapshot' })
      .option('unencrypted', { type: 'boolean', describe: 'Push without age encryption (only if the storage is trusted)' })
      .option('cycle', { type: 'string', choices: [...OFFSITE_CYCLES], describe: 'File the copy under this cycle instead of the computed one' })
      .option('dry-run', dryRunOption('Print the commands (argv), run nothing; with --json the same as JSON'))
      .option('json', jsonOption())
      .example('$0 offsite push s3-main', 'push every server to the target "s3-main" of the inventory')
      .example('$0 offsite push box:backups/softxs --config /etc/tierback/rclone.conf', 'any rclone remote')
      .epilog(`Objects: <remote>/<cycle>/<server>/<stamp>/<vm>.tar.gz.age, then tierback-manifest.json last\n(layout dated: <remote>/<server>/<yyyymmdd>/..., days older than keep_days removed after each push).\nDecrypt with the age identity kept apart from the backups (docs/offsite.md#restore).\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const b = resolveBackupServer(site, argv['backup-server']);
    const target = resolveTarget(site, argv.remote, { config: argv.config });
    const exec = createExec(log, { dryRun: argv['dry-run'] });
    const outcomes = await pushToRemote(site, b, target, { log, exec, signal: interruptSignal(), ...clockOf(argv), servers: argv.servers, force: argv.force, unencrypted: argv.unencrypted, ...(argv.cycle ? { cycle: argv.cycle as OffsiteCycle } : {}) });
    if (argv['dry-run'] && argv.json) printJson({ target, commands: exec.history, outcomes });
    else if (argv['dry-run']) for (const c of exec.history) out(c.join(' '));
    else if (argv.json) printJson({ target, outcomes });
    else out(table(['SERVER', 'STATUS', 'SNAPSHOT', 'CYCLE', 'OBJECTS', 'MB', 'DETAIL'], outcomes.map((o) => [o.server, o.status.toUpperCase(), o.snapshot ?? '-', o.cycle ?? '', o.archives, mb(o.bytes), o.error ?? (o.unchanged ? 'already pushed' : o.key ?? '')])));
    return exitCodeFor(outcomes.map((o) => o.status));
  }),
};

const lifecycle: CommandModule<GlobalArgs, LifecycleArgs> = {
  command: 'lifecycle <target>',
  describe: 'Print the S3 lifecycle configuration (JSON) that expires each GFS cycle prefix of a target per its retention',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'A target of offsite.targets, or an rclone remote:bucket/path' })
      .option('prefix', { type: 'string', describe: 'Key prefix inside the bucket (default: the target\'s path after the bucket)' })
      .option('transition-days', intOption('transition-days', { min: 0, max: 36500 }, { describe: 'Move weekly and coarser copies to --storage-class after N days (e.g. 9)' }))
      .option('storage-class', { type: 'string', default: 'GLACIER', describe: 'Storage class of transitions' })
      .example('$0 offsite lifecycle s3-main > lifecycle.json', 'then: aws s3api put-bucket-lifecycle-configuration --bucket BUCKET --lifecycle-configuration file://lifecycle.json')
      .epilog(`Expiration of a cycle kept N times: N x period + 1 day (daily 1, weekly 7, monthly 31, quarterly 92, yearly 366).\nSee docs/offsite.md#cycles.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site) => {
    const r = targetLifecycle(site, argv.target, { ...(argv.prefix !== undefined ? { prefix: argv.prefix } : {}), ...(argv['transition-days'] !== undefined ? { transitionDays: argv['transition-days'] } : {}), ...(argv['storage-class'] ? { storageClass: argv['storage-class'] } : {}) });
    for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
    printJson(r.lifecycle);
    return ExitCode.OK;
  }),
};

const ls: CommandModule<GlobalArgs, LsArgs> = {
  command: 'ls <target>',
  describe: 'List the copies an rclone target holds: cycle, server, snapshot, complete or not',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'A target of offsite.targets, or an rclone remote:path' })
      .option('config', { type: 'string', describe: 'rclone config file' })
      .option('json', jsonOption())
      .example('$0 offsite ls s3-main', 'what can be restored from s3-main')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site, log) => {
    const snaps = await listRemoteSnapshots(createExec(log), resolveTarget(site, argv.target, { config: argv.config }));
    if (argv.json) printJson(snaps);
    else out(table(['SERVER', 'SNAPSHOT', 'CYCLE', 'STATE', 'OBJECTS'], snaps.map((s) => [s.server, s.stamp, s.cycle, s.complete ? 'complete' : 'INCOMPLETE', s.objects.filter((o) => o.includes('.tar')).join(' ')])));
    return ExitCode.OK;
  }),
};

const get: CommandModule<GlobalArgs, GetArgs> = {
  command: 'get <target> <path>',
  describe: 'Get a file or folder back from a USB drive or an rclone target, decrypting it',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true, describe: 'A drive mount point, a target of offsite.targets, or an rclone remote:path' })
      .positional('path', { type: 'string', demandOption: true, describe: '<server>/<vm>/<relpath>/<file or folder>, as in the remote tier' })
      .option('to', { type: 'string', demandOption: true, describe: 'Folder to put it in (it lands at <to>/<vm>/<relpath>/...)' })
      .option('identity', { type: 'string', describe: 'age identity (private key) file, for encrypted targets' })
      .option('snapshot', { type: 'string', describe: 'Snapshot stamp (default: the newest complete copy)' })
      .option('config', { type: 'string', describe: 'rclone config file' })
      .option('json', jsonOption())
      .option('dry-run', dryRunOption('Print where it would come from and land, and the commands as argv; write nothing'))
      .example('$0 offsite get /media/offsite zg-3.softxs.ch/web/v2.softxs.ch/hydro/db --to /tmp/restore', 'a dump folder from a drive')
      .example('$0 offsite get s3-main zg-3.softxs.ch/web/v2.softxs.ch/hydro/db/hydro-2026-03-01T013000Z.sql.gz --to /tmp/r --identity /root/offsite.key', 'one dump from object storage')
      .epilog(`Without the inventory, give an rclone remote:path and --config. The manual way: docs/offsite.md#restore.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: run(async (argv) => {
    const log = makeLogger(argv);
    const needSite = !argv.target.startsWith('/') && !argv.target.includes(':');
    const site = needSite || argv.inventory || process.env['TIERBACK_INVENTORY'] ? await loadSite(argv, log) : await loadInventory({ env: process.env }).catch(() => undefined);
    const fetchOpts = { log, ...(argv.identity ? { identity: argv.identity } : {}), ...(argv.snapshot ? { snapshot: argv.snapshot } : {}), ...(argv.config ? { rcloneConfig: argv.config } : {}) };
    if (argv['dry-run']) {
      const plan = await planFetch(site, argv.target, argv.path, argv.to, fetchOpts);
      if (argv.json) printJson(plan);
      else out(formatFetchPlan(plan));
      return ExitCode.OK;
    }
    const r = await fetchOffsite(site, argv.target, argv.path, argv.to, fetchOpts);
    if (argv.json) printJson(r);
    else out(`${r.path}  (from ${r.source}, snapshot ${r.snapshot})`);
    return ExitCode.OK;
  }),
};

/** `offsite get --dry-run` as text: what, from where, to where, and the commands. */
function formatFetchPlan(p: FetchPlan): string {
  const cmds = p.pipeline ? [p.commands.map((c) => c.join(' ')).join(' | ')] : p.commands.map((c) => c.join(' '));
  return [
    `would get ${p.path}`,
    `  from ${p.source} (snapshot ${p.snapshot})`,
    `commands it would run${p.pipeline ? ' (one pipeline; tierback checks the sha256 of the object against its manifest and gunzips between them)' : ''}:`,
    ...cmds.map((c) => `  ${c}`),
  ].join('\n');
}

export const offsiteCommand = commandGroup({
  command: 'offsite <command>',
  describe: 'Offsite tier: USB drives and object storage (rclone), encrypted with age',
  subcommands: [usb, drives, push, lifecycle, ls, get],
  examples: [
    ['$0 offsite drives', 'which USB drive is in service, which is due to be swapped'],
    ['$0 offsite usb /media/offsite', 'copy each server\'s current snapshot onto the mounted drive'],
    ['$0 offsite push s3-main --dry-run', 'what an encrypted push to object storage would send'],
    ['$0 offsite ls s3-main', 'the copies a target holds, complete or not'],
  ],
});
