/** The pieces every status row is made of (index.ts and snapshot-local.ts share them). */
import type { Run } from '../../model/history.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import type { RunSummary, StatusRow } from './index.js';

export const isSuccess = (r: Run) => r.status === 'ok' || r.status === 'warning';
export const endOf = (r: Run) => r.end ?? r.start;

export function summarize(r: Run | undefined): RunSummary | undefined {
  if (!r) return undefined;
  return { run: r.run, status: r.status, start: r.start.toISOString(), ...(r.end ? { end: r.end.toISOString() } : {}), ...(r.error ? { error: r.error } : {}) };
}

export function rowBase(app: ResolvedApp, tier: StatusRow['tier'], backupServer?: string) {
  return {
    app: app.name,
    tier,
    server: app.server,
    vm: app.vm,
    relpath: app.relpath,
    ...(backupServer ? { backupServer } : {}),
    paused: app.status === 'paused',
    staleAfterS: Math.round(app.staleAfterMs / 1000),
    shrinkThreshold: app.shrinkThreshold,
  };
}

export function sizes(r: Run | undefined) {
  if (!r) return {};
  return {
    files: r.files,
    mb: r.mb,
    bytes: r.bytes ?? (r.mb !== undefined ? Math.round(r.mb * 1e6) : undefined),
    durationS: r.durationS,
  };
}

