/**
 * A pull as data: what `tierback pull` will write, replace and run for one server, built before
 * anything is written. The real pull executes this plan (lib/tiers/pull/pull.ts); `--dry-run` prints it.
 * Reads only: the snapshot folder's listing and the current link; never contacts the server.
 */
import path from 'node:path';
import { historyFilePath, localRoot, lockPath, partialSnapshotDir, remoteServerDir, serverHistoryDir, snapshotDir, snapshotsDir } from '../../model/layout.js';
import { pullHistoryName } from '../../model/names.js';
import { dayOf } from '../../model/history.js';
import { findServer, type ResolvedBackupServer, type ResolvedPull, type Site } from '../../model/inventory/model.js';
import { rsyncArgv, type RsyncPlan } from './rsync.js';
import { prepareKnownHosts, remoteSource, sshArgv, sshTarget, DEFAULT_CONNECT_TIMEOUT_S } from './ssh.js';
import { freeStamp, readSnapshotState, type SnapshotState } from '../snapshots/snapshots.js';
import { selectPulls } from './select.js';
import { pruneSettings } from '../retention/settings.js';
import { budgetSettings, demandsOf, lastPullFacts, streamsAtStart } from './budget.js';
import { engineFor } from '../snapshots/engines/registry.js';
import { writesInPlace } from '../snapshots/engines/prepare.js';
import { LISTS_TEMP, changeMode, listsCommands } from './changes.js';

interface BudgetOptions {
  transfers?: number | undefined;
  concurrency?: number | undefined;
}

/** rsync processes per server pull, chosen by measurement (bench/pull-results-100000.txt). */
export const DEFAULT_PULL_STREAMS = 8;

/** Stands for each top-level folder of the source in the per-folder command of a split pull. */
export const FOLDER_PLACEHOLDER = '<folder>';

export interface PlannedCommand {
  title: string;
  argv: string[];
}

export interface PullPlan {
  server: string;
  backupServer: string;
  transport: string;
  /** The lock taken for the whole pull. */
  lock: string;
  /** History file the start and the end of the pull are appended to. */
  historyFile: string;
  /** The new snapshot's stamp, the `.partial` folder written, and its name once complete. */
  stamp: string;
  partial: string;
  snapshot: string;
  /** `remote/<server>`: the link switched to the new snapshot when complete; the snapshot current now. */
  currentLink: string;
  current: string | undefined;
  /** The `.partial` an interrupted pull left, renamed to `partial` and resumed; older ones removed. */
  resumes: string | undefined;
  removes: string[];
  /** Previous complete snapshot: unchanged files become hardlinks to it. */
  linkDest: string | undefined;
  streams: number;
  /** The rsync plan every pass is built from. */
  rsync: RsyncPlan;
  /** Every rsync the copy runs, as argv. Split pulls run the second once per top-level folder. */
  commands: PlannedCommand[];
  /** Read-only steps around the copy that are not commands of their own. */
  notes: string[];
  /** Folder snapshot state the plan was built from (which partials exist). */
  snapshots: SnapshotState;
}

export interface PullPlanOptions {
  now: Date;
  /** A number; "auto" or none: DEFAULT_PULL_STREAMS (runPulls and planPulls decide from the budget). */
  streams?: number | 'auto' | undefined;
  progress?: boolean | undefined;
  connectTimeoutS?: number | undefined;
  /** As the pull's (`pull --full`, `--no-change-lists`): whether a btrfs pull goes by the change lists. */
  full?: boolean | undefined;
  changeLists?: boolean | undefined;
  ioTimeoutS?: number | undefined;
}

/**
 * Builds the plan of one server's pull. With ssh transport, a pinned host key is written to a
 * private temp known_hosts file (outside the tree) that `cleanup` removes: the plan's argv names it.
 */
