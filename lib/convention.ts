/**
 * The path convention (docs/convention.md is its normative text). Every path tierback
 * reads or writes is built here, and only here. Pure: no file system access.
 *
 *   <partition>/local/<vm>/<relpath>/                 local tier (one server)
 *   <partition>/local/<vm>/_history/backup-<app>-<yyyymmdd>   job history (travels with pulls)
 *   <vm mount>/<relpath>/                             the same folder seen from inside the VM
 *   <partition>/remote/<server>  -> ../snapshots/<server>/<stamp>   newest complete pull (symlink)
 *   <partition>/remote/<server>/<vm>/<relpath>/       remote tier, resolves through that symlink
 *   <partition>/snapshots/<server>/<stamp>/           dated, hardlinked snapshots
 *   <partition>/snapshots/<server>/<stamp>.partial/   a pull in progress (never current)
 *   <partition>/history/backup-pull-<server>-<yyyymmdd>       pull history (backup server)
 */
import path from 'node:path';

const posix = path.posix;

/** The VM name for apps that run directly on a server (the seed's "n/a"). */
export const HOST_VM = '_host';
/** Folder, inside each VM's local tree, that holds the job history files. */
export const HISTORY_DIR = '_history';
/** Default partition of a server. */
export const DEFAULT_PARTITION = '/v01/backup';
/** Suffix of a snapshot (or app backup) that is being written and is not complete. */
export const PARTIAL_SUFFIX = '.partial';

export const LIMITS = {
  relpathLength: 255,
  hostnameLength: 253,
  labelLength: 63,
  segmentLength: 100,
  partitionLength: 200,
  nameLength: 63,
} as const;

const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const SEGMENT = /^[a-z0-9][a-z0-9._-]*$/;
const VM_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const APP_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const PARTITION_CHARS = /^[A-Za-z0-9._/-]+$/;
const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A rule violation: what is wrong and what to do about it. */
export interface Violation {
  message: string;
  hint: string;
}

function describeBadChar(value: string): Violation | undefined {
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x7e || code < 0x20) {
      return {
        message: `contains the non-ASCII or control character U+${code.toString(16).toUpperCase().padStart(4, '0')} (${JSON.stringify(ch)})`,
        hint: 'use only a-z, 0-9, ".", "_" and "-"; look-alike characters from other alphabets are rejected on purpose',
      };
    }
  }
  if (value.includes('%')) {
    return { message: 'contains "%" (percent-encoding is not decoded)', hint: 'write the path literally, e.g. "v2.softxs.ch/hydro"' };
  }
  if (value.includes('\\')) {
    return { message: 'contains a backslash', hint: 'separate segments with "/"' };
  }
  if (/[A-Z]/.test(value)) {
    return { message: 'contains upper-case letters', hint: `write it in lower case: "${value.toLowerCase()}"` };
  }
  return undefined;
}

/** Checks a hostname (FQDN or single label): lower-case DNS labels. */
export function checkHostname(value: string): Violation | undefined {
  const bad = describeBadChar(value);
  if (bad) return bad;
  if (value.length === 0) return { message: 'is empty', hint: 'give a host name such as "zg-3.softxs.ch"' };
  if (value.length > LIMITS.hostnameLength) {
    return { message: `is ${value.length} characters long (at most ${LIMITS.hostnameLength})`, hint: 'use a shorter host name' };
  }
  for (const label of value.split('.')) {
    if (label.length === 0) return { message: 'has an empty DNS label (".." or a leading/trailing ".")', hint: 'write it like "www.softxs.ch"' };
    if (label.length > LIMITS.labelLength) {
      return { message: `has a DNS label longer than ${LIMITS.labelLength} characters`, hint: 'DNS labels are at most 63 characters' };
    }
    if (!LABEL.test(label)) {
      return { message: `has the invalid DNS label "${label}"`, hint: 'labels are a-z, 0-9 and "-", not starting or ending with "-"' };
    }
  }
  return undefined;
}

/**
 * Checks an app relpath: `<vhost fqdn>[/<segment>...]`, e.g. `v2.softxs.ch/hydro`.
 * Returns the first violation, or undefined when the relpath is valid.
 */
