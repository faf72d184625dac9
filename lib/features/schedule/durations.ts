/**
 * How long each app's job takes, from the history this machine can see: the median duration of
 * its last successful job runs (local tier, or the copies pulled onto a backup server). Apps whose
 * history is not visible here are left out; the schedule layout counts them with an estimate.
 */
import type { Site } from '../../model/inventory/model.js';
import { scanMachine, type MachineOptions } from '../../model/machine.js';
import { appHistory } from '../../model/runs.js';

/** How many recent successful runs the median is taken over. */
export const DURATION_RUNS = 10;

/** Seconds per app name, for the active apps of `server`. */
export async function recentJobDurations(site: Site, server: string, opts: MachineOptions & { now?: Date } = {}): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  // One scan of the machine for all the apps, not one per app.
  let view;
  try {
    view = await scanMachine(site, opts);
  } catch {
    return out; // nothing readable here: the layout estimates every app
  }
  for (const app of site.apps) {
    if (app.server !== server || app.status !== 'active') continue;
    let secs: number[];
    try {
      const h = await appHistory(site, app.name, { ...opts, view, since: '60d', pulls: false });
      secs = h.entries.filter((e) => e.kind === 'job' && e.status === 'ok' && e.durationS !== undefined).map((e) => e.durationS!);
    } catch {
      continue; // unreadable here: the layout estimates it
    }
    const last = secs.slice(-DURATION_RUNS).sort((a, b) => a - b);
    if (last.length === 0) continue;
    const mid = Math.floor(last.length / 2);
    out.set(app.name, last.length % 2 ? last[mid]! : (last[mid - 1]! + last[mid]!) / 2);
  }
  return out;
}
