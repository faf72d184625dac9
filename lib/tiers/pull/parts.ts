/**
 * The copy by lists in parts (docs/remote.md#change-lists, step 3): where the changed files' names go
 * (a `--files-from` file, or the stdin of an rsync fed while the lists are compared), how they are
 * split between parts, and an rsync's result as a pass.
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

/** Files a part of the copy by lists gets before the next folder goes to the next part. */
export const PART_FILES = 32;

/**
 * The small changed files, split into up to `parts` parts copied by as many rsyncs at the same time
 * (reading many small files from a cold disk waits on each one: several readers keep the disk busy).
 * A folder's files go to one part; the next part takes over at a folder boundary once the current
 * one got PART_FILES files, so a few changes stay one rsync and many are spread evenly. A part's
 * sink is opened with its first name.
 */
export class Parts<S extends PartSink = PartSink> {
  readonly sinks: (S | undefined)[];
  private k = 0;
  private run = 0;
  private dir: string | undefined;
  constructor(
    parts: number,
    private readonly open: (k: number) => S,
  ) {
    this.sinks = Array.from({ length: Math.max(1, parts) }, () => undefined);
  }
  async add(rel: string): Promise<void> {
    const dir = path.posix.dirname(rel);
    if (dir !== this.dir) {
      if (this.run >= PART_FILES) {
        this.k = (this.k + 1) % this.sinks.length;
        this.run = 0;
      }
      this.dir = dir;
    }
    this.run++;
    await (this.sinks[this.k] ??= this.open(this.k)).add(rel);
  }
  async close(): Promise<void> {
    await Promise.all(this.sinks.map((l) => l?.close()));
  }
  get used(): S[] {
    return this.sinks.filter((l): l is S => !!l && l.count > 0);
  }
}

/** Parts written to `--files-from` files in `work` (`files-from-<k>`). */
export const fileParts = (work: string, parts: number) => new Parts(parts, (k) => new FilesFrom(path.join(work, `files-from-${k}`)));
