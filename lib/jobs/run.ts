/**
 * The job runner: runs one app's job type plan into its local-tier folder, safely.
 *   lock (lockPath) -> recover a crashed swap -> history "running" -> plan -> staging folder
 *   (hidden sibling, 0700) -> steps -> carried-over dumps pruned to keepDumps -> verify ->
 *   atomic swap (target -> retired, staging -> target, retired removed) -> history final line.
 * A failed or killed run leaves the previous backup untouched and only hidden `.partial-*`
 * leftovers, removed by the next run. Library code: never prints, never exits.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, opendir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import fg from 'fast-glob';
import { DUMP_DIR, MANIFEST_FILE, lockPath, parseDumpFileName, retiredPath, snapshotStamp, stagingPath, vmAppDir, vmHistoryDir } from '../convention.js';
import { ExitCode, INTERRUPTED_ERROR, LockedError, TierbackError, UsageError, errorText } from '../errors.js';
import { exitCodeFor, type RunStatus } from '../outcome.js';
import { pruneAfterJob } from '../retention/index.js';
import { createExec, type CommandSpec, type Exec } from '../exec.js';
import { DIR_MODE, FILE_MODE } from '../fsutil.js';
import { appendRecord, hostName, newRunId, type HistoryRecord } from '../history.js';
import type { ResolvedApp, Site } from '../inventory/model.js';
import { acquireLock, type Lock } from '../lock.js';
import { writeManifest } from '../manifest.js';
import type { Logger } from '../log.js';
import { checkDump } from '../engines/registry.js';
import { RSYNC_VANISHED, isDir, isPresent } from './common.js';
import { prepareMount, refuseUnsafePaths } from './mountcheck.js';
import { getJobType } from './registry.js';
import type { AnyJobType, JobPlan, Step } from './types.js';
import { processKeys } from '../runstate.js';

/** History keeps error text to 2,000 characters. */
const errorTextCapped = (err: Error): string => errorText(err).slice(0, 2000);

export interface JobOptions {
  log: Logger;
  exec?: Exec;
  dryRun?: boolean;
  now?: () => Date;
  signal?: AbortSignal;
  /** Called with the final history record (monitoring exports). Its failures never fail the job. */
  onFinished?: (record: HistoryRecord) => Promise<void>;
  /** Called with the start record once it is in history (start pings). Its failures never fail the job. */
  onStarted?: (record: HistoryRecord) => Promise<void>;
}

export type JobStatus = 'ok' | 'warning' | 'failed' | 'locked' | 'planned';

export interface JobOutcome {
  app: string;
  status: JobStatus;
  /** The final history record (absent for dry runs and locked runs). */
  record: HistoryRecord | undefined;
  target: string;
  plan: JobPlan | undefined;
  error: Error | undefined;
}

/** The app's backup folder as its job sees it: `<mount>/<relpath>`. */
export function jobTarget(app: ResolvedApp): string {
  return vmAppDir(app.mount, app.relpath);
}

/** Private temp folders of an app's runs (option files with passwords): `tierback-job-<app>-<run>`. */
function secretDirPrefix(app: ResolvedApp): string {
  return `tierback-job-${app.name}-`;
}

/** Removes secret folders left by killed runs of this app (safe: we hold the app's lock). */
async function removeStaleSecretDirs(app: ResolvedApp): Promise<void> {
  const prefix = secretDirPrefix(app);
  for (const n of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    if (n.startsWith(prefix)) await rm(path.join(os.tmpdir(), n), { recursive: true, force: true });
  }
}

/** Builds the plan of one app's job (reads the app's configuration, writes nothing). */
export async function planJob(site: Site, app: ResolvedApp, opts: { now?: () => Date; runId?: string } = {}): Promise<JobPlan> {
  const type = getJobType(app.type);
  const options = parseOptions(type, app);
  const start = (opts.now ?? (() => new Date()))();
  const runId = opts.runId ?? newRunId(start);
  const target = jobTarget(app);
  const staging = stagingPath(target, runId);
  const previous = (await isDir(target)) ? target : undefined;
  const secretDir = path.join(os.tmpdir(), `${secretDirPrefix(app)}${runId}`);
  const parts = await type.plan(app, options, { site, app, runId, stamp: snapshotStamp(start), target, staging, previous, secretDir });
  return {
    app: app.name,
    type: app.type,
    runId,
    sources: parts.sources,
    target,
    staging,
    previous,
    keepsDumps: parts.keepsDumps ?? parts.steps.some((s) => s.kind === 'dump'),
    steps: parts.steps,
    cleanup: parts.cleanup ?? [],
    secretFiles: parts.secretFiles ?? [],
    secretDir,
    facts: parts.facts ?? {},
  };
}