export function checkRelpath(value: unknown): Violation | undefined {
  if (typeof value !== 'string') return { message: 'must be a string', hint: 'write it like "v2.softxs.ch/hydro"' };
  if (value.length === 0) return { message: 'is empty', hint: 'write the virtual host and path, like "v2.softxs.ch/hydro"' };
  if (value.length > LIMITS.relpathLength) {
    return { message: `is ${value.length} characters long (at most ${LIMITS.relpathLength})`, hint: 'shorten the relpath' };
  }
  const bad = describeBadChar(value);
  if (bad) return bad;
  if (value.startsWith('/')) {
    return { message: 'is an absolute path', hint: `drop the leading "/": "${value.replace(/^\/+/, '')}"` };
  }
  if (value.endsWith('/')) return { message: 'ends with "/"', hint: `drop the trailing "/": "${value.replace(/\/+$/, '')}"` };
  const segments = value.split('/');
  for (const seg of segments) {
    if (seg === '') return { message: 'has an empty segment ("//")', hint: 'separate segments with a single "/"' };
    if (seg === '..') return { message: 'contains ".." (path traversal)', hint: 'a relpath names a folder below the VM\'s tree; ".." is never allowed' };
    if (seg === '.') return { message: 'contains a "." segment', hint: 'remove the "." segment' };
  }
  const [host, ...rest] = segments;
  const hostBad = checkHostname(host ?? '');
  if (hostBad) return { message: `starts with a virtual host name that ${hostBad.message}`, hint: hostBad.hint };
  for (const seg of rest) {
    if (seg.length > LIMITS.segmentLength) {
      return { message: `has a segment longer than ${LIMITS.segmentLength} characters`, hint: 'shorten that path segment' };
    }
    if (!SEGMENT.test(seg)) {
      return {
        message: `has the invalid segment "${seg}"`,
        hint: 'segments are a-z, 0-9, ".", "_" and "-", starting with a letter or digit',
      };
    }
  }
  return undefined;
}

export function checkVmName(value: unknown): Violation | undefined {
  if (typeof value !== 'string') return { message: 'must be a string', hint: 'a VM name such as "web"' };
  if (value === HOST_VM) return undefined;
  const bad = describeBadChar(value);
  if (bad) return bad;
  if (value.length === 0 || value.length > LIMITS.nameLength || !VM_NAME.test(value)) {
    return {
      message: `"${value}" is not a valid VM name`,
      hint: `a single DNS label (a-z, 0-9, "-"), e.g. "web"; "${HOST_VM}" is reserved for apps running directly on a server`,
    };
  }
  return undefined;
}

export function checkAppName(value: unknown): Violation | undefined {
  if (typeof value !== 'string') return { message: 'must be a string', hint: 'a short name such as "hydro"' };
  const bad = describeBadChar(value);
  if (bad) return bad;
  if (value.length === 0 || value.length > LIMITS.nameLength || !APP_NAME.test(value)) {
    return {
      message: `"${value}" is not a valid app name`,
      hint: 'a-z, 0-9, ".", "_" and "-", starting with a letter or digit, at most 63 characters',
    };
  }
  return undefined;
}

export function checkPartition(value: unknown): Violation | undefined {
  if (typeof value !== 'string') return { message: 'must be a string', hint: `an absolute path such as "${DEFAULT_PARTITION}"` };
  if (!value.startsWith('/')) return { message: `"${value}" is not an absolute path`, hint: `write it like "${DEFAULT_PARTITION}"` };
  if (value === '/') return { message: 'is the root directory', hint: `use a dedicated folder such as "${DEFAULT_PARTITION}"` };
  if (value.length > LIMITS.partitionLength) return { message: 'is too long', hint: `at most ${LIMITS.partitionLength} characters` };
  if (!PARTITION_CHARS.test(value)) {
    return { message: `"${value}" contains characters outside A-Z a-z 0-9 . _ - /`, hint: 'use a plain path' };
  }
  if (posix.normalize(value) !== value || value.endsWith('/')) {
    return { message: `"${value}" is not in normal form`, hint: `write it as "${posix.normalize(value).replace(/\/+$/, '')}"` };
  }
  if (value.split('/').includes('..')) return { message: 'contains ".."', hint: 'write the absolute path without ".."' };
  return undefined;
}

function assertValid(kind: string, value: string, v: Violation | undefined): void {
  if (v) throw new TypeError(`invalid ${kind} "${value}": ${v.message}`);
}

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
  return posix.join(mount, HISTORY_DIR);
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
  if (!STAMP.test(stamp)) throw new TypeError(`invalid snapshot stamp "${stamp}"`);
  return posix.join(snapshotsDir(partition, server), stamp);
}

