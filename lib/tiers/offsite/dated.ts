/**
 * The "dated" layout of an rclone target (docs/offsite.md#dated-layout): each push of a server goes
 * to `<server>/<yyyymmdd>/` (the push day in the site's timezone), and after each successful push
 * tierback itself removes the server's day folders older than `keep_days`, by age (no lifecycle
 * rules needed, so it works on any rclone backend).
 */
import { offsiteDatedKey } from '../../model/layout.js';
import type { Exec } from '../../base/exec.js';
import { dayOf } from '../../model/history.js';
import { joinRemote, listRemoteSnapshots, rcloneArgv, type RcloneTarget } from './rclone.js';

/** The key folder of a copy pushed at `at`. */
export function datedKey(server: string, at: Date, timeZone: string): string {
  return offsiteDatedKey(server, dayOf(at, timeZone));
}

/**
 * Pure: which of `days` (yyyymmdd) are older than `keepDays` at `at`: a day goes when it is before
 * the day `keepDays` days ago (so `keep_days: 30` keeps today and the 30 days before). `keep`
 * (the copy just written) is never expired.
 */
export function expiredDays(days: readonly string[], at: Date, keepDays: number, timeZone: string, keep?: string): string[] {
  const cutoff = dayOf(new Date(at.getTime() - keepDays * 86_400_000), timeZone);
  return days.filter((d) => d < cutoff && d !== keep).sort();
}

/** Removes the expired day folders of `server` on a dated target (after a successful push at `at`). Returns the days removed. */
export async function pruneDated(exec: Exec, target: RcloneTarget, server: string, at: Date, timeZone: string): Promise<string[]> {
  const copies = (await listRemoteSnapshots(exec, target)).filter((s) => s.server === server);
  const newestComplete = copies.filter((s) => s.complete).at(-1)?.stamp;
  const gone = expiredDays([...new Set(copies.map((s) => s.stamp))], at, target.keepDays, timeZone, newestComplete);
  for (const day of gone) await exec.run({ argv: rcloneArgv(target.config, 'purge', '--', joinRemote(target.remote, server, day)) });
  return gone;
}
