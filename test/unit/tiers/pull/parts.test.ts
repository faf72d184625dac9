/** The small changed files' rsyncs in batches (lib/tiers/pull/parts.ts): early start, bounded, folders whole. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BATCH_FIRST, BATCH_MAX, Batches, type Pass, type PartSink } from '../../../../lib/tiers/pull/parts.js';

/** Stands for one rsync: records its names; "copies" for `copyMs` once its names are complete. */
class Sink implements PartSink {
  count = 0;
  readonly names: string[] = [];
  closed = false;
  readonly pass: Promise<Pass>;
  private finish!: () => void;
  constructor(
    private readonly copyMs: number,
    private readonly live: { now: number; max: number },
  ) {
    this.live.now++;
    this.live.max = Math.max(this.live.max, this.live.now);
    this.pass = new Promise<void>((resolve) => (this.finish = resolve)).then(() => {
      this.live.now--;
      return { code: 0, stderr: '', stats: undefined };
    });
  }
  async add(rel: string): Promise<void> {
    assert.equal(this.closed, false, 'a name after close');
    this.count++;
    this.names.push(rel);
  }
  async close(): Promise<void> {
    this.closed = true;
    setTimeout(() => this.finish(), this.copyMs);
  }
}

async function run(names: string[], parallel: number, copyMs = 0) {
  const live = { now: 0, max: 0 };
  const sinks: Sink[] = [];
  const b = new Batches(parallel, () => {
    const s = new Sink(copyMs, live);
    sinks.push(s);
    return s;
  });
  /** How many rsyncs were already closed (copying) when each name was added. */
  const closedAt: number[] = [];
  for (const n of names) {
    await b.add(n);
    closedAt.push(sinks.filter((s) => s.closed).length);
  }
  await b.close();
  await Promise.all(b.passes);
  return { sinks, live, closedAt, b };
}

describe('the small changed files copied in batches', () => {
  it('a few changes are one rsync, every name in the given order', async () => {
    const names = Array.from({ length: BATCH_FIRST }, (_, i) => `app/d${i}/f`);
    const { sinks, b } = await run(names, 4);
    assert.equal(sinks.length, 1);
    assert.deepEqual(sinks[0]!.names, names);
    assert.equal(b.count, names.length);
    assert.equal(b.passes.length, 1);
  });

  it('many changes: the first batches are closed (copying) while names still come, batches double up to the cap, a folder is never split, every name once', async () => {
    // 1,000 changed files, 5 per folder (the bench's shape).
    const names = Array.from({ length: 1000 }, (_, i) => `vm${i % 7}/d${String(Math.floor(i / 5)).padStart(4, '0')}/f${i}`).sort();
    const { sinks, closedAt } = await run(names, 7);
    assert.deepEqual(sinks.flatMap((s) => s.names), names, 'every name once, in order');
    // The first rsync starts copying after about BATCH_FIRST names, long before the last one.
    const firstClosed = closedAt.findIndex((n) => n > 0);
    assert.ok(firstClosed >= BATCH_FIRST && firstClosed < BATCH_FIRST + 5, `first batch closed after ${firstClosed} names`);
    const sizes = sinks.map((s) => s.count);
    for (const [k, n] of sizes.slice(0, -1).entries()) {
      const want = Math.min(BATCH_FIRST * 2 ** k, BATCH_MAX);
      assert.ok(n >= want && n < want + 5, `batch ${k}: ${n} names, ${want} wanted (sizes ${sizes.join(',')})`);
    }
    const folderOf = new Map<string, number>();
    sinks.forEach((s, k) => s.names.forEach((f) => {
      const folder = f.slice(0, f.lastIndexOf('/'));
      assert.equal(folderOf.get(folder) ?? k, k, `${folder} in two rsyncs`);
      folderOf.set(folder, k);
    }));
  });

  it('at most `parallel` rsyncs at once: the next one waits for one to finish', async () => {
    const names = Array.from({ length: 1500 }, (_, i) => `a/d${String(i).padStart(5, '0')}/f`);
    const { live, sinks } = await run(names, 3, 20);
    assert.ok(sinks.length > 3, `${sinks.length} rsyncs`);
    assert.equal(live.max, 3);
    assert.equal(live.now, 0);
  });
});