function parseOptions(type: AnyJobType, app: ResolvedApp): unknown {
  const parsed = type.options.safeParse(app.options);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? first.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
    throw new UsageError(`apps[${app.index}].options${where}: ${first?.message ?? 'invalid'}`, `see docs/jobs/${app.type}.md for the options of this type`);
  }
  return parsed.data;
}

/** The plan as printable data: secrets (option file contents, secret environment values) removed. */
export function describePlan(plan: JobPlan): unknown {
  const cmd = (c: CommandSpec) => ({
    argv: c.argv,
    ...(c.cwd ? { cwd: c.cwd } : {}),
    ...(c.env ? { env: c.env } : {}),
    ...(c.secretEnv ? { secretEnv: Object.keys(c.secretEnv) } : {}),
  });
  const step = (s: Step) => {
    switch (s.kind) {
      case 'rsync':
        return { kind: s.kind, title: s.title, source: s.source, dest: s.dest, argv: s.argv, ...(s.filesFrom ? { filesFrom: s.filesFrom } : {}) };
      case 'dump':
        return { kind: s.kind, title: s.title, db: s.db, file: s.file, compress: s.compress, check: s.check, command: cmd(s.command) };
      case 'exec':
        return { kind: s.kind, title: s.title, command: cmd(s.command) };
      case 'custom':
        return s;
    }
  };
  return {
    ...plan,
    steps: plan.steps.map(step),
    cleanup: plan.cleanup.map(step),
    secretFiles: plan.secretFiles.map((f) => ({ path: f.path, content: '[redacted]' })),
  };
}

