/**
 * The layout: every path under a partition, a VM's mount, an app's folder or a USB drive is built
 * here and only here (test/unit/model/layout-only.test.ts); names are lib/model/names.ts; docs/convention.md
 * is the normative text. Pure: no file system access.
 *
 *   <partition>/local/<vm>/<relpath>/                 local tier (one server)
 *   <partition>/local/<vm>/_history/backup-<app>-<yyyymmdd>   job history (travels with pulls)
 *   <vm mount>/<relpath>/                             the same folder seen from inside the VM
 *   <partition>/remote/<server>  -> ../snapshots/<server>/<stamp>   newest complete pull (symlink)
 *   <partition>/remote/<server>/<vm>/<relpath>/       remote tier, resolves through that symlink
 *   <partition>/snapshots/<server>/<stamp>/           dated, hardlinked snapshots
 *   <partition>/snapshots/<server>/<stamp>.partial/   a pull in progress (never current)
 *   <partition>/history/backup-pull-<server>-<yyyymmdd>       pull history (backup server)
 *   <partition>/.tierback/                            tierback's own state (applied inventory, moves, drives, offsite locks)
 */
import path from 'node:path';
import {
  assertStamp, assertValid, checkAppName, checkHostname, checkRelpath, checkVmName, deletingName, offsiteHistoryName, historyFileName, isStamp, parseDeletingName,
  OFFSITE_CYCLES, parseWorkingName, workingName, type OffsiteCycle,
} from './names.js';

const posix = path.posix;

/** Folder, inside each VM's local tree, that holds the job history files. */
export const HISTORY_DIR = '_history';
/** Suffix of a snapshot (or app backup) that is being written and is not complete. */
export const PARTIAL_SUFFIX = '.partial';

// ---------------------------------------------------------------- local tier

export function localRoot(partition: string): string {
  return posix.join(partition, 'local');
}

export function localVmDir(partition: string, vm: string): string {
  assertValid('vm', vm, checkVmName(vm));
  return posix.join(localRoot(partition), vm);
}

export function localAppDir(partition: string, vm: string, relpath: string): string {
  assertValid('relpath', relpath, checkRelpath(relpath));
  return posix.join(localVmDir(partition, vm), relpath);
}

/** The app's folder as seen from inside its VM, where the VM's local tree is mounted at `mount`. */
export function vmAppDir(mount: string, relpath: string): string {
  assertValid('relpath', relpath, checkRelpath(relpath));
  return posix.join(mount, relpath);
}

export function jobHistoryDir(partition: string, vm: string): string {
  return posix.join(localVmDir(partition, vm), HISTORY_DIR);
}

export function vmHistoryDir(mount: string): string {
  return historyDirIn(mount);
}

/** `<history dir>/backup-<name>-<yyyymmdd>`. */
export function historyFilePath(historyDir: string, name: string, day: string): string {
  return posix.join(historyDir, historyFileName(name, day));
}

/** `<vm tree>/_history`, for any VM tree (`local/<vm>`, a VM's mount, `<snapshot>/<vm>`, `remote/<server>/<vm>`). */
export function historyDirIn(vmTree: string): string {
  return posix.join(vmTree, HISTORY_DIR);
}

// ---------------------------------------------------------------- remote tier

export function remoteRoot(partition: string): string {
  return posix.join(partition, 'remote');
}

/** `<partition>/remote/<server>`: a symlink to the newest complete snapshot. */
export function remoteServerDir(partition: string, server: string): string {
  assertValid('server', server, checkHostname(server));
  return posix.join(remoteRoot(partition), server);
}

/** `<partition>/remote/<server>/<vm>`: a VM's tree in the current snapshot. */
export function remoteVmDir(partition: string, server: string, vm: string): string {
  assertValid('vm', vm, checkVmName(vm));
  return posix.join(remoteServerDir(partition, server), vm);
}

export function remoteAppDir(partition: string, server: string, vm: string, relpath: string): string {
  assertValid('vm', vm, checkVmName(vm));
  assertValid('relpath', relpath, checkRelpath(relpath));
  return posix.join(remoteServerDir(partition, server), vm, relpath);
}

export function remoteJobHistoryDir(partition: string, server: string, vm: string): string {
  assertValid('vm', vm, checkVmName(vm));
  return posix.join(remoteServerDir(partition, server), vm, HISTORY_DIR);
}

export function snapshotsRoot(partition: string): string {
  return posix.join(partition, 'snapshots');
}

export function snapshotsDir(partition: string, server: string): string {
  assertValid('server', server, checkHostname(server));
  return posix.join(snapshotsRoot(partition), server);
}

export function snapshotDir(partition: string, server: string, stamp: string): string {
  assertStamp(stamp);
  return posix.join(snapshotsDir(partition, server), stamp);
}