export async function planPull(site: Site, backupServer: ResolvedBackupServer, pull: ResolvedPull, opts: PullPlanOptions): Promise<{ plan: PullPlan; cleanup: () => Promise<void> }> {
  const partition = backupServer.partition;
  const source = findServer(site, pull.server);
  const snapshots = await readSnapshotState(partition, pull.server);
  const stamp = await freeStamp(partition, pull.server, opts.now);
  const stale = [...snapshots.partials];
  const resumes = stale.pop();
  const linkStamp = snapshots.complete.at(-1) ?? snapshots.current;
  const linkDest = linkStamp ? snapshotDir(partition, pull.server, linkStamp) : undefined;
  let sourceArg: string;
  let rsh: string[] | undefined;
  let cleanup = async (): Promise<void> => undefined;
  if (pull.transport === 'local') {
    sourceArg = `${localRoot(source.partition)}/`;
  } else {
    const target = sshTarget(source);
    const kh = await prepareKnownHosts(target, `servers[${source.index}].ssh.host_key`);
    cleanup = kh.cleanup;
    rsh = sshArgv(target, kh.options, opts.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S);
    sourceArg = remoteSource(target);
  }
  // The snapshot engine and, with btrfs, whether this pull would go by the change lists (lib/tiers/pull/changes.ts).
  const engine = await engineFor(backupServer.snapshots, snapshotsDir(partition, pull.server));
  const mode = await changeMode({ engine, inPlace: engine.name === 'btrfs' && !!linkStamp, resumed: !!resumes, first: !linkStamp, full: opts.full, changeLists: opts.changeLists, partition, server: pull.server, everyMs: backupServer.fullPullEveryMs, now: opts.now });
  try {
    return { plan: buildPlan(), cleanup };
  } catch (err) {
    await cleanup(); // e.g. a word rsync cannot carry: no temp known_hosts left behind
    throw err;
  }

  function buildPlan(): PullPlan {
    const partial = partialSnapshotDir(partition, pull.server, stamp);
    const cow = engine.name === 'btrfs' && !!linkStamp; // the new snapshot starts as a writable btrfs snapshot of the previous one
    const rsync: RsyncPlan = { source: sourceArg, dest: partial, linkDest: cow ? undefined : linkDest, rsh, ioTimeoutS: opts.ioTimeoutS ?? backupServer.timeoutMs / 1000, bwlimit: pull.bwlimit, progress: opts.progress, ...(writesInPlace({ inPlace: cow, from: linkDest, resumed: resumes }) ? { inPlace: true } : {}) };
    const streams = typeof opts.streams === 'number' ? opts.streams : DEFAULT_PULL_STREAMS;
    const commands: PlannedCommand[] = mode.useLists
      ? listsCommands(rsync)
      : streams <= 1
        ? [{ title: 'copy the whole local tier', argv: rsyncArgv(rsync) }]
        : [
            { title: 'copy the top level (files; folders created empty)', argv: rsyncArgv({ ...rsync, topLevelOnly: true, progress: false }) },
            {
              title: `copy each top-level folder, ${streams} at a time (${FOLDER_PLACEHOLDER} = each folder's name)`,
              argv: rsyncArgv({ ...rsync, ...folderPass(rsync, FOLDER_PLACEHOLDER, rsync.linkDest ? path.join(rsync.linkDest, FOLDER_PLACEHOLDER) : undefined) }),
            },
          ];
    const plan: PullPlan = {
      server: pull.server,
      backupServer: backupServer.server,
      transport: pull.transport,
      lock: lockPath(snapshotsDir(partition, pull.server)),
      historyFile: historyFilePath(serverHistoryDir(partition), pullHistoryName(pull.server), dayOf(opts.now, site.timezone)),
      stamp,
      partial,
      snapshot: snapshotDir(partition, pull.server, stamp),
      currentLink: remoteServerDir(partition, pull.server),
      current: snapshots.current,
      resumes,
      removes: stale.map((s) => partialSnapshotDir(partition, pull.server, s)),
      linkDest,
      streams,
      rsync,
      commands,
      notes: [
        ...(engine.name === 'btrfs' ? [`btrfs engine: ${cow ? `the new snapshot starts as a writable btrfs snapshot of ${linkDest}, updated in place` : 'the first snapshot is a new subvolume'}; change lists: ${mode.useLists ? `used (${LISTS_TEMP} = a private temp folder)` : mode.why}`] : []),
        "before and after the copy: each app's manifest is read at the source (rsync --files-from into a temp folder) to find apps their jobs replaced meanwhile; those are copied again",
        ...(pruneSettings(site).afterPull ? ['after a good pull: the GFS prune of this server\'s snapshots (tierback prune --dry-run shows it)'] : []),
      ],
      snapshots,
    };
    return plan;
  }
}

/** The source, destination and link-dest of one top-level folder's pass of a split pull. */
export function folderPass(rsync: RsyncPlan, name: string, linkDest: string | undefined): Pick<RsyncPlan, 'source' | 'dest' | 'linkDest'> {
  return { source: `${rsync.source}${name}/`, dest: path.join(rsync.dest, name), linkDest };
}

/**
 * The plans of every pull `backupServer` would run now (or of `servers`); writes nothing. Streams
 * are those each server would get from the budget if it started first (lib/tiers/pull/budget.ts).
 */
export async function planPulls(site: Site, backupServer: ResolvedBackupServer, opts: PullPlanOptions & BudgetOptions & { servers?: string[] | undefined }): Promise<PullPlan[]> {
  const plans: PullPlan[] = [];
  const pulls = selectPulls(site, backupServer, opts.servers);
  const settings = budgetSettings(backupServer, opts, site.inventory.backup_servers[backupServer.index]?.concurrency);
  const demands = demandsOf(site, pulls, await lastPullFacts(backupServer, pulls.map((p) => p.server)), settings);
  const waiting = demands.reduce((a, d) => a + d.work, 0);
  for (const [i, pull] of pulls.entries()) {
    const d = demands[i]!;
    const { plan, cleanup } = await planPull(site, backupServer, pull, { ...opts, streams: streamsAtStart(d, waiting, settings, settings.transfers) });
    plan.notes.unshift(`streams: ${plan.streams} of a budget of ${settings.transfers} rsync processes, ${settings.concurrency} servers at once (${d.why}; docs/remote.md#transfer-budget)`);
    await cleanup();
    plans.push(plan);
  }
  return plans;
}

/** Human text of a pull plan, for --dry-run: every path and every command as argv. */
export function formatPullPlan(plan: PullPlan): string {
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,<>-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines = [
    `pull ${plan.server} -> ${plan.backupServer} (${plan.transport}, ${plan.streams} stream${plan.streams === 1 ? '' : 's'})`,
    `  lock:      ${plan.lock}`,
    `  history:   ${plan.historyFile} (appended: start, end)`,
    `  writes:    ${plan.partial}${plan.resumes ? ` (resuming ${plan.resumes}.partial, renamed)` : ''}`,
  ];
  for (const r of plan.removes) lines.push(`  removes:   ${r} (older interrupted pull)`);
  lines.push(`  previous:  ${plan.linkDest ?? '(none: first pull, every file copied)'}`);
  lines.push(`  complete:  renamed to ${plan.snapshot}`);
  lines.push(`  current:   ${plan.currentLink} -> ${plan.stamp} (now: ${plan.current ?? 'none'})`);
  plan.commands.forEach((c, i) => lines.push(`  ${i + 1}. ${c.title}`, `     ${c.argv.map(q).join(' ')}`));
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}