/** Human text of a plan, for --dry-run. */
export function formatPlan(plan: JobPlan): string {
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines = [`job ${plan.app} (${plan.type})`, `  sources:  ${plan.sources.join(', ')}`, `  target:   ${plan.target}`, `  staging:  ${plan.staging}`];
  lines.push(`  previous: ${plan.previous ?? '(none: first run)'}`);
  if (plan.keepsDumps) lines.push('  dumps:    earlier dumps carried over and pruned to keep_dumps');
  for (const f of plan.secretFiles) lines.push(`  secret file (0600, removed after): ${f.path}`);
  plan.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.title}`);
    if (s.kind === 'rsync') lines.push(`     ${s.argv.map(q).join(' ')}`);
    if (s.kind === 'dump') lines.push(`     ${s.command.argv.map(q).join(' ')}${s.compress ? ' | gzip' : ''} > ${s.file}  (check: ${s.check})`);
    if (s.kind === 'exec') lines.push(`     ${s.command.cwd ? `(cd ${s.command.cwd}) ` : ''}${s.command.argv.map(q).join(' ')}`);
    if (s.kind === 'custom') lines.push(`     ${s.action} ${JSON.stringify(s.args)}`);
  });
  for (const s of plan.cleanup) lines.push(`  finally: ${s.title}`);
  return lines.join('\n');
}

/**
 * Runs one app's job. Job failures do not throw: they are in the outcome and in history. A held
 * lock gives status "locked" (nothing written). Throws only when the job cannot start at all
 * (unknown type, missing backup mount).
 */
export async function runJob(site: Site, app: ResolvedApp, opts: JobOptions): Promise<JobOutcome> {
  const log = opts.log.child({ app: app.name });
  const now = opts.now ?? (() => new Date());
  const target = jobTarget(app);
  if (opts.dryRun) {
    const plan = await planJob(site, app, { now });
    return { app: app.name, status: 'planned', record: undefined, target, plan, error: undefined };
  }
  const exec = opts.exec ?? createExec(log);
  // No symlink (or file) anywhere from the partition (or the VM's mount) down to the app's folder.
  const refused = await refuseUnsafePaths(site, app, target, { now, log, onFinished: opts.onFinished });
  if (refused) return refused;
  await prepareMount(app);

  let lock: Lock;
  try {
    lock = await acquireLock(lockPath(target), `app "${app.name}"`);
  } catch (err) {
    if (err instanceof LockedError) return { app: app.name, status: 'locked', record: undefined, target, plan: undefined, error: err };
    throw err;
  }

  const start = now();
  const runId = newRunId(start);
  const historyDir = vmHistoryDir(app.mount);
  const base: HistoryRecord = { run: runId, name: app.name, kind: 'job', tier: 'local', type: app.type, status: 'running', start, host: hostName(), extra: processKeys() };
  let plan: JobPlan | undefined;
  let record: HistoryRecord;
  let error: Error | undefined;
  try {
    await appendRecord(historyDir, base, site.timezone);
    await opts.onStarted?.(base).catch((err: unknown) => log.warn({ err: (err as Error).message }, 'onStarted hook failed (the job itself is not affected)'));
    await recoverSwap(target, log);
    await removeStaleSecretDirs(app);
    plan = await planJob(site, app, { now: () => start, runId });
    const { warnings, files, bytes } = await executePlan(plan, app, exec, log, opts.signal);
    const end = now();
    record = {
      ...base,
      status: warnings.length ? 'warning' : 'ok',
      end,
      durationS: (end.getTime() - start.getTime()) / 1000,
      files,
      bytes,
      mb: bytes / 1e6,
      ...(warnings.length ? { warning: warnings.join('; ') } : {}),
      ...(Object.keys(plan.facts).length ? { extra: plan.facts } : {}),
    };
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
    const end = now();
    const m = await measure(target).catch(() => ({ files: 0, bytes: 0 }));
    record = {
      ...base,
      status: 'failed',
      end,
      durationS: (end.getTime() - start.getTime()) / 1000,
      files: m.files,
      bytes: m.bytes,
      mb: m.bytes / 1e6,
      error: opts.signal?.aborted ? INTERRUPTED_ERROR : errorTextCapped(error),
    };
    log.warn({ err: error.message }, 'job failed');
  } finally {
    await lock.release();
  }
  try {
    await appendRecord(historyDir, record, site.timezone);
  } catch (err) {
    error ??= err as Error;
    record = { ...record, status: 'failed', error: `cannot write history: ${(err as Error).message}` };
  }
  if (opts.onFinished) {
    try {
      await opts.onFinished(record);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'onFinished hook failed (the job itself is not affected)');
    }
  }
  return { app: app.name, status: record.status as JobStatus, record, target, plan, error };
}

/** Runs the jobs of several apps one after the other; one failing does not stop the others. */
export async function runJobs(site: Site, apps: readonly ResolvedApp[], opts: JobOptions): Promise<JobOutcome[]> {
  const out: JobOutcome[] = [];
  for (const app of apps) {
    if (opts.signal?.aborted) break;
    try {
      const outcome = await runJob(site, app, opts);
      out.push(outcome);
      if (!opts.dryRun && (outcome.status === 'ok' || outcome.status === 'warning')) {
        // GFS pruning of the app's dumps, when the inventory asks for it (defaults.prune.after_job).
        await pruneAfterJob(site, app, { now: (opts.now ?? (() => new Date()))(), log: opts.log, view: 'vm' }).catch((err: unknown) =>
          opts.log.warn({ app: app.name, err: (err as Error).message }, 'prune after the job failed (the backup itself is fine)'),
        );
      }
    } catch (err) {
      out.push({ app: app.name, status: 'failed', record: undefined, target: jobTarget(app), plan: undefined, error: err as Error });
    }
  }
  return out;
}

/** Puts back a backup parked by a run that crashed between the two renames, and removes stale leftovers. */
export async function recoverSwap(target: string, log?: Logger): Promise<void> {
  const dir = path.dirname(target);
  const base = path.basename(target);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const olds = names.filter((n) => n.startsWith(`.${base}.old-`)).sort();
  const partials = names.filter((n) => n.startsWith(`.${base}.partial-`));
  if (!(await isPresent(target)) && olds.length > 0) {
    const newest = olds.pop()!;
    log?.warn({ from: newest }, 'restoring the previous backup parked by an interrupted run');
    await rename(path.join(dir, newest), target);
  }
  for (const n of [...olds, ...partials]) {
    log?.info({ leftover: n }, 'removing leftover of an interrupted run');
    await rm(path.join(dir, n), { recursive: true, force: true });
  }
}

/** Runs a plan and swaps the new backup in; returns the warnings and the new backup's totals (from its manifest walk). */
async function executePlan(plan: JobPlan, app: ResolvedApp, exec: Exec, log: Logger, signal: AbortSignal | undefined): Promise<{ warnings: string[]; files: number; bytes: number }> {
  const type = getJobType(plan.type);
  const options = parseOptions(type, app);
  const warnings: string[] = [];
  const secretDir = plan.secretDir;
  let swapped = false;
  let totals = { files: 0, bytes: 0 };
  try {
    await mkdir(secretDir, { recursive: true, mode: DIR_MODE });
    for (const f of plan.secretFiles) await writeFile(f.path, f.content, { mode: FILE_MODE, flag: 'wx' });
    await mkdir(plan.staging, { mode: DIR_MODE });
    try {
      for (const step of plan.steps) {
        if (signal?.aborted) throw new TierbackError('job interrupted', { exitCode: 130 });
        log.info({ step: step.title }, 'step');
        const w = await runStep(step, plan, type, exec, log, signal);
        if (w) warnings.push(w);
      }
    } finally {
      for (const step of plan.cleanup) {
        try {
          await runStep(step, plan, type, exec, log, undefined);
        } catch (err) {
          warnings.push(`cleanup "${step.title}" failed: ${(err as Error).message}`);
        }
      }
    }
    if (plan.keepsDumps) await carryDumps(plan, app.keepDumps);
    // Restore: the manifest drills check restored copies against.
    // Its walk also gives the totals history records and the change list pulls use: no second walk.
    const manifest = await writeManifest(plan.staging, exec, plan.previous, plan.runId, { changeList: true });
    totals = { files: manifest.files, bytes: manifest.bytes };
    const problems = await type.verify(plan.staging, options, { exec, log, signal });
    if (problems.length) {
      throw new TierbackError(`verification of the new backup failed: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
        hint: 'the previous backup is untouched; see the problem named and run the job again',
      });
    }
    await swapIn(plan);
    swapped = true;
  } finally {
    if (!swapped) await rm(plan.staging, { recursive: true, force: true }).catch(() => undefined);
    await rm(secretDir, { recursive: true, force: true }).catch(() => undefined);
  }
  return { warnings, ...totals };
}