export function partialSnapshotDir(partition: string, server: string, stamp: string): string {
  return snapshotDir(partition, server, stamp) + PARTIAL_SUFFIX;
}

/** What an entry of `snapshots/<server>/` is: a complete snapshot, a pull in progress, one being deleted, or undefined for anything else. */
export function parseSnapshotEntry(name: string): { stamp: string; state: 'complete' | 'partial' | 'deleting' } | undefined {
  if (isStamp(name)) return { stamp: name, state: 'complete' };
  if (name.endsWith(PARTIAL_SUFFIX) && isStamp(name.slice(0, -PARTIAL_SUFFIX.length))) return { stamp: name.slice(0, -PARTIAL_SUFFIX.length), state: 'partial' };
  const deleting = parseDeletingName(name);
  return deleting ? { stamp: deleting, state: 'deleting' } : undefined;
}

/** `<snapshot>/<vm>/_history`: the job history of a VM as it was pulled into one snapshot. */
export function snapshotJobHistoryDir(partition: string, server: string, stamp: string, vm: string): string {
  assertValid('vm', vm, checkVmName(vm));
  return posix.join(snapshotDir(partition, server, stamp), vm, HISTORY_DIR);
}

/** A temporary symlink beside `remote/<server>`, renamed over it to switch the current snapshot atomically. */
export function currentLinkTempPath(partition: string, server: string, nonce: string): string {
  assertValid('server', server, checkHostname(server));
  if (!/^[a-z0-9]+$/.test(nonce)) throw new TypeError(`invalid nonce "${nonce}"`);
  return posix.join(remoteRoot(partition), `.${server}.tmp-${nonce}`);
}

/** The lock a pull of `server` holds: beside that server's snapshots folder. */
export function pullLockPath(partition: string, server: string): string {
  return lockPath(snapshotsDir(partition, server));
}

export function snapshotAppDir(partition: string, server: string, stamp: string, vm: string, relpath: string): string {
  assertValid('vm', vm, checkVmName(vm));
  assertValid('relpath', relpath, checkRelpath(relpath));
  return posix.join(snapshotDir(partition, server, stamp), vm, relpath);
}

/** The target of the `remote/<server>` symlink, relative so the partition can be moved or mounted elsewhere. */
export function currentLinkTarget(server: string, stamp: string): string {
  return posix.join('..', 'snapshots', server, stamp);
}

/** The stamp a `remote/<server>` link target names, or undefined when it is not exactly currentLinkTarget(server, <stamp>). */
export function parseCurrentLinkTarget(server: string, target: string): string | undefined {
  const stamp = posix.basename(target);
  return isStamp(stamp) && target === currentLinkTarget(server, stamp) ? stamp : undefined;
}

// ---------------------------------------------------------------- history

/** Pull (and other server-level) history on a backup server. */
export function serverHistoryDir(partition: string): string {
  return posix.join(partition, 'history');
}

// ---------------------------------------------------------------- reverse lookup helpers

/** Splits `p` under `root`: returns the relative segments, or undefined when p is not under root. */
export function segmentsUnder(root: string, p: string): string[] | undefined {
  const rel = posix.relative(root, p);
  if (rel === '') return [];
  if (rel.startsWith('..') || posix.isAbsolute(rel)) return undefined;
  return rel.split('/');
}

// ---------------------------------------------------------------- job working files (hidden siblings of an app's folder)

function hiddenSibling(target: string, name: string): string {
  return posix.join(posix.dirname(target), name);
}

/** Where a job writes before its atomic rename onto `target`. */
export function stagingPath(target: string, runId: string): string {
  return hiddenSibling(target, workingName(posix.basename(target), 'partial', runId));
}

/** Where the previous good backup is parked during the swap (restored by the next run if a crash hits in between). */
export function retiredPath(target: string, runId: string): string {
  return hiddenSibling(target, workingName(posix.basename(target), 'old', runId));
}

/** The lock file of the job (or pull) writing `target`. */
export function lockPath(target: string): string {
  return hiddenSibling(target, workingName(posix.basename(target), 'lock'));
}

/** The working files of `target` among the names of its parent folder, newest run id last within each kind. */
export function workingFilesOf(target: string, siblings: readonly string[]): { old: string[]; partial: string[]; lock: string[] } {
  const base = posix.basename(target);
  const out = { old: [] as string[], partial: [] as string[], lock: [] as string[] };
  for (const n of siblings) {
    const w = parseWorkingName(n);
    if (w && w.base === base) out[w.kind].push(hiddenSibling(target, n));
  }
  out.old.sort();
  out.partial.sort();
  return out;
}

/** rsync filter rules a pull uses so that jobs' working files never reach a snapshot. */
export const PULL_EXCLUDES = ['.*.partial-*', '.*.old-*', '.*.lock'] as const;

