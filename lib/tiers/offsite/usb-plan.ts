/**
 * `tierback offsite usb --dry-run`: what a copy to the drive would do, per server, with the checks
 * of the drive the real copy makes (openDrive with writing off) and its rsync argv. Reads only.
 */
import path from 'node:path';
import { driveLabelPath, historyFilePath, partialSnapshotDir, remoteServerDir, serverHistoryDir, snapshotDir } from '../../model/layout.js';
import { offsiteHistoryName } from '../../model/names.js';
import { dayOf } from '../../model/history.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import { currentStamp, readSnapshotState } from '../snapshots/snapshots.js';
import { offsiteSettings, selectOffsiteServers } from './common.js';
import { driveRsyncArgv, openDrive, type DriveLabel, type UsbOptions } from './usb.js';

export interface UsbServerPlan {
  server: string;
  /** The snapshot that would be copied (the server's current one here); undefined: none yet (the copy would fail). */
  snapshot: string | undefined;
  action: 'copy' | 'switch-only' | 'unchanged' | 'no-snapshot';
  /** The `.partial` written (resuming an interrupted one), the copy's argv, the link switched, the old copies removed. */
  partial?: string | undefined;
  resumes?: string | undefined;
  argv?: string[] | undefined;
  currentLink?: string | undefined;
  removes: string[];
}

export interface UsbPlan {
  dryRun: true;
  mount: string;
  drive: DriveLabel;
  /** The drive has no label yet: this label file would be written. */
  labels: string | undefined;
  historyFile: string;
  servers: UsbServerPlan[];
}

export async function planUsb(site: Site, backupServer: ResolvedBackupServer, mount: string, opts: Omit<UsbOptions, 'log' | 'exec' | 'signal'>): Promise<UsbPlan> {
  const settings = offsiteSettings(site);
  const now = (opts.now ?? (() => new Date()))();
  const partition = backupServer.partition;
  const keep = opts.keep ?? settings.driveKeep;
  const mountAbs = path.resolve(mount);
  const { drive, created } = await openDrive(mountAbs, { init: opts.init, label: opts.label, now, allowNotMountpoint: opts.allowNotMountpoint, dryRun: true });
  const servers: UsbServerPlan[] = [];
  for (const server of selectOffsiteServers(site, backupServer, opts.servers, settings.servers)) {
    const stamp = await currentStamp(partition, server);
    if (!stamp) {
      servers.push({ server, snapshot: undefined, action: 'no-snapshot', removes: [] });
      continue;
    }
    const state = await readSnapshotState(mountAbs, server);
    if (state.current === stamp) {
      servers.push({ server, snapshot: stamp, action: 'unchanged', removes: [] });
      continue;
    }
    const has = state.complete.includes(stamp);
    const stale = [...state.partials];
    const resumes = has ? undefined : stale.pop();
    const linkStamp = state.complete.at(-1);
    const partial = partialSnapshotDir(mountAbs, server, stamp);
    const complete = [...new Set([...state.complete, stamp])].sort();
    const old = complete.filter((s) => s !== stamp).slice(0, Math.max(0, complete.length - keep));
    servers.push({
      server,
      snapshot: stamp,
      action: has ? 'switch-only' : 'copy',
      ...(has ? {} : { partial, resumes, argv: driveRsyncArgv(snapshotDir(partition, server, stamp), partial, linkStamp ? snapshotDir(mountAbs, server, linkStamp) : undefined) }),
      currentLink: remoteServerDir(mountAbs, server),
      removes: [...(has ? [] : stale.map((s) => partialSnapshotDir(mountAbs, server, s))), ...old.map((s) => snapshotDir(mountAbs, server, s))],
    });
  }
  return {
    dryRun: true,
    mount: mountAbs,
    drive,
    labels: created ? driveLabelPath(mountAbs) : undefined,
    historyFile: historyFilePath(serverHistoryDir(partition), offsiteHistoryName(`usb-${drive.label}`), dayOf(now, site.timezone)),
    servers,
  };
}

export function formatUsbPlan(p: UsbPlan): string {
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines = [`dry run: nothing is written to drive ${p.drive.label} at ${p.mount}`];
  if (p.labels) lines.push(`  would label the drive: ${p.labels}`);
  lines.push(`  history: ${p.historyFile}`);
  for (const s of p.servers) {
    if (s.action === 'no-snapshot') lines.push(`${s.server}: no complete snapshot here yet (the copy would fail)`);
    else if (s.action === 'unchanged') lines.push(`${s.server}: ${s.snapshot} already on the drive`);
    else {
      lines.push(`${s.server}: ${s.action === 'copy' ? `would copy ${s.snapshot} into ${s.partial}${s.resumes ? ` (resuming ${s.resumes}.partial)` : ''}` : `${s.snapshot} is on the drive: would only switch to it`}`);
      if (s.argv) lines.push(`     ${s.argv.map(q).join(' ')}`);
      lines.push(`  would switch ${s.currentLink} -> ${s.snapshot}`);
    }
    for (const r of s.removes) lines.push(`  would remove ${r}`);
  }
  return lines.join('\n');
}
