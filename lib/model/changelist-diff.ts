/**
 * Comparing change lists (lib/model/changelist.ts has their format, walk, writer and reader): the
 * differences from an older list to a newer one, as one streaming merge of two sorted sources, memory
 * flat, synchronous within the sources' batches.
 */
import { comparePaths, comparePathsAt, entryAt, type LineBatch, type ListEntry } from './changelist.js';

export const sameEntry = (a: ListEntry, b: ListEntry): boolean => a.type === b.type && a.size === b.size && a.mtimeNs === b.mtimeNs && a.mode === b.mode;

export interface Difference {
  /** In `b` only, or different: copy it. `retyped`: it was another type before (remove that first). */
  changed?: ListEntry;
  /** The entry in `a` when `changed` is in both (its facts differ). */
  before?: ListEntry;
  retyped?: boolean;
  /** In `a` only: delete it. */
  deleted?: ListEntry;
}

/** Walks an async source of batches synchronously within each batch (`length`: the size of a batch). */
class Cursor<B> {
  batch: B | undefined;
  private size = 0;
  i = 0;
  done = false;
  private readonly it: AsyncIterator<B>;
  constructor(
    src: AsyncIterable<B>,
    private readonly length: (b: B) => number,
  ) {
    this.it = src[Symbol.asyncIterator]();
  }
  /** True when the batch is used up (then `fill`) or the source is done. */
  get empty(): boolean {
    return this.i >= this.size;
  }
  /** Nothing left at all. */
  get over(): boolean {
    return this.done && this.empty;
  }
  async fill(): Promise<void> {
    while (this.empty && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        this.batch = r.value;
        this.size = this.length(r.value);
        this.i = 0;
      }
    }
  }
}

/**
 * The differences from `a` (older) to `b` (newer), both sorted, in batches: one streaming merge,
 * memory flat, synchronous within the sources' batches. A folder whose own facts are equal but whose
 * content changed is not itself reported.
 */
export async function* diffBatches(a: AsyncIterable<ListEntry[]>, b: AsyncIterable<ListEntry[]>): AsyncGenerator<Difference[]> {
  const x = new Cursor(a, (v) => v.length);
  const y = new Cursor(b, (v) => v.length);
  for (;;) {
    await x.fill();
    await y.fill();
    const out: Difference[] = [];
    // Until one side's batch is used up (while the other still has more to come).
    for (;;) {
      const xe = x.empty ? undefined : x.batch![x.i]!;
      const ye = y.empty ? undefined : y.batch![y.i]!;
      if ((!xe && !x.done) || (!ye && !y.done) || (!xe && !ye)) break;
      if (!ye || (xe && comparePaths(xe.rel, ye.rel) < 0)) {
        out.push({ deleted: xe });
        x.i++;
      } else if (!xe || comparePaths(xe.rel, ye.rel) > 0) {
        out.push({ changed: ye });
        y.i++;
      } else {
        if (!sameEntry(xe, ye)) out.push({ changed: ye, before: xe, retyped: xe.type !== ye.type });
        x.i++;
        y.i++;
      }
    }
    if (out.length) yield out;
    if (x.over && y.over) return;
  }
}

/**
 * diffBatches of two lists' lines (readListLines): lines that are equal are equal entries, and only
 * lines that differ are made entries. The same differences as diffBatches of readListBatches (a line
 * written with other digits for the same facts, like a mode "0644", is reported as changed: copied again).
 */
export async function* diffListFiles(a: AsyncIterable<LineBatch>, b: AsyncIterable<LineBatch>): AsyncGenerator<Difference[]> {
  const x = new Cursor(a, (v) => v.lines.length);
  const y = new Cursor(b, (v) => v.lines.length);
  for (;;) {
    await x.fill();
    await y.fill();
    const out: Difference[] = [];
    for (;;) {
      const xl = x.empty ? undefined : x.batch!.lines[x.i]!;
      const yl = y.empty ? undefined : y.batch!.lines[y.i]!;
      if ((xl === undefined && !x.done) || (yl === undefined && !y.done) || (xl === undefined && yl === undefined)) break;
      const xa = xl === undefined ? 0 : x.batch!.at[x.i]!;
      const ya = yl === undefined ? 0 : y.batch!.at[y.i]!;
      const c = xl === undefined ? 1 : yl === undefined ? -1 : comparePathsAt(xl, xa, yl, ya);
      if (c < 0) {
        out.push({ deleted: entryAt(xl!, xa) });
        x.i++;
      } else if (c > 0) {
        out.push({ changed: entryAt(yl!, ya) });
        y.i++;
      } else {
        if (xl !== yl) {
          const before = entryAt(xl!, xa);
          const changed = entryAt(yl!, ya);
          if (!sameEntry(before, changed)) out.push({ changed, before, retyped: before.type !== changed.type });
        }
        x.i++;
        y.i++;
      }
    }
    if (out.length) yield out;
    if (x.over && y.over) return;
  }
}

async function* batchesOf(src: AsyncIterable<ListEntry>): AsyncGenerator<ListEntry[]> {
  for await (const e of src) yield [e];
}

/** diffBatches one difference at a time, of entry sources (e.g. a list and walkSorted). */
export async function* diffLists(a: AsyncIterable<ListEntry>, b: AsyncIterable<ListEntry>): AsyncGenerator<Difference> {
  for await (const ds of diffBatches(batchesOf(a), batchesOf(b))) yield* ds;
}
