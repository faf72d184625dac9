/**
 * Remote tier: a backup server pulls the whole local tier of each server it is assigned into a new
 * dated snapshot (rsync --link-dest: unchanged files are hardlinks to the previous snapshot), which
 * becomes current only when complete (atomic switch of `<partition>/remote/<server>`).
 * See docs/remote.md.
 */
import { errorText } from '../../base/errors.js';
import { createExec } from '../../base/exec.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import { pruneAfterPull } from '../retention/index.js';
import { selectPulls } from './select.js';
import { pullOne, type PullContext } from './pull-one.js';
import { budgetSettings, demandsOf, lastPullFacts, streamsAtStart } from './budget.js';
import type { PullOptions, PullOutcome } from './types.js';

export { resolveBackupServer, selectPulls } from './select.js';
export { explainFailure } from './transfer.js';
export { DEFAULT_PULL_STREAMS, type PullOptions, type PullOutcome, type PullProgress } from './types.js';

/**
 * Pulls every server `backupServer` is assigned (or `opts.servers`) within its transfer budget
 * (lib/tiers/pull/budget.ts): at most `transfers` rsync processes at once, all pulls together; the
 * biggest servers (by the files of their last pull) start first, each with its streams taken from
 * the budget. One server failing never stops the others; each outcome says how its pull ended.
 * After an interruption, servers not started get no outcome and nothing in history.
 */
export async function runPulls(site: Site, backupServer: ResolvedBackupServer, opts: PullOptions): Promise<PullOutcome[]> {
  const pulls = selectPulls(site, backupServer, opts.servers);
  const settings = budgetSettings(backupServer, opts, site.inventory.backup_servers[backupServer.index]?.concurrency);
  const ctx: PullContext = { site, backupServer, opts, exec: opts.exec ?? createExec(opts.log), now: opts.now ?? (() => new Date()) };
  const outcomes: PullOutcome[] = new Array(pulls.length);
  const demands = demandsOf(site, pulls, await lastPullFacts(backupServer, pulls.map((p) => p.server)), settings);
  // Biggest first (stable): the long pulls start while the budget is free and do not end the batch alone.
  const queue = pulls.map((_, i) => i).sort((a, b) => demands[b]!.work - demands[a]!.work || a - b);
  let waitingWork = demands.reduce((a, d) => a + d.work, 0);
  let used = 0;
  let running = 0;
  const live = new Set<Promise<void>>();
  // Wakes the loop when a running pull gives streams back (a first pull of large files, below).
  let nudge: (() => void) | undefined;
  while (queue.length > 0 && !opts.signal?.aborted) {
    if (running >= settings.concurrency || used >= settings.transfers) {
      await Promise.race([...live, new Promise<void>((resolve) => (nudge = resolve))]);
      nudge = undefined;
      continue;
    }
    const i = queue.shift()!;
    const d = demands[i]!;
    const streams = streamsAtStart(d, waitingWork, settings, settings.transfers - used);
    waitingWork -= d.work;
    used += streams;
    running++;
    opts.log.debug({ server: d.server, streams, why: d.why, used, transfers: settings.transfers }, 'pull starts');
    let held = streams;
    const release = (unused: number) => {
      const n = Math.min(unused, held - 1);
      held -= n;
      used -= n;
      nudge?.();
    };
    const p: Promise<void> = pullServer(i, streams, release).finally(() => {
      used -= held;
      running--;
      live.delete(p);
    });
    live.add(p);
  }
  await Promise.all(live);
  return opts.signal?.aborted ? outcomes.filter(Boolean) : outcomes; // servers not started after an interruption have no outcome

  async function pullServer(i: number, streams: number, release: (unused: number) => void): Promise<void> {
    const outcome = await pullOne({ ...ctx, opts: { ...opts, streams }, autoStreams: settings.streams === 'auto' ? { release } : undefined }, pulls[i]!);
    outcomes[i] = outcome;
    if (outcome.status === 'ok' || outcome.status === 'warning') {
      // GFS pruning of this server's snapshots, when the inventory asks for it (defaults.prune.after_pull).
      await pruneAfterPull(site, backupServer, outcome.server, { now: ctx.now(), log: opts.log, exec: ctx.exec }).catch((err: unknown) =>
        opts.log.warn({ server: outcome.server, err: errorText(err) }, 'prune after the pull failed (the pull itself is fine)'),
      );
    }
  }
}