/** Database dumps inside an app's folder: `<app dir>/db/<db>-<stamp>.<ext>`, stamp as for snapshots. */
export const DUMP_DIR = 'db';

/** `<app dir>/db`, the folder of an app's dumps (any tier, or a staging folder). */
export function dumpDir(appDir: string): string {
  return posix.join(appDir, DUMP_DIR);
}

/** `<app dir>/db/<file>`. */
export function dumpPath(appDir: string, file: string): string {
  return posix.join(appDir, DUMP_DIR, file);
}

/** A dump's path relative to its app's folder, as restore points record it: `db/<file>`. */
export function dumpRelPath(file: string): string {
  return `${DUMP_DIR}/${file}`;
}

// ---------------------------------------------------------------- operate: per-partition state
// `<partition>/.tierback/` holds tierback's own state on a server: the last applied inventory (what
// `tierback inventory diff` and `tierback apply` compare against) and the journal of moves. It lives
// beside local/, not inside it, so pulls never copy it to backup servers.

/** Folder of tierback's own state on a partition. */
export function stateDir(partition: string): string {
  return posix.join(partition, '.tierback');
}

/** The inventory last applied on this partition's server (`tierback apply`). */
export function appliedInventoryPath(partition: string): string {
  return posix.join(stateDir(partition), 'applied.yaml');
}

/** Journal of app moves (logfmt, one line per move). */
export function moveJournalPath(partition: string): string {
  return posix.join(stateDir(partition), 'moves.log');
}

/** Move records in a VM tree: `_moves/<app>` lists every place the app lived (docs/convention.md#move-records). */
export const MOVES_DIR = '_moves';

export function moveRecordPath(vmTree: string, app: string): string {
  assertValid('app', app, checkAppName(app));
  return posix.join(vmTree, MOVES_DIR, app);
}

// ---------------------------------------------------------------- retention

/** `<partition>/snapshots/<server>/.<stamp>.deleting`. */
export function deletingSnapshotDir(partition: string, server: string, stamp: string): string {
  return posix.join(snapshotsDir(partition, server), deletingName(stamp));
}

/** The lock a prune holds while it removes backups from `dir` (a snapshots/<server> or an app's db folder). */
export function pruneLockPath(dir: string): string {
  return posix.join(dir, '.prune.lock');
}

/** `<partition>/local/<vm>/<relpath>/db`: the app's database dumps on the local tier. */
export function localDumpDir(partition: string, vm: string, relpath: string): string {
  return posix.join(localAppDir(partition, vm, relpath), DUMP_DIR);
}

// ---------------------------------------------------------------- offsite: USB drives and object storage
//
// A USB drive mirrors a backup partition's remote tier (docs/offsite.md):
//   <mount>/tierback-drive.json                          the drive's label file (id, label, created)
//   <mount>/snapshots/<server>/<stamp>/                  hardlinked snapshots; <stamp> = the source snapshot's stamp
//   <mount>/snapshots/<server>/<stamp>.partial/          a copy in progress (never current)
//   <mount>/remote/<server> -> ../snapshots/<server>/<stamp>   newest complete copy
// so snapshotDir()/remoteServerDir() above apply with the mount point as partition.
// Object storage (rclone), keys relative to the target's remote path:
//   <cycle>/<server>/<stamp>/<vm>.tar.gz.age             one encrypted tar stream per top-level folder (VM)
//   <cycle>/<server>/<stamp>/tierback-manifest.json      written last: a push without it is incomplete

/** The label file at the root of a tierback USB drive. */
export const DRIVE_LABEL_FILE = 'tierback-drive.json';
/** Written last in each pushed snapshot folder. */
export const OFFSITE_MANIFEST = 'tierback-manifest.json';

/** `<mount>/tierback-drive.json`. */
export function driveLabelPath(mount: string): string {
  return posix.join(mount, DRIVE_LABEL_FILE);
}

/** The backup server's record of the USB drives it has written: `<partition>/.tierback/drives/`. */
export function driveRegistryDir(partition: string): string {
  return posix.join(stateDir(partition), 'drives');
}

export function driveRegistryPath(partition: string, driveId: string): string {
  if (!/^[a-z0-9-]+$/.test(driveId)) throw new TypeError(`invalid drive id "${driveId}"`);
  return posix.join(driveRegistryDir(partition), `${driveId}.json`);
}

/** Key folder (relative to the target's remote path) of one copy in the "dated" layout: `<server>/<yyyymmdd>`. */
export function offsiteDatedKey(server: string, day: string): string {
  assertValid('server', server, checkHostname(server));
  if (!/^\d{8}$/.test(day)) throw new TypeError(`invalid day "${day}"`);
  return posix.join(server, day);
}