async function runStep(step: Step, plan: JobPlan, type: AnyJobType, exec: Exec, log: Logger, signal: AbortSignal | undefined): Promise<string | undefined> {
  switch (step.kind) {
    case 'rsync': {
      await mkdir(step.dest, { recursive: true, mode: DIR_MODE });
      if (step.filesFrom) await writeFileList(step.filesFrom);
      for (let attempt = 0; ; attempt++) {
        const r = await exec.run({ argv: step.argv, warnCodes: [RSYNC_VANISHED] }, signal);
        if (r.exitCode !== RSYNC_VANISHED) return undefined;
        if (attempt >= (step.retryOnVanished ?? 0)) return `${step.title}: some files vanished during the copy (rsync code 24)`;
        log.info({ step: step.title }, 'files vanished during the copy; copying again');
      }
    }
    case 'dump': {
      await mkdir(path.dirname(step.file), { recursive: true, mode: DIR_MODE });
      await exec.runToFile(step.command, step.file, step.compress ? [createGzip()] : [], signal);
      const problem = await checkDump(step.file, step.check, exec, signal);
      if (problem) throw new TierbackError(`dump of ${step.db} is incomplete: ${problem}`, { hint: 'the previous dumps are untouched; check the database server and run the job again' });
      return undefined;
    }
    case 'exec':
      await exec.run(step.command, signal);
      return undefined;
    case 'custom': {
      if (!type.runCustom) throw new TierbackError(`job type ${type.name} has a custom step "${step.action}" but no runCustom`);
      const r = await type.runCustom(step, { exec, log, signal, plan });
      return r && r.warning ? r.warning : undefined;
    }
  }
}

