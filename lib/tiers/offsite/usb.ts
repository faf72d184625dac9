/**
 * USB drives: the current snapshot of each server's remote tier copied to a mounted drive with rsync
 * --link-dest into dated, hardlinked snapshots laid out like a backup partition (docs/offsite.md#drives):
 * `<mount>/snapshots/<server>/<stamp>/` and `<mount>/remote/<server>` -> newest complete copy. A drive is
 * identified by `tierback-drive.json` written at first use; the backup server remembers each drive it
 * wrote in `<partition>/.tierback/drives/<id>.json`, so `tierback offsite drives` can say which drive
 * holds what while the drive is away.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DRIVE_LABEL_FILE, driveLabelPath, driveRegistryDir, driveRegistryPath, serverHistoryDir, snapshotDir } from '../../model/layout.js';
import { offsiteHistoryName, parseDriveRecordName } from '../../model/names.js';
import { recordRun, type RunEnd } from '../../model/run-record.js';
import { INTERRUPTED_ERROR, NotFoundError, RefusedError, TierbackError, UsageError } from '../../base/errors.js';
import { createExec, type Exec } from '../../base/exec.js';
import { assertInside, exists, writeFileAtomic } from '../../base/fsutil.js';
import { newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { currentStamp, preparePartial, readSnapshotState, switchCurrent } from '../snapshots/snapshots.js';
import { parseRsyncStats, rsyncArgv, RSYNC_VANISHED } from '../pull/rsync.js';
import { errorText, lockTarget, offsiteSettings, selectOffsiteServers } from './common.js';
import { processKeys } from '../../model/runstate.js';

export interface DriveLabel {
  id: string;
  label: string;
  created: string;
}

export interface DriveRecord extends DriveLabel {
  /** When this drive was last written, ISO. */
  lastWritten?: string | undefined;
  /** First write of the current stint: since when the drive has been the one being written. */
  inServiceSince?: string | undefined;
  /** Where it was mounted at the last write. */
  mount?: string | undefined;
  /** Per server: the snapshot stamp the drive holds and when it was written. */
  servers: Record<string, { snapshot: string; written: string }>;
}

export interface UsbOptions {
  log: Logger;
  exec?: Exec;
  servers?: string[];
  now?: () => Date;
  /** Make a non-empty drive without a label file a tierback drive. */
  init?: boolean;
  /** Label written at first use (default "drive-<first 8 of id>"). */
  label?: string;
  /** Allow a folder that is not a mount point (tests, or a drive mounted on purpose deeper). */
  allowNotMountpoint?: boolean;
  /** Snapshots per server kept on the drive (default offsite.drive_keep). */
  keep?: number;
  /** Cancels the copy in progress (SIGTERM); its .partial is resumed by the next run. */
  signal?: AbortSignal;
}

export interface UsbOutcome {
  server: string;
  status: 'ok' | 'warning' | 'failed';
  snapshot?: string | undefined;
  /** The drive already held this snapshot. */
  unchanged?: boolean | undefined;
  files?: number | undefined;
  bytes?: number | undefined;
  transferredBytes?: number | undefined;
  pruned?: string[] | undefined;
  error?: string | undefined;
  warning?: string | undefined;
}

export interface UsbResult {
  drive: DriveLabel;
  mount: string;
  created: boolean;
  outcomes: UsbOutcome[];
}

const LABEL_RE = /^[a-z0-9][a-z0-9-]{0,40}$/;

async function isMountPoint(dir: string): Promise<boolean> {
  const [a, b] = await Promise.all([stat(dir), stat(path.dirname(dir))]);
  return a.dev !== b.dev || a.ino === b.ino;
}

