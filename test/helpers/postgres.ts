/**
 * A real PostgreSQL 15 server for tests: initdb and postgres run with the postgres user's uid/gid in a temp
 * data dir, listening on a free loopback port and a private socket dir; scram passwords over
 * TCP, trust over the socket for the test's own superuser access. stop() shuts it down and
 * removes everything.
 */
import { chown, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { watchDaemon, type DbServer } from './daemon.js';
import { freePort, waitFor } from './net.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface Postgres extends DbServer {
  socketDir: string;
}

async function pgUser(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([execa('id', ['-u', 'postgres']), execa('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

export async function startPostgres(): Promise<Postgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-pg-'));
  const { uid, gid } = await pgUser();
  await chown(dir, uid, gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  // Spawned with the postgres user's uid/gid (what runuser does), so signals reach the server itself.
  const asPg = { uid, gid, env: { HOME: dir }, cwd: dir };
  await execa(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], { reject: true, ...asPg });
  const server: ResultPromise = execa(path.join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'shared_buffers=16MB'], { reject: false, stdio: 'ignore', ...asPg });
  const daemon = watchDaemon(server, dir, 'SIGINT');
  await waitFor(async () => daemon.alive() && (await execa(path.join(PG_BIN, 'pg_isready'), ['-h', dir, '-p', String(port)], { reject: false })).exitCode === 0, 'PostgreSQL to start');
  const psql = (args: string[], input?: string) => execa('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-At', ...args], { reject: true, ...(input ? { input } : {}) });
  return {
    dir,
    socketDir: dir,
    port,
    host: '127.0.0.1',
    async sql(query, db = 'postgres') {
      return String((await psql(['-d', db, '-c', query])).stdout);
    },
    async createDb(db, user, password) {
      await psql(['-d', 'postgres'], `CREATE ROLE "${user}" LOGIN PASSWORD '${password.replace(/'/g, "''")}';\nCREATE DATABASE "${db}" OWNER "${user}";\n`);
    },
    stop: daemon.stop,
    kill: daemon.kill,
  };
}