async function writeFileList(f: { cwd: string; include: string[]; exclude: string[]; list: string }): Promise<void> {
  const out = createWriteStream(f.list, { mode: FILE_MODE, flags: 'wx' });
  const stream = fg.stream(f.include.length ? f.include : ['**'], { cwd: f.cwd, ignore: f.exclude, dot: true, onlyFiles: true, followSymbolicLinks: false, unique: true });
  for await (const entry of stream) {
    const name = String(entry);
    if (name.includes('\n')) continue; // rsync --files-from is newline separated
    if (!out.write(`${name}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Hard-links the previous backup's dumps into staging/db and prunes each database to the newest `keep`. */
async function carryDumps(plan: JobPlan, keep: number): Promise<void> {
  const dbDir = path.join(plan.staging, DUMP_DIR);
  if (plan.previous) {
    let names: string[] = [];
    try {
      names = await readdir(path.join(plan.previous, DUMP_DIR));
    } catch {
      names = [];
    }
    for (const n of names) {
      if (!parseDumpFileName(n)) continue;
      await mkdir(dbDir, { recursive: true, mode: DIR_MODE });
      await link(path.join(plan.previous, DUMP_DIR, n), path.join(dbDir, n)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
  }
  await pruneDumps(dbDir, keep);
}

/** Keeps the newest `keep` (at least 1) dumps of each database in `dbDir`; returns the removed names. */
export async function pruneDumps(dbDir: string, keep: number): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dbDir);
  } catch {
    return [];
  }
  const byDb = new Map<string, { name: string; at: number }[]>();
  for (const n of names) {
    const p = parseDumpFileName(n);
    if (!p) continue;
    const list = byDb.get(p.db) ?? [];
    list.push({ name: n, at: p.at.getTime() });
    byDb.set(p.db, list);
  }
  const removed: string[] = [];
  for (const list of byDb.values()) {
    list.sort((a, b) => b.at - a.at || b.name.localeCompare(a.name));
    for (const old of list.slice(Math.max(1, keep))) {
      await rm(path.join(dbDir, old.name), { force: true });
      removed.push(old.name);
    }
  }
  return removed;
}

/** target -> retired, staging -> target, retired removed. A crash in between is undone by recoverSwap. */
async function swapIn(plan: JobPlan): Promise<void> {
  const retired = retiredPath(plan.target, plan.runId);
  const hadTarget = await isPresent(plan.target);
  if (hadTarget) await rename(plan.target, retired);
  try {
    await rename(plan.staging, plan.target);
  } catch (err) {
    if (hadTarget) await rename(retired, plan.target);
    throw err;
  }
  if (hadTarget) await rm(retired, { recursive: true, force: true });
}

/** Files and bytes of a backup folder, walked without holding the tree in memory. */
export async function measure(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  async function walk(d: string): Promise<void> {
    let h;
    try {
      h = await opendir(d);
    } catch {
      return;
    }
    for await (const e of h) {
      const p = path.join(d, e.name);
      if (d === dir && e.name === MANIFEST_FILE) continue; // tierback's own file, not backed-up data
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        files++;
        try {
          bytes += (await lstat(p)).size;
        } catch {
          /* vanished */
        }
      } else files++;
    }
  }
  await walk(dir);
  return { files, bytes };
}

/** The exit code for a set of outcomes (lib/outcome.ts); a job refused for safety counts as refused, a dry run as ok. */
export function exitCodeOf(outcomes: readonly JobOutcome[]): number {
  return exitCodeFor(outcomes.map((o): RunStatus => (o.status === 'planned' ? 'ok' : o.status === 'failed' && o.error instanceof TierbackError && o.error.exitCode === ExitCode.REFUSED ? 'refused' : o.status)));
}

