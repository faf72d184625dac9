/**
 * The runs in progress a status report knows of, one entry per run (rows share them: every app of
 * a server shows the same pull). Where each kind is visible: docs/monitoring.md#running-runs.
 */
import type { StatusRow } from './index.js';

export interface RunningRun {
  kind: 'job' | 'pull' | 'offsite' | 'verify';
  /** The app (jobs, drills); absent for pulls and offsite copies, which are per server. */
  app?: string | undefined;
  /** The application server the run is about. */
  server: string;
  /** The backup server running it (pulls, offsite copies, remote drills). */
  backupServer?: string | undefined;
  /** Offsite copies: "usb" or the rclone target. */
  target?: string | undefined;
  tier: 'local' | 'remote' | 'offsite';
  start: string;
}

/** The distinct runs in progress behind a report's rows, oldest first. */
export function runningRuns(rows: readonly StatusRow[]): RunningRun[] {
  const out = new Map<string, RunningRun>();
  const add = (key: string, r: RunningRun) => {
    if (!out.has(key)) out.set(key, r);
  };
  for (const row of rows) {
    if (row.running && row.runningSince) {
      if (row.tier === 'local') add(`job:${row.app}`, { kind: 'job', app: row.app, server: row.server, tier: 'local', start: row.runningSince });
      else if (row.tier === 'remote') add(`pull:${row.backupServer}:${row.server}`, { kind: 'pull', server: row.server, backupServer: row.backupServer, tier: 'remote', start: row.runningSince });
      else add(`offsite:${row.backupServer}:${row.target}:${row.server}`, { kind: 'offsite', server: row.server, backupServer: row.backupServer, target: row.target, tier: 'offsite', start: row.runningSince });
    }
    if (row.drillRunningSince && row.tier !== 'offsite') {
      add(`verify:${row.tier}:${row.backupServer ?? ''}:${row.app}`, { kind: 'verify', app: row.app, server: row.server, ...(row.backupServer ? { backupServer: row.backupServer } : {}), tier: row.tier, start: row.drillRunningSince });
    }
  }
  return [...out.values()].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}
