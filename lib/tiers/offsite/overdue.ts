/** The USB drive in service that is overdue to be swapped, as `status` shows it (docs/offsite.md#status). */
import { formatDuration } from '../../base/duration.js';
import type { ResolvedBackupServer, Site } from '../../model/inventory/model.js';
import { rooted } from '../../model/machine.js';
import { offsiteSettings } from './common.js';
import { listDrives } from './usb.js';

export interface OverdueDrive {
  label: string;
  inServiceMs: number;
  swapAfterMs: number;
  /** In words, for the status row. */
  reason: string;
}

/** The drive in service on `backupServer` when it has been written for longer than `offsite.swap_after`, else undefined. */
export async function overdueDrive(site: Site, backupServer: ResolvedBackupServer, root: string, now: Date): Promise<OverdueDrive | undefined> {
  const drives = await listDrives(site, { ...backupServer, partition: rooted(root, backupServer.partition) }, { now });
  const d = drives.find((x) => x.overdue);
  if (!d || d.inServiceMs === undefined) return undefined;
  const { swapAfterMs } = offsiteSettings(site);
  return {
    label: d.label,
    inServiceMs: d.inServiceMs,
    swapAfterMs,
    reason: `drive ${d.label} has been in service for ${formatDuration(d.inServiceMs)}, longer than offsite.swap_after (${formatDuration(swapAfterMs)}): take it offsite and plug in another`,
  };
}
