/**
 * Progress figures that mean something: an estimate of the time left that is shown only when it
 * can be trusted. A pull's total grows as its streams start (each rsync reports its own file count
 * once it has its list), and rsync's own eta is about bytes of changed files, which a snapshot of a
 * mostly unchanged tree hardly has: so the eta here comes from files checked per second, over a
 * window in which the total did not change and the rate held steady. Pure: no clock, no output.
 */

export interface ProgressSample {
  /** When the sample was taken (ms, any monotonic origin). */
  atMs: number;
  /** Items done so far (a pull: files checked, new or linked). */
  done: number;
  /** Items in all, when known. */
  total: number | undefined;
  /** Every part (stream) of the work has reported its total: the total will not grow any more. */
  totalsKnown: boolean;
}

export interface EtaOptions {
  /** Samples older than this are forgotten (default 20 s). */
  windowMs?: number;
  /** The window must span at least this long with one total before an eta is given (default 5 s). */
  minSpanMs?: number;
  /** Largest relative difference between the rate of the window's two halves (default 0.5). */
  tolerance?: number;
}

/** Seconds left, or undefined while an estimate would mislead. Feed it every sample in order. */
export class EtaEstimator {
  private samples: ProgressSample[] = [];
  private readonly windowMs: number;
  private readonly minSpanMs: number;
  private readonly tolerance: number;

  constructor(opts: EtaOptions = {}) {
    this.windowMs = opts.windowMs ?? 20_000;
    this.minSpanMs = opts.minSpanMs ?? 5_000;
    this.tolerance = opts.tolerance ?? 0.5;
  }

  add(s: ProgressSample): number | undefined {
    if (!s.totalsKnown || s.total === undefined || s.total <= 0) {
      this.samples = [];
      return undefined;
    }
    const first = this.samples[0];
    if (first && (first.total !== s.total || s.done < (this.samples.at(-1)?.done ?? 0))) this.samples = []; // the total moved: start over
    this.samples.push(s);
    while (this.samples.length > 2 && s.atMs - this.samples[1]!.atMs >= this.windowMs) this.samples.shift();
    return estimate(this.samples, this.minSpanMs, this.tolerance);
  }
}

function rate(a: ProgressSample, b: ProgressSample): number {
  return b.atMs > a.atMs ? (b.done - a.done) / (b.atMs - a.atMs) : 0;
}

function estimate(samples: readonly ProgressSample[], minSpanMs: number, tolerance: number): number | undefined {
  const first = samples[0]!;
  const last = samples.at(-1)!;
  if (last.done >= last.total!) return 0;
  if (samples.length < 3 || last.atMs - first.atMs < minSpanMs) return undefined;
  const mid = samples.reduce((best, x) => (Math.abs(x.atMs - (first.atMs + last.atMs) / 2) < Math.abs(best.atMs - (first.atMs + last.atMs) / 2) ? x : best), samples[1]!);
  const r = rate(first, last);
  const r1 = rate(first, mid);
  const r2 = rate(mid, last);
  if (r <= 0 || r1 <= 0 || r2 <= 0) return undefined;
  if (Math.abs(r2 - r1) / Math.max(r1, r2) > tolerance) return undefined;
  return Math.round((last.total! - last.done) / r / 1000);
}

/** `1:02:03` or `4:05` (minutes:seconds) for an eta in seconds. */
export function formatEta(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}
