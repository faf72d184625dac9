/** InfluxDB line protocol events for finished jobs and pulls, sent to the HTTP /write endpoint. */
import { readFile } from 'node:fs/promises';
import type { HistoryRecord } from '../../model/history.js';
import type { Monitoring } from '../../model/inventory/schema.js';

type InfluxConfig = NonNullable<Monitoring['influxdb']>;

const tag = (v: string) => v.replace(/[,= \\]/g, (c) => `\\${c}`).replace(/\n/g, ' ');
const str = (v: string) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, ' ')}"`;

/** One event line: tags app/name, kind, tier, status, host; fields ok, files, mb, bytes, duration_s, transferred_mb, error. */
export function influxLine(measurement: string, r: HistoryRecord): string {
  const tags: [string, string | undefined][] = [
    ['name', r.name],
    ['kind', r.kind],
    ['tier', r.tier],
    ['status', r.status],
    ['host', r.host],
    ['type', r.type],
  ];
  const fields: string[] = [`ok=${r.status === 'ok' || r.status === 'warning' ? 'true' : 'false'}`];
  if (r.files !== undefined) fields.push(`files=${Math.round(r.files)}i`);
  if (r.mb !== undefined) fields.push(`mb=${r.mb}`);
  if (r.bytes !== undefined) fields.push(`bytes=${Math.round(r.bytes)}i`);
  if (r.durationS !== undefined) fields.push(`duration_s=${r.durationS}`);
  if (r.transferredMb !== undefined) fields.push(`transferred_mb=${r.transferredMb}`);
  if (r.error) fields.push(`error=${str(r.error)}`);
  if (r.warning) fields.push(`warning=${str(r.warning)}`);
  fields.push(`run=${str(r.run)}`);
  const t = (r.end ?? r.start).getTime();
  const tagText = tags.filter((x): x is [string, string] => !!x[1]).map(([k, v]) => `,${k}=${tag(v)}`).join('');
  return `${measurement}${tagText} ${fields.join(',')} ${t}`;
}

/** The /write URL (precision ms). */
export function influxWriteUrl(cfg: InfluxConfig): string {
  const u = new URL('write', cfg.url.endsWith('/') ? cfg.url : `${cfg.url}/`);
  u.searchParams.set('db', cfg.db);
  u.searchParams.set('precision', 'ms');
  return u.toString();
}

async function secret(env: NodeJS.ProcessEnv, name: string | undefined, file: string | undefined): Promise<string | undefined> {
  if (name && env[name]) return env[name];
  if (file) return (await readFile(file, 'utf8')).trim();
  return undefined;
}

/** Authorization header from the configured env var or file (never stored, never logged). */
export async function influxAuthHeader(cfg: InfluxConfig, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const token = await secret(env, cfg.token_env, cfg.token_file);
  if (token) return `Token ${token}`;
  if (cfg.username) {
    const pw = (await secret(env, cfg.password_env, cfg.password_file)) ?? '';
    return `Basic ${Buffer.from(`${cfg.username}:${pw}`).toString('base64')}`;
  }
  return undefined;
}
