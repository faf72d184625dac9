/**
 * The copy by lists in parts (docs/remote.md#change-lists, step 3): where the changed files' names go
 * (a `--files-from` file, or the stdin of an rsync fed while the lists are compared), how they are
 * split into batches copied at the same time, and an rsync's result as a pass.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { CommandError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import type { Logger } from '../../base/log.js';
import { RSYNC_VANISHED, parseRsyncStats, type RsyncStats } from './rsync.js';

export interface Pass {
  code: number | undefined;
  stderr: string;
  stats: RsyncStats | undefined;
}

/** A finished rsync as a pass: its exit code, stderr and --stats (a CommandError is a failed pass). */
export async function passOf(run: Promise<{ exitCode: number; stdout: string }>): Promise<Pass> {
  try {
    const r = await run;
    return { code: r.exitCode ?? 0, stderr: '', stats: parseRsyncStats(String(r.stdout)) };
  } catch (err) {
    if (err instanceof CommandError) return { code: err.code, stderr: String(err.stderr ?? err.message), stats: undefined };
    throw err;
  }
}

/** Where a part of the copy by lists writes its names. */
export interface PartSink {
  count: number;
  add(rel: string): Promise<void>;
  close(): Promise<void>;
}

/** A `--files-from` list written as it is made (0600, backpressure kept). */
export class FilesFrom implements PartSink {
  private readonly out: WriteStream;
  count = 0;
  constructor(readonly file: string) {
    this.out = createWriteStream(file, { mode: 0o600 });
  }
  async add(rel: string): Promise<void> {
    this.count++;
    if (!this.out.write(`${rel}\n`)) await once(this.out, 'drain');
  }
  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'close');
  }
}

/** Writes `text` to a child's stdin, waiting while it is full (or until the child is gone). */
async function feed(w: Writable, text: string): Promise<void> {
  if (w.destroyed || w.writableEnded) return;
  if (w.write(text)) return;
  await new Promise<void>((resolve) => {
    const go = () => {
      w.off('drain', go).off('close', go).off('error', go);
      resolve();
    };
    w.on('drain', go).on('close', go).on('error', go);
  });
}

/**
 * An rsync `--files-from=-` started with the part's first name and fed the next ones on its stdin
 * while the lists are still compared: its SSH session, the remote rsync's start and the source's
 * look-up of each name happen meanwhile (the sender reads the names as they come).
 */
export class FedRsync implements PartSink {
  count = 0;
  private readonly stdin: Writable;
  readonly pass: Promise<Pass>;
  constructor(exec: Exec, argv: string[], log: Logger, signal: AbortSignal | undefined) {
    log.debug({ argv }, 'rsync (change lists, names fed as they are found)');
    const r = exec.runFed({ argv, env: { LC_ALL: 'C' }, okCodes: [0, RSYNC_VANISHED] }, signal);
    this.stdin = r.stdin;
    this.pass = passOf(r.done);
  }
  async add(rel: string): Promise<void> {
    this.count++;
    await feed(this.stdin, `${rel}\n`);
  }
  async close(): Promise<void> {
    this.stdin.end();
  }
}

/** The first batch of the small changed files' rsyncs (names); each next one is twice as big, up to BATCH_MAX. */
export const BATCH_FIRST = 32;
export const BATCH_MAX = 128;

/**
 * The small changed files' rsyncs, in batches. rsync `--files-from` without recursion copies nothing
 * until its list of names is complete (one file list), so the names go to one rsync at a time: it is
 * started with its first name (its SSH session, the remote rsync's start and the source's look-up of
 * each name overlap the comparison), fed the next ones, and closed at the first folder boundary once
 * it has its batch: then it copies while the comparison goes on and the next names open the next
 * rsync. Batches double (BATCH_FIRST names, then 2x, up to BATCH_MAX), so a few changes are one rsync
 * that starts copying early and many are not split into many processes. At most `parallel` rsyncs
 * run at once: the next one waits for one to finish (the comparison waits with it). A folder's files
 * go to one rsync.
 */
export class Batches<S extends PartSink & { readonly pass: Promise<Pass> } = FedRsync> implements PartSink {
  count = 0;
  /** Every rsync started, in order. */
  readonly passes: Promise<Pass>[] = [];
  private current: S | undefined;
  private inBatch = 0;
  private size = BATCH_FIRST;
  private dir: string | undefined;
  private readonly running = new Set<Promise<unknown>>();
  constructor(
    private readonly parallel: number,
    private readonly open: () => S,
  ) {}
  async add(rel: string): Promise<void> {
    const dir = path.posix.dirname(rel);
    if (this.current && this.inBatch >= this.size && dir !== this.dir) this.seal();
    this.dir = dir;
    if (!this.current) {
      while (this.running.size >= Math.max(1, this.parallel)) await Promise.race(this.running);
      const f = this.open();
      this.current = f;
      this.inBatch = 0;
      this.passes.push(f.pass);
      const settled: Promise<unknown> = f.pass.then(
        () => this.running.delete(settled),
        () => this.running.delete(settled),
      );
      this.running.add(settled);
    }
    this.inBatch++;
    this.count++;
    await this.current.add(rel);
  }
  /** Ends the current rsync's names: it starts copying. */
  private seal(): void {
    void this.current?.close();
    this.current = undefined;
    this.size = Math.min(this.size * 2, BATCH_MAX);
  }
  async close(): Promise<void> {
    this.seal();
  }
}