export async function readDriveLabel(mount: string): Promise<DriveLabel | undefined> {
  const file = driveLabelPath(mount);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let v: Partial<DriveLabel>;
  try {
    v = JSON.parse(text) as Partial<DriveLabel>;
  } catch {
    throw new RefusedError(`${file} is not valid JSON`, 'restore it from `tierback offsite drives --json`, or move it away and use --init');
  }
  if (typeof v.id !== 'string' || !/^[a-z0-9-]+$/.test(v.id) || typeof v.label !== 'string' || !LABEL_RE.test(v.label) || typeof v.created !== 'string') {
    throw new RefusedError(`${file} is not a tierback drive label (needs id, label, created)`, 'move it away and use --init to label the drive again');
  }
  return { id: v.id, label: v.label, created: v.created };
}

/** Reads or (first use) writes the drive's label file. */
export async function openDrive(mount: string, opts: { init?: boolean | undefined; label?: string | undefined; now: Date; allowNotMountpoint?: boolean | undefined; dryRun?: boolean }): Promise<{ drive: DriveLabel; created: boolean }> {
  let st;
  try {
    st = await stat(mount);
  } catch {
    throw new NotFoundError(`${mount} does not exist`, 'plug the drive in and mount it (e.g. `mount /dev/sdX1 /media/offsite`)');
  }
  if (!st.isDirectory()) throw new UsageError(`${mount} is not a folder`, 'give the drive\'s mount point');
  if (!opts.allowNotMountpoint && !(await isMountPoint(mount))) {
    throw new RefusedError(`${mount} is not a mount point: the drive is probably not mounted, and the copy would fill the system disk`, 'mount the drive there first (or pass --not-a-mountpoint if that is really intended)');
  }
  const existing = await readDriveLabel(mount);
  if (existing) return { drive: existing, created: false };
  const entries = (await readdir(mount)).filter((n) => n !== 'lost+found');
  if (entries.length > 0 && !opts.init) {
    throw new RefusedError(`${mount} has no ${DRIVE_LABEL_FILE} but is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''})`, 'if this drive is meant for tierback, run again with --init (nothing on it is deleted)');
  }
  const id = randomUUID();
  const label = opts.label ?? `drive-${id.slice(0, 8)}`;
  if (!LABEL_RE.test(label)) throw new UsageError(`--label "${label}" is not a drive label`, 'a-z, 0-9 and "-", e.g. "offsite-a"');
  const drive: DriveLabel = { id, label, created: opts.now.toISOString() };
  if (!opts.dryRun) await writeFileAtomic(driveLabelPath(mount), `${JSON.stringify(drive, null, 2)}\n`, 0o644); // dry run: the label it would write
  return { drive, created: true };
}

