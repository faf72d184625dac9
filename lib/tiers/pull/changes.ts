/**
 * Pulls that cost what changed (docs/remote.md#change-lists). With a copy-on-write snapshot engine
 * (btrfs: the new snapshot starts as the previous one), a pull:
 * 1. fetches every app's change list (`<vm>/<relpath>/.tierback-files.gz`, lib/model/changelist.ts) from
 *    its known path, one rsync `--files-from` through the same restricted key: no walk of the tree;
 * 2. copies everything that is not an app folder with a trusted list (history files, folders written
 *    by hand, apps without a list) with one ordinary rsync that hides and protects those app folders;
 * 3. for each app with a trusted list, merges the list in the snapshot with the new one (streaming,
 *    memory flat), deletes what went, and copies what changed (`rsync --files-from --inplace`).
 * A list that is missing, unreadable, cut short, out of order or written by another run than the
 * app's manifest names makes that folder part of step 2 (a full rsync of it).
 * A full pull (`pull --full`, or when the last one is older than `full_pull_every`) walks everything
 * and then compares each app's list with what it copied: any entry the list missed is recorded
 * (history `list_missed=`, a warning): a job wrote behind its own list, a bug to report.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHANGE_LIST_FILE, MANIFEST_FILE, fullPullMarkerPath } from '../../model/convention.js';
import { ChangeListError, listRun, readList, readListLines, walkSorted, type ListTotals } from '../../model/changelist.js';
import { diffListFiles, diffLists } from '../../model/changelist-diff.js';
import type { Exec } from '../../base/exec.js';
import { exists, writeFileAtomic } from '../../base/fsutil.js';
import type { Logger } from '../../base/log.js';
import { fetchArgv, plainPath, type AppFolder } from './consistency.js';
import { RSYNC_VANISHED, rshString, rsyncArgv, type RsyncPlan, type RsyncStats } from './rsync.js';
import { BATCH_FIRST, BATCH_MAX, Batches, FedRsync, FilesFrom, passOf, type Pass } from './parts.js';

export interface ChangeMode {
  /** Copy only what the lists say changed. */
  useLists: boolean;
  /** Walk everything, then record what the lists missed. */
  check: boolean;
  /** Walks everything and counts as the full pull the period starts from (`check`, or a first snapshot: nothing came by lists yet). */
  full: boolean;
  why: string;
}

/**
 * Whether this pull uses the lists, walks everything and checks them, or neither (hardlink engine,
 * lists off). `first`: the server has no snapshot yet. Its pull walks everything (there is nothing to
 * start from) without checking the lists: no snapshot was ever made from them, so they cannot have
 * missed anything yet; it counts as the full pull the period (`full_pull_every`) starts from.
 */
export async function changeMode(o: { engine: { name: string }; inPlace: boolean; resumed: boolean; first: boolean; full?: boolean | undefined; changeLists?: boolean | undefined; partition: string; server: string; everyMs: number; now: Date }): Promise<ChangeMode> {
  const walk = (why: string): ChangeMode => ({ useLists: false, check: true, full: true, why });
  if (o.changeLists === false) return { useLists: false, check: false, full: false, why: 'change lists off' };
  if (o.engine.name !== 'btrfs') return { useLists: false, check: false, full: false, why: `the ${o.engine.name} engine walks every folder anyway` };
  if (o.full) return walk('full pull asked for');
  if (o.first) return { useLists: false, check: false, full: true, why: 'first snapshot (copied in full; lists not checked: none was used yet)' };
  if (!o.inPlace) return walk('no copy-on-write snapshot to start from');
  if (o.resumed) return walk('resuming an interrupted pull');
  const last = await readFile(fullPullMarkerPath(o.partition, o.server), 'utf8').then((t) => new Date(t.trim())).catch(() => undefined);
  if (!last || Number.isNaN(last.getTime())) return walk('no full pull yet');
  if (o.now.getTime() - last.getTime() >= o.everyMs) return walk(`last full pull ${last.toISOString()}`);
  return { useLists: true, check: false, full: false, why: 'change lists' };
}

/** Notes the time of a successful full pull (the periodic full pull counts from it). */
export async function recordFullPull(partition: string, server: string, at: Date): Promise<void> {
  await writeFileAtomic(fullPullMarkerPath(partition, server), `${at.toISOString()}\n`);
}

