/**
 * A real MariaDB server for tests: its own data dir, socket and loopback port, started as root
 * (`--user=root`), stopped and removed by stop(). Root logs in over the socket without password;
 * create users with passwords for the code under test.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { watchDaemon, type DbServer } from './daemon.js';
import { freePort, waitFor } from './net.js';

export interface MariaDb extends DbServer {
  socket: string;
}

export async function startMariaDb(): Promise<MariaDb> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tierback-mariadb-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const port = await freePort();
  await execa('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db'], { reject: true });
  const server: ResultPromise = execa(
    'mariadbd',
    ['--no-defaults', `--datadir=${data}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', '--user=root', `--pid-file=${path.join(dir, 'mysqld.pid')}`, `--log-error=${path.join(dir, 'error.log')}`, '--skip-name-resolve', '--innodb-buffer-pool-size=32M', '--skip-log-bin'],
    { reject: false, stdio: 'ignore' },
  );
  const daemon = watchDaemon(server, dir, 'SIGTERM');
  const client = (args: string[], input?: string) => execa('mariadb', ['--no-defaults', `--socket=${socket}`, '-uroot', '-N', '-B', ...args], { reject: true, ...(input ? { input } : {}) });
  await waitFor(async () => daemon.alive() && (await execa('mariadb-admin', ['--no-defaults', `--socket=${socket}`, '-uroot', 'ping'], { reject: false })).exitCode === 0, 'MariaDB to start');
  return {
    dir,
    socket,
    port,
    host: '127.0.0.1',
    async sql(query, db) {
      return String((await client([...(db ? [db] : []), '-e', query])).stdout);
    },
    async createDb(db, user, password) {
      const esc = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
      await client([], `CREATE DATABASE IF NOT EXISTS \`${db}\`;\nCREATE USER IF NOT EXISTS '${esc(user)}'@'%' IDENTIFIED BY '${esc(password)}';\nCREATE USER IF NOT EXISTS '${esc(user)}'@'localhost' IDENTIFIED BY '${esc(password)}';\nGRANT ALL ON \`${db}\`.* TO '${esc(user)}'@'%';\nGRANT ALL ON \`${db}\`.* TO '${esc(user)}'@'localhost';\nGRANT PROCESS, RELOAD ON *.* TO '${esc(user)}'@'%';\nGRANT PROCESS, RELOAD ON *.* TO '${esc(user)}'@'localhost';\n`);
    },
    stop: daemon.stop,
    kill: daemon.kill,
  };
}

/** Writes a password file (0600) for job options such as password_file. */
export async function passwordFile(dir: string, name: string, password: string): Promise<string> {
  const f = path.join(dir, name);
  await writeFile(f, `${password}\n`, { mode: 0o600 });
  return f;
}
