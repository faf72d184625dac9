/**
 * `tierback apply` / `tierback move`: compare the applied inventory with the new one, run the moves
 * (lib/features/move/index.ts), and record the inventory as applied on this machine's partitions
 * (`<partition>/.tierback/applied.yaml`, lib/model/layout.ts).
 */
import { readFile } from 'node:fs/promises';
import * as C from '../../model/layout.js';
import { ExitCode, NotFoundError, TierbackError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { exists, FILE_MODE, writeFileAtomic } from '../../base/fsutil.js';
import { loadInventory } from '../../site/load.js';
import type { Site } from '../../model/inventory/model.js';
import { diffInventories, moveApp, type AppMove, type InventoryDiff, type MoveResult } from './index.js';

/** Records `text` (the inventory just applied) on every given partition, 0600. */
export async function recordApplied(partitions: string[], text: string): Promise<string[]> {
  const files: string[] = [];
  for (const p of [...new Set(partitions)]) {
    const file = C.appliedInventoryPath(p);
    await writeFileAtomic(file, text, FILE_MODE);
    files.push(file);
  }
  return files;
}

/** The first applied inventory found on the partitions of this site that exist on this machine. */
export async function findApplied(site: Site): Promise<string | undefined> {
  for (const p of [...new Set(site.servers.map((s) => s.partition))]) {
    const f = C.appliedInventoryPath(p);
    if (await exists(f)) return f;
  }
  return undefined;
}

/** Partitions of this site that exist on this machine. */
export async function localPartitions(site: Site): Promise<string[]> {
  const out: string[] = [];
  for (const p of [...new Set(site.servers.map((s) => s.partition))]) if (await exists(C.localRoot(p))) out.push(p);
  return out;
}

// ---------------------------------------------------------------- move / apply

export interface ApplyOptions {
  exec: Exec;
  /** The old inventory file; default: the applied inventory recorded on a local partition. */
  from?: string | undefined;
  /** Only these apps (`tierback move APP`); default every app that moved. */
  apps?: string[] | undefined;
  /** Record the new inventory as applied on the local partitions when every move succeeded (default true for apply, false for move). */
  record?: boolean;
}

export interface ApplyResult {
  from: string | undefined;
  diff: InventoryDiff;
  results: MoveResult[];
  failures: { app: string; error: string }[];
  recorded: string[];
}

/** Loads the old inventory: --from FILE, else the applied one recorded on this machine. */
export async function loadOldSite(site: Site, from: string | undefined): Promise<Site | undefined> {
  const file = from ?? (await findApplied(site));
  if (!file) return undefined;
  return loadInventory({ file });
}

/**
 * Moves the apps whose place changed between the old inventory and `site`, as far as their old
 * folders are on this machine, then (apply) records `site` as applied.
 */
/** The old inventory, the diff, and the moves of `opts.apps` (default all); shared with the dry run (lib/features/move/plan.ts). */
export async function selectMoves(site: Site, opts: Pick<ApplyOptions, 'from' | 'apps'>): Promise<{ old: Site | undefined; diff: InventoryDiff; moves: AppMove[] }> {
  const old = await loadOldSite(site, opts.from);
  if (!old && opts.apps) {
    throw new NotFoundError('no old inventory to compare with', 'give the inventory from before the edit with --from FILE (e.g. from git), or run `tierback apply` once before editing');
  }
  const diff = old ? diffInventories(old, site) : { moves: [], added: site.apps.map((a) => a.name), removed: [], changed: [] };
  for (const name of opts.apps ?? []) {
    if (!diff.moves.some((m) => m.app === name)) {
      const known = site.apps.some((a) => a.name === name);
      throw new NotFoundError(
        known ? `app "${name}" has the same server, VM and relpath in ${old!.file} and ${site.file}: nothing to move` : `no app "${name}" in ${site.file}`,
        known ? '`tierback inventory diff OLD NEW` lists the moves' : '`tierback inventory show` lists the apps',
      );
    }
  }
  const moves = diff.moves.filter((m) => !opts.apps || opts.apps.includes(m.app));
  return { old, diff, moves };
}

/**
 * Moves the apps whose place changed between the old inventory and `site`, as far as their old
 * folders are on this machine, then (apply) records `site` as applied.
 */
export async function applyInventory(site: Site, opts: ApplyOptions): Promise<ApplyResult> {
  const { old, diff, moves } = await selectMoves(site, opts);
  const results: MoveResult[] = [];
  const failures: { app: string; error: string }[] = [];
  for (const m of moves) {
    try {
      results.push(await moveApp(m, { exec: opts.exec, site }));
    } catch (err) {
      if (moves.length === 1) throw err;
      failures.push({ app: m.app, error: err instanceof Error ? err.message : String(err) });
    }
  }
  let recorded: string[] = [];
  if ((opts.record ?? !opts.apps) && failures.length === 0) {
    recorded = await recordApplied(await localPartitions(site), await readFile(site.file, 'utf8'));
  }
  const result = { from: old?.file, diff, results, failures, recorded };
  if (failures.length > 0) {
    throw Object.assign(
      new TierbackError(`${failures.length} of ${moves.length} moves failed: ${failures.map((f) => `${f.app}: ${f.error}`).join('; ')}`, {
        exitCode: ExitCode.PARTIAL,
        hint: 'fix the cause and run `tierback apply` again: moves already done are skipped',
      }),
      { result },
    );
  }
  return result;
}
