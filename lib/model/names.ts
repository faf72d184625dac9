/**
 * Names: what tierback accepts as an app, VM, server, relpath and partition, and every file or
 * folder *name* it makes and parses back (snapshot stamps, history files, dumps, job working
 * files, run ids). Pure: no paths are joined here (that is lib/model/layout.ts) and no file system access.
 * docs/convention.md is the normative text.
 */
import path from 'node:path';

const posix = path.posix;

/** The VM name for apps that run directly on a server. */
export const HOST_VM = '_host';
/** Default partition of a server. */
export const DEFAULT_PARTITION = '/v01/backup';

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

/** Throws a TypeError naming the kind and the violation: for names that reached the layout unchecked (a bug, not bad input). */
export function assertValid(kind: string, value: string, v: Violation | undefined): void {
  if (v) throw new TypeError(`invalid ${kind} "${value}": ${v.message}`);
}

// ---------------------------------------------------------------- snapshot stamps

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

export function isStamp(s: string): boolean {
  return STAMP.test(s);
}

export function assertStamp(stamp: string, what = 'snapshot stamp'): void {
  if (!STAMP.test(stamp)) throw new TypeError(`invalid ${what} "${stamp}"`);
}

// ---------------------------------------------------------------- history names

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

/** History name of the prunes of one subject (a pulled server, or an app): `prune-<subject>`. */
export function pruneHistoryName(subject: string): string {
  return `prune-${subject}`;
}

/** History name of an offsite target: `offsite-usb-<label>` for drives, `offsite-<name>` for rclone targets. */
export function offsiteHistoryName(target: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(target)) throw new TypeError(`invalid offsite target name "${target}"`);
  return `offsite-${target}`;
}

// ---------------------------------------------------------------- run ids and job working files
//
// Hidden siblings of an app's folder: a leading "." can never start a relpath segment, so these
// can never clash with another app, and pulls exclude them (PULL_EXCLUDES in lib/model/layout.ts).

const RUN_ID = /^[A-Za-z0-9-]+$/;

export function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) throw new TypeError(`invalid run id "${runId}"`);
}

export type WorkingKind = 'partial' | 'old' | 'lock';

/** The name of a working file of the folder named `base`: `.<base>.partial-<run>`, `.<base>.old-<run>`, `.<base>.lock`. */
export function workingName(base: string, kind: WorkingKind, runId?: string): string {
  if (kind === 'lock') return `.${base}.lock`;
  checkRunId(runId ?? '');
  return `.${base}.${kind}-${runId}`;
}

const WORKING = /^\.(.+)\.(?:(partial|old)-([A-Za-z0-9-]+)|(lock))$/;

/** Parses a working-file name made by workingName(): which folder (`base`) it belongs to, its kind and run id. */
export function parseWorkingName(name: string): { base: string; kind: WorkingKind; runId?: string } | undefined {
  const m = WORKING.exec(name);
  if (!m) return undefined;
  if (m[4]) return { base: m[1]!, kind: 'lock' };
  return { base: m[1]!, kind: m[2] as WorkingKind, runId: m[3]! };
}

// ---------------------------------------------------------------- dump files

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

// ---------------------------------------------------------------- snapshots being deleted

/** Suffix of a snapshot (renamed) that is being deleted. */
export const DELETING_SUFFIX = '.deleting';

export function deletingName(stamp: string): string {
  assertStamp(stamp);
  return `.${stamp}${DELETING_SUFFIX}`;
}

/** The stamp of a `.<stamp>.deleting` entry name, or undefined for any other name. */
export function parseDeletingName(name: string): string | undefined {
  const m = /^\.(\d{4}-\d{2}-\d{2}T\d{6}Z)\.deleting$/.exec(name);
  return m ? m[1] : undefined;
}

// ---------------------------------------------------------------- offsite names

/** GFS cycles of object-storage copies, finest first; each is a key prefix lifecycle rules expire. */
export const OFFSITE_CYCLES = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
export type OffsiteCycle = (typeof OFFSITE_CYCLES)[number];

/** Object name of one top-level folder's tar stream. */
export function offsiteArchiveName(top: string, encrypted: boolean): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(top)) throw new TypeError(`invalid top-level folder name "${top}"`);
  return `${top}.tar.gz${encrypted ? '.age' : ''}`;
}

/** The drive id of a record file name in the registry (`<id>.json`), or undefined for any other name. */
export function parseDriveRecordName(name: string): string | undefined {
  const m = /^([a-z0-9-]+)\.json$/.exec(name);
  return m ? m[1] : undefined;
}
