/**
 * rsync as data: the argv of a pull, and parsers for what rsync prints (--stats, --info=progress2).
 * Pure: nothing here runs a process or touches the file system.
 */
import { PULL_EXCLUDES } from '../../model/layout.js';
import { RSYNC_VANISHED } from '../jobs/common.js';

export interface RsyncPlan {
  /** `host:/path/` or a local `/path/` (always with a trailing slash: copy the contents). */
  source: string;
  /** The `.partial` snapshot folder being written. */
  dest: string;
  /** The previous complete snapshot: unchanged files become hardlinks to it. */
  linkDest?: string | undefined;
  /** OpenSSH client argv (rsync -e), for ssh transport. */
  rsh?: readonly string[] | undefined;
  /** rsync --timeout, seconds of I/O inactivity. */
  ioTimeoutS?: number | undefined;
  bwlimit?: string | undefined;
  progress?: boolean | undefined;
  /** Only the top level of the source: its files, and its folders created empty (`--no-recursive --dirs`). */
  topLevelOnly?: boolean | undefined;
  /** Keep hard links between the files of one rsync (-H; default true). docs/remote.md says what it costs. */
  hardLinks?: boolean | undefined;
  /**
   * Compare files by checksum, not size and mtime (-c): for copying an app again after its job
   * replaced it, since a rewrite of the same size within the same second passes rsync's quick check.
   */
  checksum?: boolean | undefined;
  /** Update files where they are (--inplace): the dest is a copy-on-write snapshot (btrfs engine), so unchanged blocks stay shared. */
  inPlace?: boolean | undefined;
}

/** rsync exit codes that mean "the connection or the peer failed": worth a retry. */
export const RETRYABLE_RSYNC_CODES: readonly number[] = [5, 10, 12, 30, 35, 255];
/** Exit 24 (defined with the job's rsync options in lib/tiers/jobs/common.ts): some source files vanished, a warning. */
export { RSYNC_VANISHED };

const RSYNC_MEANINGS: Record<number, string> = {
  1: 'syntax or usage error',
  2: 'protocol incompatibility',
  3: 'errors selecting input/output files or folders',
  5: 'error starting the client-server protocol',
  10: 'error in socket I/O',
  11: 'error in file I/O',
  12: 'error in the rsync protocol data stream',
  20: 'received SIGUSR1 or SIGINT',
  23: 'partial transfer due to an error',
  24: 'partial transfer: source files vanished',
  30: 'timeout in data send/receive',
  35: 'timeout waiting for the daemon connection',
  255: 'SSH failed (connection, host key or authentication)',
};

export function describeRsyncExit(code: number): string {
  return RSYNC_MEANINGS[code] ?? 'unknown error';
}

/**
 * Splits nothing and joins nothing through a shell: rsync parses its -e value itself
 * (whitespace-separated words, single or double quotes). We quote each word that needs it
 * and refuse words rsync could not carry safely.
 */
export function rshString(argv: readonly string[]): string {
  return argv
    .map((a) => {
      if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a)) return a;
      if (a.includes("'") || /[\u0000-\u001f]/.test(a)) throw new TypeError(`cannot pass ${JSON.stringify(a)} to rsync -e (quote or control character)`);
      return `'${a}'`;
    })
    .join(' ');
}

/** The argv of one pull. Archive semantics, numeric ids, deletes, excludes of jobs' working files. */
export function rsyncArgv(plan: RsyncPlan): string[] {
  const argv = ['rsync', '-a', '--numeric-ids', '--delete', '--delete-excluded', '--stats'];
  if (plan.hardLinks ?? true) argv.push('-H');
  if (plan.checksum) argv.push('--checksum');
  if (plan.inPlace) argv.push('--inplace');
  if (plan.topLevelOnly) argv.push('--no-recursive', '--dirs');
  for (const x of PULL_EXCLUDES) argv.push(`--exclude=${x}`);
  if (plan.linkDest) argv.push(`--link-dest=${plan.linkDest}`);
  if (plan.ioTimeoutS && plan.ioTimeoutS > 0) argv.push(`--timeout=${Math.ceil(plan.ioTimeoutS)}`);
  if (plan.bwlimit) argv.push(`--bwlimit=${plan.bwlimit}`);
  if (plan.progress) argv.push('--info=progress2', '--no-inc-recursive');
  if (plan.rsh) argv.push('-e', rshString(plan.rsh));
  if (!plan.source.endsWith('/')) throw new TypeError(`rsync source must end with "/": ${plan.source}`);
  argv.push('--', plan.source, plan.dest.endsWith('/') ? plan.dest : `${plan.dest}/`);
  return argv;
}

