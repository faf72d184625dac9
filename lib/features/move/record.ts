/**
 * Writing an app's move record (`<vm tree>/_moves/<app>`, docs/convention.md#move-records) during a
 * move, so that the record travels with the app: renamed with it on the same server, copied with it
 * to another server. Reading it: lib/model/places.ts.
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../model/layout.js';
import { ensureDir, exists } from '../../base/fsutil.js';
import { hostName } from '../../model/history.js';
import type { AppMove } from './types.js';
import { appendMoveRecord, type MoveRecord } from '../../model/places.js';

function recordOf(move: AppMove, at: Date): MoveRecord {
  const { server, vm, relpath, partition } = move.from;
  const to = move.to;
  return { at, app: move.app, from: { server, vm, relpath, partition }, to: { server: to.server, vm: to.vm, relpath: to.relpath, partition: to.partition }, host: hostName() };
}

/** The app's move record file at a place on the local tier. */
export function moveRecordAt(p: { partition: string; vm: string }, app: string): string {
  return C.moveRecordPath(C.localVmDir(p.partition, p.vm), app);
}

/**
 * Same server: moves the record to the new VM's tree (it holds every earlier move, so it replaces
 * any older copy there) and appends this move. Idempotent.
 */
export async function recordRename(move: AppMove, at: Date): Promise<string> {
  const from = moveRecordAt(move.from, move.app);
  const to = moveRecordAt(move.to, move.app);
  if (from !== to && (await exists(from))) {
    await ensureDir(path.dirname(to));
    await rename(from, to);
  }
  await appendMoveRecord(to, recordOf(move, at));
  return to;
}

/**
 * Other server: appends this move to the record here, hands it to `ship` (which copies it to the
 * same path under the new server's VM tree, replacing an older copy), then removes it here.
 * Idempotent: run again after an interruption, it ships the same record.
 */
export async function recordTransfer(move: AppMove, at: Date, ship: (file: string, toDir: string) => Promise<void>): Promise<void> {
  const here = moveRecordAt(move.from, move.app);
  await appendMoveRecord(here, recordOf(move, at));
  await ship(here, path.posix.dirname(moveRecordAt(move.to, move.app)));
  await rm(here);
}
