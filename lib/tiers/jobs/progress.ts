/**
 * Progress of a running job, for a terminal: the step it is at and what its staging folder holds
 * so far (files, bytes, rate), measured by walking the staging folder (streaming: counts only)
 * while the steps copy and dump into it. Only runs when asked (the CLI asks when stderr is a
 * terminal); the walks are spaced so they take at most a third of the time.
 */
import { walkFiles } from './manifest.js';

export interface JobProgress {
  app: string;
  /** 1-based number of the current step, of `steps`. */
  step: number;
  steps: number;
  title: string;
  files: number;
  bytes: number;
  /** Bytes per second since the previous measurement; undefined before there is one. */
  bytesPerS: number | undefined;
}

export interface JobWatch {
  /** The job entered a step: reported at once (with the last counts). */
  step(title: string): void;
  stop(): void;
}

const NO_WATCH: JobWatch = { step: () => undefined, stop: () => undefined };

async function measure(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const e of walkFiles(dir)) {
    if (!e.file) continue;
    files++;
    bytes += e.size;
  }
  return { files, bytes };
}

/** Watches `staging` while a job's steps run; a no-op without `onProgress`. */
export function watchJob(app: string, staging: string, steps: number, onProgress: ((p: JobProgress) => void) | undefined, everyMs = 1000): JobWatch {
  if (!onProgress) return NO_WATCH;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let step = 0;
  let title = '';
  let last = { files: 0, bytes: 0, at: Date.now() };
  let bytesPerS: number | undefined;
  const report = () => onProgress({ app, step, steps, title, files: last.files, bytes: last.bytes, bytesPerS });
  const tick = async () => {
    const t0 = Date.now();
    const m = await measure(staging).catch(() => undefined);
    if (stopped) return;
    const t1 = Date.now();
    if (m) {
      bytesPerS = t1 > last.at ? (Math.max(0, m.bytes - last.bytes) * 1000) / (t1 - last.at) : bytesPerS;
      last = { ...m, at: t1 };
      report();
    }
    timer = setTimeout(() => void tick(), Math.max(everyMs, 2 * (t1 - t0)));
    timer.unref();
  };
  timer = setTimeout(() => void tick(), everyMs);
  timer.unref();
  return {
    step(t: string) {
      step++;
      title = t;
      report();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** One progress line (without the leading carriage return): `hydro: step 2/3 copy files — 1200 files 310.4 MB 52.1 MB/s`. */
export function formatJobProgress(p: JobProgress): string {
  const rate = p.bytesPerS !== undefined ? ` ${(p.bytesPerS / 1e6).toFixed(1)} MB/s` : '';
  return `${p.app}: step ${p.step}/${p.steps} ${p.title} — ${p.files} files ${(p.bytes / 1e6).toFixed(1)} MB${rate}`;
}
