/**
 * A site of several backup servers for the site view: each "backup server" is its own partition
 * under one root, with crafted snapshots and pull history laid out as pulls write them, and (but
 * for the one the test runs on) a real sshd on loopback in front of it.
 */
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import * as C from '../../lib/model/layout.js';
import * as N from '../../lib/model/names.js';
import { rooted } from '../../lib/model/machine.js';
import { writeRun } from './history-site.js';

export const APPS_VM = 'web';

/** A snapshot of `server` on backup partition `bk`, made current; returns its job history dir for `vm`. */
export async function snapshotOf(root: string, bk: string, server: string, at: Date, vm = APPS_VM): Promise<string> {
  const stamp = N.snapshotStamp(at);
  const snap = rooted(root, C.snapshotDir(bk, server, stamp));
  await mkdir(path.join(snap, vm, '_history'), { recursive: true });
  await mkdir(rooted(root, C.remoteRoot(bk)), { recursive: true });
  await symlink(C.currentLinkTarget(server, stamp), rooted(root, C.remoteServerDir(bk, server)));
  return rooted(root, C.remoteJobHistoryDir(bk, server, vm));
}

/** A successful pull of `server` by the backup server on partition `bk`, ending 10 minutes after `at`. */
export async function pulled(root: string, bk: string, server: string, at: Date, status: 'ok' | 'failed' = 'ok'): Promise<void> {
  await writeRun(rooted(root, C.serverHistoryDir(bk)), { name: N.pullHistoryName(server), kind: 'pull', tier: 'remote', start: at, minutes: 10, status, ...(status === 'failed' ? { error: 'rsync exited with code 12' } : {}) });
}

/** A job run of `app` as its server's history records it (in a snapshot's copy here). */
export async function jobRan(dir: string, app: string, at: Date, mb = 10): Promise<void> {
  await writeRun(dir, { name: app, start: at, minutes: 5, files: 100, mb });
}
