/**
 * Object storage through rclone: for each server, the current snapshot of its remote tier becomes one
 * stream per top-level folder (VM): `tar | gzip | age -r ... | rclone rcat`, never held in memory and
 * encrypted before it leaves the host, under `<cycle>/<server>/<stamp>/` so the provider's lifecycle
 * rules expire each GFS cycle. Sizes are checked with `rclone lsjson`, then the manifest (sizes and
 * sha256 of every object) is written last: a push without a manifest never looks complete.
 */
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { OFFSITE_MANIFEST, offsiteSnapshotKey, serverHistoryDir, snapshotDir } from '../../model/layout.js';
import { offsiteArchiveName, offsiteHistoryName, type OffsiteCycle } from '../../model/names.js';
import { recordRun, type RunEnd } from '../../model/run-record.js';
import { INTERRUPTED_ERROR, TierbackError, UsageError } from '../../base/errors.js';
import { createExec, runPipeline, type Exec, type PipelineStage } from '../../base/exec.js';
import { newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { currentStamp } from '../snapshots/snapshots.js';
import { classifyCycle, enabledCycles, s3Lifecycle, unsupportedForLifecycle, type S3Lifecycle } from './cycle.js';
import { datedKey, pruneDated } from './dated.js';
import { ageEncryptArgv, errorText, lockTarget, offsiteSettings, previousRuns, selectOffsiteServers } from './common.js';
import { HashTap, bucketPrefix, joinRemote, rcloneArgv, resolveTarget, type RcloneTarget } from './rclone.js';
import { processKeys } from '../../model/runstate.js';

export interface PushOptions {
  log: Logger;
  exec?: Exec;
  servers?: string[];
  now?: () => Date;
  signal?: AbortSignal;
  /** Push even when the target already holds the current snapshot. */
  force?: boolean;
  /** Push without encryption (refused unless asked for). */
  unencrypted?: boolean;
  /** File the copy under this cycle instead of the computed one. */
  cycle?: OffsiteCycle;
}

export interface ManifestArchive {
  top: string;
  object: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: 'tierback-offsite-1';
  server: string;
  snapshot: string;
  cycle: OffsiteCycle;
  pushed: string;
  /** "age" or "none". The identities are never stored here. */
  encryption: 'age' | 'none';
  recipients: number;
  compression: 'gzip';
  archives: ManifestArchive[];
  /** The target's layout (absent in copies made before layouts existed: "gfs"). */
  layout?: 'gfs' | 'dated';
}

export interface PushOutcome {
  server: string;
  status: 'ok' | 'failed';
  snapshot?: string | undefined;
  cycle?: OffsiteCycle | undefined;
  key?: string | undefined;
  unchanged?: boolean | undefined;
  bytes?: number | undefined;
  archives?: number | undefined;
  error?: string | undefined;
  /** Dated layout: the day folders removed by age after this push. */
  pruned?: string[] | undefined;
}

export async function pushToRemote(site: Site, backupServer: ResolvedBackupServer, target: RcloneTarget, opts: PushOptions): Promise<PushOutcome[]> {
  const settings = offsiteSettings(site);
  const exec = opts.exec ?? createExec(opts.log);
  const now = opts.now ?? (() => new Date());
  const partition = backupServer.partition;
  const servers = selectOffsiteServers(site, backupServer, opts.servers, target.servers);
  const encrypt = !opts.unencrypted;
  const ageArgv = encrypt ? ageEncryptArgv(settings.recipients) : undefined;
  const lock = await lockTarget(partition, target.name);
  const outcomes: PushOutcome[] = [];
  try {
    for (const server of servers) {
      const start = now();
      const t0 = Date.now();
      const base: HistoryRecord = { run: newRunId(start), name: offsiteHistoryName(target.name), kind: 'offsite', tier: 'offsite', status: 'running', start, host: backupServer.server, type: 'rclone', extra: { server, remote: target.remote, ...processKeys() } };
      const r = await recordRun(
        { base, historyDir: serverHistoryDir(partition), timezone: site.timezone, record: !exec.dryRun, log: opts.log, what: 'offsite push', signal: opts.signal, end: () => new Date(start.getTime() + (Date.now() - t0)) },
        async (): Promise<RunEnd<PushOutcome>> => {
          let o: PushOutcome;
          try {
            o = await pushServer({ site, exec, partition, target, server, start, ageArgv, opts });
          } catch (err) {
            o = { server, status: 'failed', error: errorText(err) };
          }
          if (opts.signal?.aborted && o.status === 'failed') o = { ...o, error: INTERRUPTED_ERROR };
          const fields = {
            ...(o.bytes !== undefined ? { bytes: o.bytes, mb: o.bytes / 1e6, transferredMb: o.unchanged ? 0 : o.bytes / 1e6 } : {}),
            ...(o.error ? { error: o.error } : {}),
            extra: { ...base.extra, ...(o.snapshot ? { snapshot: o.snapshot } : {}), ...(o.cycle ? { cycle: o.cycle } : {}), ...(o.key ? { key: o.key } : {}), ...(o.unchanged ? { unchanged: '1' } : {}), ...(o.pruned ? { pruned: o.pruned.join(',') } : {}) },
          };
          return { status: o.status, fields, value: o };
        },
      );
      const o: PushOutcome = r.value && r.status === r.value.status ? r.value : { ...(r.value ?? {}), server, status: 'failed', error: r.record?.error };
      outcomes.push(o);
      if (opts.signal?.aborted) break;
    }
  } finally {
    await lock.release();
  }
  return outcomes;
}

interface ServerPush {
  site: Site;
  exec: Exec;
  partition: string;
  target: RcloneTarget;
  server: string;
  start: Date;
  ageArgv: string[] | undefined;
  opts: PushOptions;
}

async function pushServer(p: ServerPush): Promise<PushOutcome> {
  const { exec, partition, target, server, start, opts } = p;
  const stamp = await currentStamp(partition, server);
  if (!stamp) return { server, status: 'failed', error: `${server} has no complete snapshot on this backup server yet (run \`tierback pull ${server}\`)` };
  const previous = (await previousRuns(partition, target.name, server)).filter((r) => r.extra?.['unchanged'] !== '1');
  const last = previous.at(-1);
  if (!opts.force && last?.extra?.['snapshot'] === stamp) {
    return { server, status: 'ok', snapshot: stamp, cycle: last.extra?.['cycle'] as OffsiteCycle | undefined, key: last.extra?.['key'], unchanged: true };
  }
  const dated = target.layout === 'dated';
  const cycle = dated ? 'daily' : (opts.cycle ?? classifyCycle(start, previous.map((r) => r.start), { timeZone: p.site.timezone, enabled: enabledCycles(target.retention) }));
  const key = dated ? datedKey(server, start, p.site.timezone) : offsiteSnapshotKey(cycle, server, stamp);
  const snap = snapshotDir(partition, server, stamp);
  const tops = (await readdir(snap)).sort();
  const archives: ManifestArchive[] = [];
  for (const top of tops) {
    const object = offsiteArchiveName(top, p.ageArgv !== undefined);
    const tap = new HashTap();
    const stages: PipelineStage[] = [
      { argv: ['tar', '--create', '--file=-', '--directory', snap, '--numeric-owner', '--sort=name', '--', top] },
      createGzip({ level: 6 }),
      ...(p.ageArgv ? [{ argv: p.ageArgv }] : []),
      tap,
      { argv: rcloneArgv(target.config, 'rcat', '--', joinRemote(target.remote, key, object)) },
    ];
    opts.log.info({ server, top, key }, 'push');
    await runPipeline(exec, opts.log, stages, opts.signal ? { signal: opts.signal } : {});
    archives.push({ top, object, bytes: tap.bytes, sha256: tap.digest() });
  }
  if (exec.dryRun) return { server, status: 'ok', snapshot: stamp, cycle, key, archives: archives.length };
  // What arrived must be what was sent, before the manifest says the copy is complete.
  const listed = await exec.run({ argv: rcloneArgv(target.config, 'lsjson', '--files-only', '--', joinRemote(target.remote, key)) });
  const sizes = new Map((JSON.parse(listed.stdout) as { Name: string; Size: number }[]).map((x) => [x.Name, x.Size]));
  for (const a of archives) {
    const got = sizes.get(a.object);
    if (got !== a.bytes) throw new TierbackError(`${joinRemote(target.remote, key, a.object)} holds ${got ?? 'nothing'} bytes, ${a.bytes} were sent; the copy is incomplete (no manifest written)`);
  }
  const manifest: Manifest = {
    format: 'tierback-offsite-1',
    server,
    snapshot: stamp,
    cycle,
    pushed: start.toISOString(),
    encryption: p.ageArgv ? 'age' : 'none',
    recipients: p.ageArgv ? p.ageArgv.filter((a) => a === '--recipient').length : 0,
    compression: 'gzip',
    archives,
    layout: target.layout,
  };
  await runPipeline(exec, opts.log, [{ argv: rcloneArgv(target.config, 'rcat', '--', joinRemote(target.remote, key, OFFSITE_MANIFEST)) }], { input: Readable.from([`${JSON.stringify(manifest, null, 2)}\n`]) });
  const bytes = archives.reduce((n, a) => n + a.bytes, 0);
  // Dated layout: retention by age, once the new copy is complete.
  const pruned = dated ? await pruneDated(exec, target, server, start, p.site.timezone) : [];
  return { server, status: 'ok', snapshot: stamp, cycle, key, bytes, archives: archives.length, ...(pruned.length ? { pruned } : {}) };
}

/** The S3 lifecycle configuration matching a target's retention and key prefix, with notes on what it cannot express. */
export function targetLifecycle(site: Site, spec: string, opts: { prefix?: string; transitionDays?: number; storageClass?: string } = {}): { target: RcloneTarget; prefix: string; lifecycle: S3Lifecycle; notes: string[] } {
  const target = resolveTarget(site, spec);
  if (target.layout === 'dated') throw new UsageError(`offsite target "${target.name}" uses the dated layout: tierback removes its copies older than keep_days (${target.keepDays}) itself after each push; it needs no lifecycle rules`, 'see docs/offsite.md#dated-layout');
  const prefix = opts.prefix ?? bucketPrefix(target.remote);
  const lifecycle = s3Lifecycle(target.retention, { prefix, ...(opts.transitionDays !== undefined ? { transitionDays: opts.transitionDays } : {}), ...(opts.storageClass ? { storageClass: opts.storageClass } : {}) });
  const notes = unsupportedForLifecycle(target.retention).map((k) => `retention key "${k}" cannot be expressed as an age-based lifecycle rule and is ignored`);
  return { target, prefix, lifecycle, notes };
}