/** Fetches the apps' lists into a private temp folder (missing ones skipped). Throws when rsync fails. */
export async function fetchLists(exec: Exec, plan: RsyncPlan, apps: readonly AppFolder[], signal?: AbortSignal): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-lists-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const list = path.join(dir, 'files-from');
    await writeFile(list, apps.map((a) => `${a.rel}/${CHANGE_LIST_FILE}\n`).join(''), { mode: 0o600 });
    const argv = ['rsync', '-a', '--numeric-ids', `--files-from=${list}`, '--ignore-missing-args'];
    if (plan.ioTimeoutS && plan.ioTimeoutS > 0) argv.push(`--timeout=${Math.ceil(plan.ioTimeoutS)}`);
    if (plan.rsh) argv.push('-e', rshString(plan.rsh));
    argv.push('--', plan.source, `${dir}/l/`);
    if (apps.length) await exec.run({ argv, env: { LC_ALL: 'C' }, okCodes: [0, RSYNC_VANISHED] }, signal);
    return { dir: path.join(dir, 'l'), cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The fetched list of `a`, when it is a plain file written by the run its manifest names (`marker`: "run <id>"). */
async function trustedList(lists: string, a: AppFolder, marker: string | undefined): Promise<string | undefined> {
  if (!(await plainPath(lists, a.rel))) return undefined;
  const file = path.join(lists, a.rel, CHANGE_LIST_FILE);
  const run = await listRun(file);
  return run && marker === `run ${run}` ? file : undefined;
}

function runPass(exec: Exec, argv: string[], log: Logger, signal?: AbortSignal): Promise<Pass> {
  log.debug({ argv }, 'rsync (change lists)');
  return passOf(exec.run({ argv, env: { LC_ALL: 'C' }, okCodes: [0, RSYNC_VANISHED] }, signal));
}

/** Deletes `rel` in `root` (never through a symbolic link of the snapshot). */
async function remove(root: string, rel: string): Promise<void> {
  const parent = path.posix.dirname(rel);
  if (parent !== '.' && !(await plainPath(root, parent))) return;
  await rm(path.join(root, rel), { recursive: true, force: true });
}

/**
 * The ordinary rsync of step 2: the pull's argv, with one rule per listed app (`- /<rel>/` in `filter`:
 * not sent, and kept in the snapshot). Without `--delete-excluded` an exclude protects on the receiving
 * side too, so the jobs' working files are sender-side excludes (`-s`): still deleted from the snapshot.
 */
export function restArgv(plan: RsyncPlan, filter: string): string[] {
  const argv = rsyncArgv({ ...plan, progress: false }).filter((a) => a !== '--delete-excluded');
  for (const [i, a] of argv.entries()) if (a.startsWith('--exclude=') && i < argv.indexOf('--')) argv[i] = `--filter=-s ${a.slice('--exclude='.length)}`;
  argv.splice(argv.indexOf('--'), 0, NS_TIMES, `--filter=merge ${filter}`);
  return argv;
}

/**
 * rsync compares times to the second by default: a folder the pull wrote into within the same second
 * as the source's change kept the pull's time. With nanoseconds compared, its time is set right.
 */
const NS_TIMES = '--modify-window=-1';

/** The rsync of the changed files named in `from` (step 3): in place, whole files or by delta. */
export function listedArgv(plan: RsyncPlan, from: string, wholeFile: boolean): string[] {
  const a = ['rsync', '-a', '--numeric-ids', '--inplace', '-H', '--stats', NS_TIMES, `--files-from=${from}`];
  if (wholeFile) a.push('-W');
  if (plan.ioTimeoutS && plan.ioTimeoutS > 0) a.push(`--timeout=${Math.ceil(plan.ioTimeoutS)}`);
  if (plan.bwlimit) a.push(`--bwlimit=${plan.bwlimit}`);
  if (plan.rsh) a.push('-e', rshString(plan.rsh));
  return [...a, '--', plan.source, `${plan.dest}/`];
}

/** Stands for the private temp folder of a pull by lists in the commands --dry-run prints. */
export const LISTS_TEMP = '<temp>';

/** The rsyncs of a pull by lists, as --dry-run prints them (`<temp>`: the private temp folder a real pull makes). */
export function listsCommands(plan: RsyncPlan): { title: string; argv: string[] }[] {
  const t = (n: string) => `${LISTS_TEMP}/${n}`;
  return [
    { title: "fetch every app's manifest and change list (no walk of the tree)", argv: fetchArgv(plan, t('list'), t('m')) },
    { title: 'copy the folders without a trusted list (listed apps excluded and kept), while the lists are compared', argv: restArgv(plan, t('filter')) },
    { title: `copy the changed files under ${WHOLE_FILE_BELOW} bytes whole (in batches of ${BATCH_FIRST} names, doubling up to ${BATCH_MAX}, each rsync fed its names on stdin as the lists' comparison finds them and copying once its batch is full; up to one rsync per stream at the same time)`, argv: listedArgv(plan, '-', true) },
    { title: 'copy the larger changed files by delta, at the same time (when there are any)', argv: listedArgv(plan, t('files-from-large'), false) },
  ];
}

/** Changed files of at least this size are copied by rsync's delta algorithm, smaller ones whole (-W). */
export const WHOLE_FILE_BELOW = 1 << 20;

export interface ListedTransfer extends Pass {
  /** Apps copied from their lists; apps copied in full (no trusted list). */
  listed: string[];
  full: string[];
}

/**
 * Steps 2 and 3 above, into `plan.dest` (a writable copy-on-write snapshot of the previous one, which
 * holds each app's previous list). `before` are the apps' markers read before the copy. `parts`: how
 * many rsyncs copy the small changed files at the same time (the pull's streams).
 */
export async function transferWithLists(exec: Exec, plan: RsyncPlan, apps: readonly AppFolder[], before: Map<string, string>, log: Logger, signal?: AbortSignal, lists?: string, parts = 1): Promise<ListedTransfer> {
  // The lists fetched with the markers (`lists`, the caller removes it), else fetched now.
  const fetched = lists ? { dir: lists, cleanup: async () => undefined } : await fetchLists(exec, plan, apps, signal);
  const work = await mkdtemp(path.join(os.tmpdir(), 'tierback-lists-'));
  const running: Promise<Pass>[] = [];
  /** A pass started now and awaited later: kept for the final wait, its rejection handled there. */
  const track = (p: Promise<Pass>): Promise<Pass> => {
    p.catch(() => undefined);
    running.push(p);
    return p;
  };
  try {
    const listed: { a: AppFolder; file: string; old: string }[] = [];
    const full: string[] = [];
    for (const a of apps) {
      const file = await trustedList(fetched.dir, a, before.get(a.rel));
      const old = path.join(plan.dest, a.rel, CHANGE_LIST_FILE);
      if (file && (await plainPath(plan.dest, a.rel)) && (await exists(old))) listed.push({ a, file, old });
      else full.push(a.app);
    }
    // 2. Everything else, with the listed app folders hidden at the source and protected here.
    const filter = path.join(work, 'filter');
    await writeFile(filter, listed.map(({ a }) => `- /${a.rel}/\n`).join(''), { mode: 0o600 });
    // It runs while the lists are compared and the changed files copied (other folders: they never meet).
    const restPass = track(runPass(exec, restArgv(plan, filter), log, signal));
    const total: RsyncStats = { entries: 0, files: 0, dirs: 0, transferredFiles: 0, deletedFiles: 0, totalBytes: 0, transferredBytes: 0, receivedBytes: 0, sentBytes: 0 };
    const done: string[] = [];
    // 3. Each listed app: what changed, from the two lists; then the rsyncs of all of it (the same for any number of apps):
    // files under WHOLE_FILE_BELOW bytes whole (-W: the receiver does not read the old copy for checksums),
    // larger ones by rsync's delta (--inplace then rewrites only the blocks that changed: the rest stay shared).
    // The small files' rsyncs start with their batch's first name and copy while the comparison goes on.
    const small = new Batches(parts, () => {
      const f = new FedRsync(exec, listedArgv(plan, '-', true), log, signal);
      track(f.pass);
      return f;
    });
    const large = new FilesFrom(path.join(work, 'files-from-large'));
    const whole: AppFolder[] = [];
    const doneRels: string[] = [];
    for (const { a, file, old } of listed) {
      if (signal?.aborted) break;
      const dest = path.join(plan.dest, a.rel);
      const totals: ListTotals = { run: undefined, entries: 0, files: 0, bytes: 0 };
      try {
        for await (const ds of diffListFiles(readListLines(old), readListLines(file, totals))) {
          for (const d of ds) {
            if (d.deleted || d.retyped) await remove(dest, (d.deleted ?? d.changed)!.rel);
            if (d.changed) {
              const rel = `${a.rel}/${d.changed.rel}`;
              if (d.changed.type === 'f' && d.changed.size >= WHOLE_FILE_BELOW) await large.add(rel);
              else await small.add(rel);
            }
          }
        }
      } catch (err) {
        if (!(err instanceof ChangeListError)) throw err;
        log.warn({ app: a.app, err: err.message }, 'change list not usable: copying the folder in full');
        whole.push(a);
        continue;
      }
      // The manifest and the list always come too, named only now: an rsync may start copying as soon as
      // its batch is full, and the list in the snapshot (read just above) is written over in place.
      await small.add(`${a.rel}/${MANIFEST_FILE}`);
      await small.add(`${a.rel}/${CHANGE_LIST_FILE}`);
      // The snapshot's figures: what the list says the folder holds, plus the folder, its manifest and list (added below).
      total.files += totals.files + 2;
      total.totalBytes += totals.bytes;
      total.dirs += (totals.dirs ?? 0) + 1;
      total.entries += totals.entries + 3;
      done.push(a.app);
      doneRels.push(a.rel);
    }
    await small.close();
    await large.close();
    log.debug({ apps: done.length, small: small.count, rsyncs: small.passes.length, large: large.count }, 'change lists compared');
    if (signal?.aborted) {
      await Promise.allSettled(running);
      return { code: undefined, stderr: '', stats: undefined, listed: done, full };
    }
    // The large files' rsync starts now, while the rest pass and the small files' rsyncs may still run
    // (a file is in one of them only; hard links between them are copied as files).
    const listedPasses = [...small.passes, ...(large.count ? [track(runPass(exec, listedArgv(plan, large.file, false), log, signal))] : [])];
    const first = await restPass;
    if ((first.code !== 0 && first.code !== RSYNC_VANISHED) || !first.stats) {
      await Promise.allSettled(running);
      return { ...first, listed: [], full };
    }
    for (const k of Object.keys(total) as (keyof RsyncStats)[]) total[k] += first.stats[k];
    let vanished = first.code === RSYNC_VANISHED;
    const passes: (() => Promise<Pass>)[] = listedPasses.map((p) => () => p);
    for (const a of whole) passes.push(() => runPass(exec, rsyncArgv({ ...plan, source: `${plan.source}${a.rel}/`, dest: path.join(plan.dest, a.rel), progress: false }), log, signal));
    for (const [i, run] of passes.entries()) {
      const pass = await run();
      if ((pass.code !== 0 && pass.code !== RSYNC_VANISHED) || !pass.stats) {
        await Promise.allSettled(running);
        return { ...pass, listed: done, full };
      }
      vanished ||= pass.code === RSYNC_VANISHED;
      for (const k of ['transferredFiles', 'deletedFiles', 'transferredBytes', 'receivedBytes', 'sentBytes'] as const) total[k] += pass.stats[k];
      if (i >= listedPasses.length) {
        for (const k of ['files', 'totalBytes', 'dirs', 'entries'] as const) total[k] += pass.stats[k];
        full.push(whole[i - listedPasses.length]!.app);
      }
    }
    for (const rel of doneRels) {
      for (const n of [MANIFEST_FILE, CHANGE_LIST_FILE]) total.totalBytes += await stat(path.join(plan.dest, rel, n)).then((s) => s.size).catch(() => 0);
    }
    return { code: vanished ? RSYNC_VANISHED : 0, stderr: '', stats: total, listed: done, full };
  } finally {
    // Never leave an rsync writing into the snapshot (a thrown error above): wait for every pass.
    await Promise.allSettled(running);
    await fetched.cleanup();
    await rm(work, { recursive: true, force: true });
  }
}

export interface Missed {
  count: number;
  /** `<app>: <path> (<what>)`, the first few. */
  sample: string[];
}

/**
 * After a full pull: compares each app's list (fetched now, written by the run the copy's manifest
 * names) with what was copied. An entry the copy has and the list does not, or with other facts, was
 * written behind the job's list. `skip`: apps copied again or kept (their copy is another version).
 */
export async function checkLists(exec: Exec, plan: RsyncPlan, apps: readonly AppFolder[], before: Map<string, string>, skip: readonly string[], signal?: AbortSignal): Promise<Missed> {
  const fetched = await fetchLists(exec, plan, apps, signal);
  const missed: Missed = { count: 0, sample: [] };
  try {
    for (const a of apps) {
      if (skip.includes(a.app) || !(await plainPath(plan.dest, a.rel))) continue;
      const file = await trustedList(fetched.dir, a, before.get(a.rel));
      if (!file) continue;
      try {
        for await (const d of diffLists(readList(file), walkSorted(path.join(plan.dest, a.rel)))) {
          // A folder listed and there with its type and mode is no miss: its mtime moves whenever an
          // entry in it is written, and what the lists missed shows up as those entries themselves.
          if (d.before?.type === 'd' && d.changed?.type === 'd' && d.before.mode === d.changed.mode) continue;
          missed.count++;
          if (missed.sample.length < 10) missed.sample.push(`${a.app}: ${(d.changed ?? d.deleted)!.rel} (${d.deleted ? 'listed, not there' : d.retyped ? 'another type' : 'not listed or other facts'})`);
        }
      } catch (err) {
        if (!(err instanceof ChangeListError)) throw err;
      }
    }
  } finally {
    await fetched.cleanup();
  }
  return missed;
}
