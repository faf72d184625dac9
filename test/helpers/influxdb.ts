/** A real InfluxDB 1.x (Debian's `influxdb`) on loopback with a temporary data dir, for tests. */
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './net.js';

export interface Influx {
  url: string;
  query(q: string, db?: string): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startInflux(): Promise<Influx> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-influx-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'influxdb.conf');
  await writeFile(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`,
  );
  const proc: ResultPromise = execa('influxd', ['-config', conf], { reject: false, stdio: ['ignore', 'ignore', 'pipe'], cleanup: true });
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await proc;
    clearTimeout(t);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/ping`);
      if (r.status === 204) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop();
      throw new Error(`influxd did not start: ${String((await proc).stderr).slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const query = async (q: string, db?: string) => {
    const u = new URL('/query', url);
    if (db) u.searchParams.set('db', db);
    u.searchParams.set('q', q);
    const r = await fetch(u, { method: 'POST' });
    return r.json();
  };
  return { url, query, stop };
}