/** Key folder (relative to the target's remote path) of one pushed snapshot. */
export function offsiteSnapshotKey(cycle: OffsiteCycle, server: string, stamp: string): string {
  if (!OFFSITE_CYCLES.includes(cycle)) throw new TypeError(`invalid cycle "${cycle}"`);
  assertValid('server', server, checkHostname(server));
  assertStamp(stamp);
  return posix.join(cycle, server, stamp);
}

/** The lock an offsite run holds for one target: `<partition>/.tierback/.offsite-<target>.lock`. */
export function offsiteLockPath(partition: string, target: string): string {
  return lockPath(posix.join(stateDir(partition), offsiteHistoryName(target)));
}

// ---------------------------------------------------------------- restore

//
// Each job writes a manifest into the app's folder (it travels with pulls): sha256sum-format lines
// for every dump and a random sample of the other files, with `#` lines for totals and per-dump
// table/row counts. Restore drills compare a restored copy against it.

/** The manifest file inside an app's backup folder. */
export const MANIFEST_FILE = '.tierback-manifest';
/** An app folder's change list (every entry its job wrote, sorted; lib/model/changelist.ts): pulls copy only what changed. */
export const CHANGE_LIST_FILE = '.tierback-files.gz';

/** `<app dir>/.tierback-manifest`. */
export function manifestPath(appDir: string): string {
  return posix.join(appDir, MANIFEST_FILE);
}

// ---------------------------------------------------------------- one partition

/** Every path of every tier on one partition, by the functions above: `new Layout(app.partition).localAppDir(...)`. */
export class Layout {
  constructor(readonly partition: string) {}

  localRoot(): string { return localRoot(this.partition); }
  localVmDir(vm: string): string { return localVmDir(this.partition, vm); }
  localAppDir(vm: string, relpath: string): string { return localAppDir(this.partition, vm, relpath); }
  localDumpDir(vm: string, relpath: string): string { return localDumpDir(this.partition, vm, relpath); }
  jobHistoryDir(vm: string): string { return jobHistoryDir(this.partition, vm); }
  appLockPath(vm: string, relpath: string): string { return lockPath(this.localAppDir(vm, relpath)); }

  remoteRoot(): string { return remoteRoot(this.partition); }
  remoteServerDir(server: string): string { return remoteServerDir(this.partition, server); }
  remoteVmDir(server: string, vm: string): string { return remoteVmDir(this.partition, server, vm); }
  remoteAppDir(server: string, vm: string, relpath: string): string { return remoteAppDir(this.partition, server, vm, relpath); }
  remoteJobHistoryDir(server: string, vm: string): string { return remoteJobHistoryDir(this.partition, server, vm); }
  currentLinkTempPath(server: string, nonce: string): string { return currentLinkTempPath(this.partition, server, nonce); }

  snapshotsRoot(): string { return snapshotsRoot(this.partition); }
  snapshotsDir(server: string): string { return snapshotsDir(this.partition, server); }
  snapshotDir(server: string, stamp: string): string { return snapshotDir(this.partition, server, stamp); }
  partialSnapshotDir(server: string, stamp: string): string { return partialSnapshotDir(this.partition, server, stamp); }
  deletingSnapshotDir(server: string, stamp: string): string { return deletingSnapshotDir(this.partition, server, stamp); }
  snapshotVmDir(server: string, stamp: string, vm: string): string { return posix.join(this.snapshotDir(server, stamp), checkedVm(vm)); }
  snapshotAppDir(server: string, stamp: string, vm: string, relpath: string): string { return snapshotAppDir(this.partition, server, stamp, vm, relpath); }
  snapshotJobHistoryDir(server: string, stamp: string, vm: string): string { return snapshotJobHistoryDir(this.partition, server, stamp, vm); }
  pullLockPath(server: string): string { return pullLockPath(this.partition, server); }

  serverHistoryDir(): string { return serverHistoryDir(this.partition); }
  stateDir(): string { return stateDir(this.partition); }
  appliedInventoryPath(): string { return appliedInventoryPath(this.partition); }
  moveJournalPath(): string { return moveJournalPath(this.partition); }
  driveRegistryDir(): string { return driveRegistryDir(this.partition); }
  driveRegistryPath(driveId: string): string { return driveRegistryPath(this.partition, driveId); }
  offsiteLockPath(target: string): string { return offsiteLockPath(this.partition, target); }
}

function checkedVm(vm: string): string {
  assertValid('vm', vm, checkVmName(vm));
  return vm;
}

/** `<vm mount>/<relpath>/db`: an app's dumps seen from inside its VM. */
export function vmDumpDir(mount: string, relpath: string): string {
  return dumpDir(vmAppDir(mount, relpath));
}


/** When the last full (walking) pull of `server` succeeded: `<partition>/snapshots/.<server>.full-pull`, next to its lock. */
export function fullPullMarkerPath(partition: string, server: string): string {
  assertValid('server', server, checkHostname(server));
  return posix.join(snapshotsRoot(partition), `.${server}.full-pull`);
}