export function partialSnapshotDir(partition: string, server: string, stamp: string): string {
  return snapshotDir(partition, server, stamp) + PARTIAL_SUFFIX;
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

/** Snapshot stamp for a moment, in UTC: `2026-11-22T013000Z` (no ":" so rsync never mistakes it for host:path). */
export function snapshotStamp(at: Date): string {
  const iso = at.toISOString(); // 2026-11-22T01:30:00.000Z
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

export function parseSnapshotStamp(stamp: string): Date | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  const d = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

// ---------------------------------------------------------------- history

/** Pull (and other server-level) history on a backup server. */
export function serverHistoryDir(partition: string): string {
  return posix.join(partition, 'history');
}

/** `backup-<name>-<yyyymmdd>`; `day` is `yyyymmdd` in the site's timezone. */
export function historyFileName(name: string, day: string): string {
  if (!/^\d{8}$/.test(day)) throw new TypeError(`invalid history day "${day}" (want yyyymmdd)`);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new TypeError(`invalid history name "${name}"`);
  return `backup-${name}-${day}`;
}

export function parseHistoryFileName(file: string): { name: string; day: string } | undefined {
  const m = /^backup-([a-z0-9][a-z0-9._-]*)-(\d{8})$/.exec(file);
  return m ? { name: m[1]!, day: m[2]! } : undefined;
}

/** History name of an app's restore drills (`tierback verify`): `verify-<app>`, a series of its own. */
export function drillHistoryName(app: string): string {
  return `verify-${app}`;
}

/** History name of the pull of one server. */
export function pullHistoryName(server: string): string {
  return `pull-${server}`;
}

// ---------------------------------------------------------------- reverse lookup helpers

/** Splits `p` under `root`: returns the relative segments, or undefined when p is not under root. */
export function segmentsUnder(root: string, p: string): string[] | undefined {
  const rel = posix.relative(root, p);
  if (rel === '') return [];
  if (rel.startsWith('..') || posix.isAbsolute(rel)) return undefined;
  return rel.split('/');
}

export function isStamp(s: string): boolean {
  return STAMP.test(s);
}

// ---------------------------------------------------------------- job working files
//
// Hidden siblings of an app's folder: a leading "." can never start a relpath segment, so these
// can never clash with another app, and pulls exclude them (PULL_EXCLUDES).

function hiddenSibling(target: string, suffix: string): string {
  return posix.join(posix.dirname(target), `.${posix.basename(target)}${suffix}`);
}

/** Where a job writes before its atomic rename onto `target`. */
export function stagingPath(target: string, runId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(runId)) throw new TypeError(`invalid run id "${runId}"`);
  return hiddenSibling(target, `.partial-${runId}`);
}

/** Where the previous good backup is parked during the swap (restored by the next run if a crash hits in between). */
export function retiredPath(target: string, runId: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(runId)) throw new TypeError(`invalid run id "${runId}"`);
  return hiddenSibling(target, `.old-${runId}`);
}

/** The lock file of the job writing `target`. */
export function lockPath(target: string): string {
  return hiddenSibling(target, '.lock');
}

/** rsync filter rules a pull uses so that jobs' working files never reach a snapshot. */
export const PULL_EXCLUDES = ['.*.partial-*', '.*.old-*', '.*.lock'] as const;

/** Database dumps inside an app's folder: `<app dir>/db/<db>-<stamp>.<ext>`, stamp as for snapshots. */
export const DUMP_DIR = 'db';

export function dumpFileName(db: string, stamp: string, ext: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(db) || db.startsWith('.') || db.startsWith('-')) throw new TypeError(`invalid database name for a file "${db}"`);
  if (!STAMP.test(stamp)) throw new TypeError(`invalid stamp "${stamp}"`);
  if (!/^[a-z0-9.]+$/.test(ext)) throw new TypeError(`invalid extension "${ext}"`);
  return `${db}-${stamp}.${ext}`;
}

export function parseDumpFileName(file: string): { db: string; stamp: string; at: Date; ext: string } | undefined {
  const m = /^([A-Za-z0-9_.-]+)-(\d{4}-\d{2}-\d{2}T\d{6}Z)\.([a-z0-9.]+)$/.exec(file);
  if (!m) return undefined;
  const at = parseSnapshotStamp(m[2]!);
  return at ? { db: m[1]!, stamp: m[2]!, at, ext: m[3]! } : undefined;
}

