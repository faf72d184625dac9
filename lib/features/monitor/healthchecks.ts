/** Healthchecks-style pings (healthchecks.io and compatible): <url>/start, <url> on success, <url>/fail. */
import type { HistoryRecord } from '../../model/history.js';
import type { Monitoring } from '../../model/inventory/schema.js';

type HcConfig = NonNullable<Monitoring['healthchecks']>;

/** The configured ping URL of a record: per app for jobs, per pulled server for pulls. */
export function pingBase(cfg: HcConfig | undefined, r: HistoryRecord): string | undefined {
  if (!cfg) return undefined;
  if (r.kind === 'pull') return cfg.pulls[r.name.replace(/^pull-/, '')];
  return cfg.apps[r.name];
}

export type PingEvent = 'start' | 'success' | 'fail';

export function pingUrl(base: string, event: PingEvent): string {
  const b = base.replace(/\/+$/, '');
  return event === 'success' ? b : `${b}/${event}`;
}

/** The request body: a short text the ping service shows next to the event. */
export function pingBody(r: HistoryRecord): string {
  const parts = [`${r.kind} ${r.name} ${r.tier}: ${r.status}`];
  if (r.files !== undefined) parts.push(`files=${r.files}`);
  if (r.mb !== undefined) parts.push(`mb=${r.mb}`);
  if (r.durationS !== undefined) parts.push(`duration_s=${r.durationS}`);
  if (r.error) parts.push(`error: ${r.error}`);
  if (r.warning) parts.push(`warning: ${r.warning}`);
  return parts.join('\n');
}

export function eventOf(r: HistoryRecord): PingEvent {
  return r.status === 'running' ? 'start' : r.status === 'failed' ? 'fail' : 'success';
}