export async function readDriveRegistry(partition: string): Promise<DriveRecord[]> {
  let names: string[];
  try {
    names = await readdir(driveRegistryDir(partition));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: DriveRecord[] = [];
  for (const id of names.sort().map(parseDriveRecordName).filter((x): x is string => x !== undefined)) {
    try {
      out.push(JSON.parse(await readFile(driveRegistryPath(partition, id), 'utf8')) as DriveRecord);
    } catch {
      // unreadable record: skipped (the drive's label file still identifies it)
    }
  }
  return out;
}

/** Updates the registry after a write of `drive`: a new stint starts when another drive was written last. */
async function recordDriveWrite(partition: string, drive: DriveLabel, mount: string, at: Date, written: Record<string, string>): Promise<void> {
  const all = await readDriveRegistry(partition);
  const mine = all.find((d) => d.id === drive.id) ?? { ...drive, servers: {} };
  const lastOther = all.filter((d) => d.id !== drive.id && d.lastWritten).map((d) => Date.parse(d.lastWritten!)).sort((a, b) => b - a)[0];
  const mineLast = mine.lastWritten ? Date.parse(mine.lastWritten) : undefined;
  const newStint = mineLast === undefined || (lastOther !== undefined && lastOther > mineLast) || !mine.inServiceSince;
  const rec: DriveRecord = {
    ...mine,
    label: drive.label,
    lastWritten: at.toISOString(),
    inServiceSince: newStint ? at.toISOString() : mine.inServiceSince,
    mount,
    servers: { ...mine.servers, ...Object.fromEntries(Object.entries(written).map(([s, snap]) => [s, { snapshot: snap, written: at.toISOString() }])) },
  };
  await writeFileAtomic(driveRegistryPath(partition, drive.id), `${JSON.stringify(rec, null, 2)}\n`);
}

/** Copies the current snapshot of each selected server to the drive mounted at `mount`. */
export async function copyToDrive(site: Site, backupServer: ResolvedBackupServer, mount: string, opts: UsbOptions): Promise<UsbResult> {
  const settings = offsiteSettings(site);
  const exec = opts.exec ?? createExec(opts.log);
  const now = opts.now ?? (() => new Date());
  const partition = backupServer.partition;
  const servers = selectOffsiteServers(site, backupServer, opts.servers, settings.servers);
  const keep = opts.keep ?? settings.driveKeep;
  const mountAbs = path.resolve(mount);
  const { drive, created } = await openDrive(mountAbs, { init: opts.init, label: opts.label, now: now(), allowNotMountpoint: opts.allowNotMountpoint });
  const target = `usb-${drive.label}`;
  const lock = await lockTarget(partition, 'usb');
  const outcomes: UsbOutcome[] = [];
  const written: Record<string, string> = {};
  try {
    for (const server of servers) {
      const start = now();
      const t0 = Date.now();
      const base: HistoryRecord = { run: newRunId(start), name: offsiteHistoryName(target), kind: 'offsite', tier: 'offsite', status: 'running', start, host: backupServer.server, type: 'usb', extra: { server, drive: drive.id, label: drive.label, ...processKeys() } };
      const r = await recordRun(
        { base, historyDir: serverHistoryDir(partition), timezone: site.timezone, log: opts.log, what: 'offsite usb copy', signal: opts.signal, end: () => new Date(start.getTime() + (Date.now() - t0)) },
        async (): Promise<RunEnd<UsbOutcome>> => {
          let o: UsbOutcome;
          try {
            o = await copyServer(exec, partition, mountAbs, server, keep, opts.log, opts.signal);
            if (o.snapshot) written[server] = o.snapshot;
          } catch (err) {
            o = { server, status: 'failed', error: errorText(err) };
          }
          if (opts.signal?.aborted && o.status === 'failed') o = { ...o, error: INTERRUPTED_ERROR };
          const fields = {
            ...(o.files !== undefined ? { files: o.files } : {}),
            ...(o.bytes !== undefined ? { bytes: o.bytes, mb: o.bytes / 1e6 } : {}),
            ...(o.transferredBytes !== undefined ? { transferredMb: o.transferredBytes / 1e6 } : {}),
            ...(o.error ? { error: o.error } : {}),
            ...(o.warning ? { warning: o.warning } : {}),
            extra: { ...base.extra, ...(o.snapshot ? { snapshot: o.snapshot } : {}), ...(o.unchanged ? { unchanged: '1' } : {}) },
          };
          return { status: o.status, fields, value: o };
        },
      );
      const o: UsbOutcome = r.value && r.status === r.value.status ? r.value : { ...(r.value ?? {}), server, status: 'failed', error: r.record?.error };
      outcomes.push(o);
      if (opts.signal?.aborted) break;
    }
    // Flush the drive before anyone unplugs it.
    await exec.run({ argv: ['sync', '-f', mountAbs] }).catch(() => undefined);
    if (Object.keys(written).length > 0) await recordDriveWrite(partition, drive, mountAbs, now(), written);
  } finally {
    await lock.release();
  }
  return { drive, mount: mountAbs, created, outcomes };
}

/** The copy of a snapshot to the drive, as argv (also what `offsite usb --dry-run` prints, lib/tiers/offsite/usb-plan.ts). */
export function driveRsyncArgv(source: string, dest: string, linkDest: string | undefined): string[] {
  return rsyncArgv({ source: `${source}/`, dest, linkDest, hardLinks: false });
}

async function copyServer(exec: Exec, partition: string, mount: string, server: string, keep: number, log: Logger, signal?: AbortSignal): Promise<UsbOutcome> {
  const stamp = await currentStamp(partition, server);
  if (!stamp) return { server, status: 'failed', error: `${server} has no complete snapshot on this backup server yet (run \`tierback pull ${server}\`)` };
  const source = snapshotDir(partition, server, stamp);
  const state = await readSnapshotState(mount, server);
  if (state.current === stamp) return { server, status: 'ok', snapshot: stamp, unchanged: true };
  const final = snapshotDir(mount, server, stamp);
  let stats;
  let warning: string | undefined;
  if (!(await exists(final))) {
    const prepared = await preparePartial(mount, server, stamp, state);
    await assertInside(mount, prepared.dir);
    const linkStamp = state.complete.at(-1);
    // No -H: nearly every file of a snapshot is hardlinked to older snapshots, and rsync -H would
    // track them all (memory per file); app-made hardlinks become separate files on the drive (docs/offsite.md).
    const argv = driveRsyncArgv(source, prepared.dir, linkStamp ? snapshotDir(mount, server, linkStamp) : undefined);
    log.info({ argv }, 'rsync to drive');
    const r = await exec.run({ argv, env: { LC_ALL: 'C' }, warnCodes: [RSYNC_VANISHED] }, signal);
    stats = parseRsyncStats(r.stdout);
    if (!stats) throw new TierbackError('rsync finished without its --stats summary; the copy was not made current');
    if (r.warning) warning = 'some files vanished during the copy (rsync exit 24)';
    await rename(prepared.dir, final);
  }
  await switchCurrent(mount, server, stamp);
  // Keep the newest `keep` complete copies; never the current one.
  const after = await readSnapshotState(mount, server);
  const old = after.complete.filter((s) => s !== stamp).slice(0, Math.max(0, after.complete.length - keep));
  for (const s of old) await rm(snapshotDir(mount, server, s), { recursive: true, force: true });
  return {
    server,
    status: warning ? 'warning' : 'ok',
    snapshot: stamp,
    ...(stats ? { files: stats.files, bytes: stats.totalBytes, transferredBytes: stats.transferredBytes } : {}),
    ...(old.length ? { pruned: old } : {}),
    ...(warning ? { warning } : {}),
  };
}

export interface DriveStatus extends DriveRecord {
  state: 'in-service' | 'away';
  overdue: boolean;
  /** Age of the newest data on the drive, ms. */
  ageMs: number | undefined;
  /** For the drive in service: how long it has been in service, ms. */
  inServiceMs: number | undefined;
}

/** Which drive holds what, from when, and whether the drive in service is overdue to be swapped. */
export async function listDrives(site: Site, backupServer: ResolvedBackupServer, opts: { now?: Date } = {}): Promise<DriveStatus[]> {
  const now = (opts.now ?? new Date()).getTime();
  const { swapAfterMs } = offsiteSettings(site);
  const drives = await readDriveRegistry(backupServer.partition);
  const newest = drives.filter((d) => d.lastWritten).sort((a, b) => Date.parse(b.lastWritten!) - Date.parse(a.lastWritten!))[0];
  return drives
    .map((d) => {
      const inService = d.id === newest?.id;
      const inServiceMs = inService && d.inServiceSince ? now - Date.parse(d.inServiceSince) : undefined;
      return {
        ...d,
        state: inService ? ('in-service' as const) : ('away' as const),
        overdue: inServiceMs !== undefined && inServiceMs > swapAfterMs,
        ageMs: d.lastWritten ? now - Date.parse(d.lastWritten) : undefined,
        inServiceMs,
      };
    })
    .sort((a, b) => a.label.localeCompare(b.label));
}
