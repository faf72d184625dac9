/** rclone targets: resolution from the inventory, remote path joining, argv, listing of pushed snapshots. */
import { Transform, type TransformCallback } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import { OFFSITE_MANIFEST } from '../../model/layout.js';
import { OFFSITE_CYCLES, isStamp, type OffsiteCycle } from '../../model/names.js';
import { NotFoundError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { suggest, type Site } from '../../model/inventory/model.js';
import type { Retention } from '../../model/inventory/schema.js';
import { offsiteSettings } from './common.js';

export interface RcloneTarget {
  /** Name used in history (`offsite-<name>`) and on the command line. */
  name: string;
  /** rclone `remote:path`. */
  remote: string;
  config: string | undefined;
  servers: string[] | undefined;
  retention: Retention;
  /** "gfs": `<cycle>/<server>/<stamp>/`; "dated": `<server>/<yyyymmdd>/`, expired after `keepDays`. */
  layout: 'gfs' | 'dated';
  keepDays: number;
}

/** A named target of `offsite.targets`, or a literal rclone `remote:path` (its history name derived from it). */
export function resolveTarget(site: Site, spec: string, opts: { config?: string | undefined } = {}): RcloneTarget {
  const settings = offsiteSettings(site);
  const targets = site.inventory.offsite?.targets ?? [];
  const named = targets.find((t) => t.name === spec);
  if (named) {
    return { name: named.name, remote: named.remote, config: opts.config ?? named.rclone_config ?? settings.rcloneConfig, servers: named.servers ?? settings.servers, retention: named.retention ?? settings.retention, layout: named.layout, keepDays: named.keep_days };
  }
  if (spec.includes(':') || spec.startsWith('/')) {
    const name = spec.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'remote';
    return { name, remote: spec, config: opts.config ?? settings.rcloneConfig, servers: settings.servers, retention: settings.retention, layout: 'gfs', keepDays: 30 };
  }
  throw new NotFoundError(`no offsite target "${spec}" in ${site.file}`, `${suggest(spec, targets.map((t) => t.name), 'targets')}; or give an rclone remote such as "s3:bucket/path"`);
}

/** `remote` + key parts, with exactly one "/" between (rclone remotes may end in ":"). */
export function joinRemote(remote: string, ...parts: string[]): string {
  const rest = parts.filter((p) => p !== '').join('/');
  if (rest === '') return remote;
  return remote.endsWith(':') || remote.endsWith('/') ? `${remote}${rest}` : `${remote}/${rest}`;
}

/** The key prefix inside the bucket, for lifecycle rules: the path after "remote:" without its first segment (the bucket). */
export function bucketPrefix(remote: string): string {
  const i = remote.lastIndexOf(':');
  const p = (i >= 0 ? remote.slice(i + 1) : remote).replace(/^\/+|\/+$/g, '');
  return p.split('/').slice(1).join('/');
}

export function rcloneArgv(config: string | undefined, ...args: string[]): string[] {
  return ['rclone', ...(config ? ['--config', config] : []), ...args];
}

/** Counts bytes and hashes (sha256) what flows through, unchanged. */
export class HashTap extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

export interface RemoteSnapshot {
  /** The GFS cycle ("daily" in the dated layout). */
  cycle: OffsiteCycle;
  server: string;
  /** The snapshot stamp (GFS layout), or the push day yyyymmdd (dated layout). */
  stamp: string;
  /** Key folder relative to the target's remote. */
  key: string;
  objects: string[];
  /** The manifest was written: the push completed. */
  complete: boolean;
}

/** Every pushed snapshot folder of a target (complete or not), oldest first. */
export async function listRemoteSnapshots(exec: Exec, target: RcloneTarget): Promise<RemoteSnapshot[]> {
  const r = await exec.run({ argv: rcloneArgv(target.config, 'lsf', '-R', '--files-only', '--', target.remote), okCodes: [0, 3] });
  const byKey = new Map<string, RemoteSnapshot>();
  for (const line of r.stdout.split('\n')) {
    const parts = line.trim().split('/');
    let cycle: string, server: string, stamp: string, object: string, key: string;
    if (target.layout === 'dated') {
      if (parts.length !== 3) continue;
      [server, stamp, object] = parts as [string, string, string];
      cycle = 'daily';
      if (!/^\d{8}$/.test(stamp)) continue;
      key = `${server}/${stamp}`;
    } else {
      if (parts.length !== 4) continue;
      [cycle, server, stamp, object] = parts as [string, string, string, string];
      if (!(OFFSITE_CYCLES as readonly string[]).includes(cycle) || !isStamp(stamp)) continue;
      key = `${cycle}/${server}/${stamp}`;
    }
    const s = byKey.get(key) ?? { cycle: cycle as OffsiteCycle, server, stamp, key, objects: [], complete: false };
    s.objects.push(object);
    if (object === OFFSITE_MANIFEST) s.complete = true;
    byKey.set(key, s);
  }
  return [...byKey.values()].sort((a, b) => a.stamp.localeCompare(b.stamp) || a.key.localeCompare(b.key));
}
