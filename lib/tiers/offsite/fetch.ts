/**
 * Getting a file or a dump back from an offsite target: from a USB drive (rsync from its snapshot) or
 * from an rclone target (`rclone cat | age -d -i IDENTITY | gunzip | tar -x`), checking the sha256 the
 * manifest recorded. The result lands under `<to>/<vm>/<relpath>/...`, the same tree path as in the
 * remote tier. The manual way without tierback is in docs/offsite.md#restore.
 */
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { OFFSITE_MANIFEST, snapshotDir } from '../../model/layout.js';
import { checkHostname, isStamp } from '../../model/names.js';
import { NotFoundError, TierbackError, UsageError } from '../../base/errors.js';
import { createExec, runPipeline, type Exec, type PipelineStage } from '../../base/exec.js';
import { assertInside, ensureDir, exists } from '../../base/fsutil.js';
import type { Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { currentStamp } from '../snapshots/snapshots.js';
import { ageDecryptArgv } from './common.js';
import type { Manifest } from './push.js';
import { HashTap, joinRemote, listRemoteSnapshots, rcloneArgv, resolveTarget } from './rclone.js';
import { readDriveLabel } from './usb.js';

export interface FetchOptions {
  log: Logger;
  exec?: Exec;
  /** Snapshot stamp to fetch from (default: the newest complete one). */
  snapshot?: string;
  /** age identity (private key) file, for encrypted targets. */
  identity?: string;
  /** rclone config file (else the target's). */
  rcloneConfig?: string;
}

export interface FetchResult {
  source: string;
  snapshot: string;
  /** Where the file or folder now is. */
  path: string;
}

/** Splits and checks `<server>/<vm>[/<rest>]`. */
export function parseTreePath(p: string): { server: string; top: string; rest: string[] } {
  const segs = p.replace(/^\/+|\/+$/g, '').split('/');
  if (segs.some((s) => s === '' || s === '.' || s === '..')) throw new UsageError(`"${p}" is not a tree path`, 'write it like "zg-3.softxs.ch/web/v2.softxs.ch/hydro/db/hydro.sql.gz" (no "..", ".", or "//")');
  const [server, top, ...rest] = segs;
  if (!server || checkHostname(server)) throw new UsageError(`"${p}" does not start with a server fqdn`, 'write it like "<server>/<vm>/<relpath>/<file>"');
  if (!top || !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(top)) throw new UsageError(`"${p}" names no top-level folder (VM) after the server`, 'write it like "<server>/<vm>/<relpath>/<file>"');
  return { server, top, rest };
}

/** What `offsite get` would do (`--dry-run`): found by reading the drive or the target's listing and manifest, nothing written. */
export interface FetchPlan {
  /** The drive's snapshot folder, or the object on the rclone target. */
  source: string;
  snapshot: string;
  /** Where the file or folder would be: `<to>/<vm>/<relpath>/...`. */
  path: string;
  /**
   * The commands, as argv, in order. From a drive: one rsync. From an rclone target: one pipeline
   * (`rclone cat | age -d | tar -x`), tierback checking the object's sha256 against the manifest and
   * gunzipping in-process between its stages.
   */
  commands: string[][];
  pipeline: boolean;
}

interface Prepared {
  plan: FetchPlan;
  /** Runs the plan; `<to>` exists by then. */
  execute: () => Promise<FetchResult>;
}

/** `target` is a drive mount point (absolute path holding tierback-drive.json) or an rclone target. */
export async function fetchOffsite(site: Site | undefined, target: string, treePath: string, to: string, opts: FetchOptions): Promise<FetchResult> {
  const prepared = await prepareFetch(site, target, treePath, to, opts);
  await ensureDir(path.resolve(to));
  return prepared.execute();
}

/** The plan of {@link fetchOffsite}, read from the drive or the target; nothing is written, `<to>` is not created. */
export async function planFetch(site: Site | undefined, target: string, treePath: string, to: string, opts: FetchOptions): Promise<FetchPlan> {
  return (await prepareFetch(site, target, treePath, to, opts)).plan;
}

async function prepareFetch(site: Site | undefined, target: string, treePath: string, to: string, opts: FetchOptions): Promise<Prepared> {
  const exec = opts.exec ?? createExec(opts.log);
  const { server, top, rest } = parseTreePath(treePath);
  const dest = path.resolve(to);
  if (target.startsWith('/') && (await readDriveLabel(target).catch(() => undefined))) {
    return prepareFromDrive(exec, target, server, top, rest, dest, opts);
  }
  if (!site && !target.includes(':') && !target.startsWith('/')) throw new UsageError(`"${target}" is a target name, which needs the inventory`, 'give -i INVENTORY or an rclone remote:path');
  const t = site
    ? resolveTarget(site, target, { config: opts.rcloneConfig })
    : { name: 'remote', remote: target, config: opts.rcloneConfig, servers: undefined, retention: {}, layout: 'gfs' as const, keepDays: 30 };
  let snaps = (await listRemoteSnapshots(exec, t)).filter((s) => s.server === server && s.complete);
  // Without the inventory the layout is unknown: a remote with no GFS copies may hold dated ones.
  if (!site && snaps.length === 0) snaps = (await listRemoteSnapshots(exec, { ...t, layout: 'dated' })).filter((s) => s.server === server && s.complete);
  const chosen = opts.snapshot ? snaps.filter((s) => s.stamp === opts.snapshot).at(-1) : snaps.at(-1);
  if (!chosen) {
    throw new NotFoundError(
      opts.snapshot ? `${t.remote} has no complete copy of ${server} at ${opts.snapshot}` : `${t.remote} has no complete copy of ${server}`,
      snaps.length ? `complete copies: ${snaps.map((s) => s.stamp).join(', ')}` : '`tierback offsite ls TARGET` lists what the target holds',
    );
  }
  const manifestText = (await exec.run({ argv: rcloneArgv(t.config, 'cat', '--', joinRemote(t.remote, chosen.key, OFFSITE_MANIFEST)) })).stdout;
  const manifest = JSON.parse(manifestText) as Manifest;
  const archive = manifest.archives.find((a) => a.top === top);
  if (!archive) throw new NotFoundError(`the copy of ${server} at ${chosen.stamp} has no folder "${top}"`, `it holds: ${manifest.archives.map((a) => a.top).join(', ')}`);
  if (manifest.encryption === 'age' && !opts.identity) throw new UsageError(`${chosen.key}/${archive.object} is encrypted with age`, 'give --identity FILE: the age identity (private key) kept apart from the backups');
  const member = [top, ...rest].join('/');
  const source = joinRemote(t.remote, chosen.key, archive.object);
  const cat = rcloneArgv(t.config, 'cat', '--', source);
  const decrypt = manifest.encryption === 'age' ? [ageDecryptArgv(opts.identity!)] : [];
  // --ignore-zeros: read to the end of the stream (tar stops at the end-of-archive blocks otherwise, and the
  // pipe upstream would be cut before the sha256 of the whole object is known).
  const untar = ['tar', '--extract', '--file=-', '--ignore-zeros', '--directory', dest, '--numeric-owner', '--', member];
  const out = path.join(dest, member);
  const plan: FetchPlan = { source, snapshot: chosen.stamp, path: out, commands: [cat, ...decrypt, untar], pipeline: true };
  const execute = async (): Promise<FetchResult> => {
    const tap = new HashTap();
    const stages: PipelineStage[] = [{ argv: cat }, tap, ...decrypt.map((argv) => ({ argv })), createGunzip(), { argv: untar }];
    await runPipeline(exec, opts.log, stages);
    if (tap.bytes !== archive.bytes || tap.digest() !== archive.sha256) {
      throw new TierbackError(`${chosen.key}/${archive.object} does not match its manifest's sha256: the copy is damaged`, { hint: `try an older copy with --snapshot (${snaps.map((s) => s.stamp).join(', ')})` });
    }
    if (!(await exists(out))) throw new NotFoundError(`${member} is not in ${chosen.key}/${archive.object}`);
    return { source, snapshot: chosen.stamp, path: out };
  };
  return { plan, execute };
}

async function prepareFromDrive(exec: Exec, mount: string, server: string, top: string, rest: string[], dest: string, opts: FetchOptions): Promise<Prepared> {
  const stamp = opts.snapshot ?? (await currentStamp(mount, server));
  if (!stamp || !isStamp(stamp)) throw new NotFoundError(`the drive at ${mount} holds no copy of ${server}`, '`tierback offsite drives` says which drive holds what');
  const snap = snapshotDir(mount, server, stamp);
  const src = path.join(snap, top, ...rest);
  if (!(await exists(src))) throw new NotFoundError(`${src} does not exist on the drive`);
  await assertInside(snap, src);
  // --relative from "<snap>/./": the file lands at <dest>/<vm>/<relpath>/..., as in the tree.
  const argv = ['rsync', '-a', '--numeric-ids', '--relative', '--', `${snap}/./${[top, ...rest].join('/')}`, `${dest}/`];
  const result: FetchResult = { source: src, snapshot: stamp, path: path.join(dest, top, ...rest) };
  return {
    plan: { source: src, snapshot: stamp, path: result.path, commands: [argv], pipeline: false },
    execute: async () => {
      await exec.run({ argv });
      return result;
    },
  };
}
