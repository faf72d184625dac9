/**
 * Remote tier: a backup server pulls the whole local tier of each server it is assigned into a new
 * dated snapshot (rsync --link-dest: unchanged files are hardlinks to the previous snapshot), which
 * becomes current only when complete (atomic switch of `<partition>/remote/<server>`).
 * See docs/remote.md.
 */
import { UsageError, errorText } from '../../base/errors.js';
import { createExec } from '../../base/exec.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import { pruneAfterPull } from '../retention/index.js';
import { selectPulls } from './select.js';
import { pullOne, type PullContext } from './pull-one.js';
import type { PullOptions, PullOutcome } from './types.js';

export { resolveBackupServer, selectPulls } from './select.js';
export { explainFailure } from './transfer.js';
export { DEFAULT_PULL_STREAMS, type PullOptions, type PullOutcome, type PullProgress } from './types.js';

/**
 * Pulls every server `backupServer` is assigned (or `opts.servers`), at most `concurrency` at a
 * time. One server failing never stops the others; each outcome says how its pull ended.
 */
export async function runPulls(site: Site, backupServer: ResolvedBackupServer, opts: PullOptions): Promise<PullOutcome[]> {
  const pulls = selectPulls(site, backupServer, opts.servers);
  if (opts.streams !== undefined && !(Number.isInteger(opts.streams) && opts.streams >= 1 && opts.streams <= 64)) {
    throw new UsageError(`streams must be a whole number from 1 to 64, not ${opts.streams}`, 'e.g. --streams 4 (1 = a single rsync per server)');
  }
  const ctx: PullContext = { site, backupServer, opts, exec: opts.exec ?? createExec(opts.log), now: opts.now ?? (() => new Date()) };
  const outcomes: PullOutcome[] = new Array(pulls.length);
  let next = 0;
  const limit = Math.max(1, Math.min(opts.concurrency ?? backupServer.concurrency, pulls.length));
  const worker = async () => {
    while (next < pulls.length && !opts.signal?.aborted) {
      const i = next++;
      const outcome = await pullOne(ctx, pulls[i]!);
      outcomes[i] = outcome;
      if (outcome.status === 'ok' || outcome.status === 'warning') {
        // GFS pruning of this server's snapshots, when the inventory asks for it (defaults.prune.after_pull).
        await pruneAfterPull(site, backupServer, outcome.server, { now: ctx.now(), log: opts.log, exec: ctx.exec }).catch((err: unknown) =>
          opts.log.warn({ server: outcome.server, err: errorText(err) }, 'prune after the pull failed (the pull itself is fine)'),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return opts.signal?.aborted ? outcomes.filter(Boolean) : outcomes; // servers not started after an interruption have no outcome
}