export interface RsyncStats {
  /** Every entry of the snapshot (files, folders, links...). */
  entries: number;
  /** Regular files in the snapshot. */
  files: number;
  dirs: number;
  /** Regular files transferred (new or changed) by this run. */
  transferredFiles: number;
  deletedFiles: number;
  /** Total size of the snapshot's files, bytes. */
  totalBytes: number;
  /** Size of the files transferred, bytes. */
  transferredBytes: number;
  /** Bytes received over the wire (compressed/delta), bytes. */
  receivedBytes: number;
  sentBytes: number;
}

function num(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** Parses the block `--stats` prints at the end (rsync 3.1+, C locale). Returns undefined when absent. */
export function parseRsyncStats(text: string): RsyncStats | undefined {
  const line = (label: string) => new RegExp(`^${label}: ([\\d,.]+)(.*)$`, 'm').exec(text);
  const files = line('Number of files');
  const total = line('Total file size');
  if (!files || !total) return undefined;
  const detail = files[2] ?? '';
  const reg = num(/reg: ([\d,]+)/.exec(detail)?.[1]) ?? 0;
  const dir = num(/dir: ([\d,]+)/.exec(detail)?.[1]) ?? 0;
  return {
    entries: num(files[1]) ?? 0,
    files: reg,
    dirs: dir,
    transferredFiles: num(line('Number of regular files transferred')?.[1]) ?? 0,
    deletedFiles: num(line('Number of deleted files')?.[1]) ?? 0,
    totalBytes: num(total[1]) ?? 0,
    transferredBytes: num(line('Total transferred file size')?.[1]) ?? 0,
    receivedBytes: num(line('Total bytes received')?.[1]) ?? 0,
    sentBytes: num(line('Total bytes sent')?.[1]) ?? 0,
  };
}

export interface RsyncProgress {
  bytes: number;
  percent: number;
  rate: string;
  eta: string;
  transferredFiles: number;
  /** Entries still to check / total, when rsync knows them. */
  toCheck?: number | undefined;
  total?: number | undefined;
}

const PROGRESS_RE = /^\s*([\d,]+)\s+(\d+)%\s+(\S+)\s+(\d+:\d{2}:\d{2})(?:\s+\(xfr#(\d+), (?:to|ir)-chk=(\d+)\/(\d+)\))?/;

/** Parses one `--info=progress2` update (rsync separates them with "\r"). */
export function parseProgress(line: string): RsyncProgress | undefined {
  const m = PROGRESS_RE.exec(line);
  if (!m) return undefined;
  return {
    bytes: num(m[1]) ?? 0,
    percent: Number(m[2]),
    rate: m[3]!,
    eta: m[4]!,
    transferredFiles: num(m[5]) ?? 0,
    toCheck: num(m[6]),
    total: num(m[7]),
  };
}

/**
 * Adds up the statistics of the passes of a split pull (one top-level pass plus one pass per
 * top-level folder). Each folder pass also counts its own root, which the top-level pass already
 * counted: `folderPasses` of them are taken off the entries and folders.
 */
export function sumRsyncStats(parts: readonly RsyncStats[], folderPasses: number): RsyncStats {
  const total: RsyncStats = { entries: 0, files: 0, dirs: 0, transferredFiles: 0, deletedFiles: 0, totalBytes: 0, transferredBytes: 0, receivedBytes: 0, sentBytes: 0 };
  for (const p of parts) for (const k of Object.keys(total) as (keyof RsyncStats)[]) total[k] += p[k];
  total.entries -= folderPasses;
  total.dirs -= folderPasses;
  return total;
}
