/**
 * How status reads history: a name's newest files first (probing recent days before listing a
 * folder), folded into the facts of its last runs, and the files every app of a server shares
 * read once.
 */
import { existsSync } from 'node:fs';
import * as C from '../../model/layout.js';
import { historyFolderNames, readHistoryFiles, type HistoryProblem, type HistoryRecord, type Run } from '../../model/history.js';
import { parseHistoryFileName } from '../../model/names.js';
import type { RunFacts } from './evaluate.js';

const isSuccess = (r: Run) => r.status === 'ok' || r.status === 'warning';

/**
 * Reads a name's history files newest first, stopping once two successes are known.
 * `keep` selects the runs that count (e.g. kind=job).
 */
export async function collectFacts(
  files: NewestFirst,
  keep: (r: Run) => boolean,
  isRunning: (r: HistoryRecord) => boolean,
  problems: HistoryProblem[],
  shared?: SharedReads,
): Promise<RunFacts> {
  const facts: RunFacts = { runs: 0 };
  for await (const file of files) {
    const res = await (shared ? shared.read(file, isRunning) : readHistoryFiles([file], { isRunning }));
    problems.push(...res.problems);
    const runs = res.runs.filter(keep);
    facts.runs += runs.length;
    for (let j = runs.length - 1; j >= 0; j--) {
      const r = runs[j]!;
      if (!facts.last) facts.last = r;
      if (!facts.lastFinished && r.status !== 'running') facts.lastFinished = r;
      if (isSuccess(r)) {
        if (!facts.lastSuccess) facts.lastSuccess = r;
        else if (!facts.previousSuccess) facts.previousSuccess = r;
      }
    }
    if (facts.previousSuccess) break;
  }
  return facts;
}

/**
 * Files every app of a server reads the same (its server's pulls, the offsite copies of the
 * backup server), parsed once per status instead of once per app. A file's problems are reported
 * with its first read only.
 */
export class SharedReads {
  private seen = new Map<string, Promise<Run[]>>();
  async read(file: string, isRunning: (r: HistoryRecord) => boolean): Promise<{ runs: Run[]; problems: HistoryProblem[] }> {
    const runs = this.seen.get(file);
    if (runs) return { runs: await runs, problems: [] };
    const res = readHistoryFiles([file], { isRunning });
    this.seen.set(file, res.then((r) => r.runs));
    return res;
  }
}

/** History file paths of one name, newest day first. */
export type NewestFirst = AsyncIterable<string>;

/**
 * Caches one listing per history directory, and finds a name's newest files fast: first by
 * probing the file names of the most recent days (no directory read), then, only when those
 * do not hold two successes, from the directory listing.
 */
export class Listings {
  constructor(private readonly recentDays: readonly string[] = []) {}
  async *newestFirst(dir: string, name: string): AsyncGenerator<string> {
    const seen = new Set<string>();
    for (const day of this.recentDays) {
      const p = C.historyFilePath(dir, name, day);
      if (existsSync(p)) {
        seen.add(p);
        yield p;
      }
    }
    const days = (await this.get(dir)).get(name) ?? [];
    for (let i = days.length - 1; i >= 0; i--) {
      const p = C.historyFilePath(dir, name, days[i]!);
      if (!seen.has(p)) yield p;
    }
  }
  /**
   * Only the files of the given days (newest first). Probed by name (no directory read), unless
   * `listed`: then from the folder's one listing, for a folder every app probes (the backup
   * server's own history: 4,000 apps x 10 days would be 40,000 probes of mostly absent files).
   */
  async *probe(dir: string, name: string, days: readonly string[], listed = false): AsyncGenerator<string> {
    if (listed) {
      const have = new Set((await this.get(dir)).get(name) ?? []);
      for (const day of days) if (have.has(day)) yield C.historyFilePath(dir, name, day);
      return;
    }
    for (const day of days) {
      const p = C.historyFilePath(dir, name, day);
      if (existsSync(p)) yield p;
    }
  }
  /** Per folder, each name's days (sorted): a backup server's history folder holds a year of every series, so no path strings are kept. */
  private cache = new Map<string, Promise<Map<string, string[]>>>();
  get(dir: string): Promise<Map<string, string[]>> {
    let p = this.cache.get(dir);
    if (!p) this.cache.set(dir, (p = listHistoryDays(dir)));
    return p;
  }
}


/** Each history name of a folder with its days, oldest first (none when the folder is missing). */
async function listHistoryDays(dir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const n of await historyFolderNames(dir)) {
    const p = parseHistoryFileName(n);
    if (!p) continue;
    let days = out.get(p.name);
    if (!days) out.set(p.name, (days = []));
    days.push(p.day);
  }
  for (const days of out.values()) days.sort();
  return out;
}