// ---------------------------------------------------------------- operate: per-partition state
//
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

/**
 * Folder of move records in a VM tree (`<partition>/local/<vm>`, a VM's mount, or `<snapshot>/<vm>`):
 * `_moves/<app>` lists every place the app has lived (docs/convention.md#move-records). It travels
 * with the app on every move and with the tree on every pull.
 */
export const MOVES_DIR = '_moves';

export function moveRecordPath(vmTree: string, app: string): string {
  assertValid('app', app, checkAppName(app));
  return posix.join(vmTree, MOVES_DIR, app);
}

// ---------------------------------------------------------------- retention
//
// A snapshot being deleted is first renamed to a hidden sibling that is never a stamp, never
// current and never `.partial`, so no reader ever sees a half-deleted snapshot under its stamp;
// a deletion cut short (crash, power loss) is finished by the next prune.

/** Suffix of a snapshot (renamed) that is being deleted. */
export const DELETING_SUFFIX = '.deleting';

/** `<partition>/snapshots/<server>/.<stamp>.deleting`. */
export function deletingSnapshotDir(partition: string, server: string, stamp: string): string {
  if (!STAMP.test(stamp)) throw new TypeError(`invalid snapshot stamp "${stamp}"`);
  return posix.join(snapshotsDir(partition, server), `.${stamp}${DELETING_SUFFIX}`);
}

/** The stamp of a `.<stamp>.deleting` entry name, or undefined for any other name. */
export function parseDeletingName(name: string): string | undefined {
  const m = /^\.(\d{4}-\d{2}-\d{2}T\d{6}Z)\.deleting$/.exec(name);
  return m ? m[1] : undefined;
}

/** The lock a prune holds while it removes backups from `dir` (a snapshots/<server> or an app's db folder). */
export function pruneLockPath(dir: string): string {
  return posix.join(dir, '.prune.lock');
}

/** History name of the prunes of one subject (a pulled server, or an app): `prune-<subject>`. */
export function pruneHistoryName(subject: string): string {
  return `prune-${subject}`;
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
/** GFS cycles of object-storage copies, finest first; each is a key prefix lifecycle rules expire. */
export const OFFSITE_CYCLES = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
export type OffsiteCycle = (typeof OFFSITE_CYCLES)[number];
/** Written last in each pushed snapshot folder. */
export const OFFSITE_MANIFEST = 'tierback-manifest.json';

/** History name of an offsite target: `offsite-usb-<label>` for drives, `offsite-<name>` for rclone targets. */
export function offsiteHistoryName(target: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(target)) throw new TypeError(`invalid offsite target name "${target}"`);
  return `offsite-${target}`;
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
  if (!STAMP.test(stamp)) throw new TypeError(`invalid snapshot stamp "${stamp}"`);
  return posix.join(cycle, server, stamp);
}

/** Object name of one top-level folder's tar stream. */
export function offsiteArchiveName(top: string, encrypted: boolean): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(top)) throw new TypeError(`invalid top-level folder name "${top}"`);
  return `${top}.tar.gz${encrypted ? '.age' : ''}`;
}

// ---------------------------------------------------------------- restore
//
// Each job writes a manifest into the app's folder (it travels with pulls): sha256sum-format lines
// for every dump and a random sample of the other files, with `#` lines for totals and per-dump
// table/row counts. Restore drills compare a restored copy against it.

/** The manifest file inside an app's backup folder. */
export const MANIFEST_FILE = '.tierback-manifest';


/**
 * The change list of a backup folder (`<app dir>/.tierback-files.gz`): every entry its job wrote,
 * sorted, with type, size, mtime and mode, written from the manifest's walk (lib/changelist.ts). A
 * pull fetches it from the app's known path and copies only what changed (docs/remote.md).
 */
export const CHANGE_LIST_FILE = '.tierback-files.gz';

/** When the last full (walking) pull of `server` succeeded: `<partition>/snapshots/.<server>.full-pull`, next to its lock (docs/remote.md). */
export function fullPullMarkerPath(partition: string, server: string): string {
  assertValid('server', server, checkHostname(server));
  return posix.join(snapshotsRoot(partition), `.${server}.full-pull`);
}
