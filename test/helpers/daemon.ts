/** What the database helpers (mariadb.ts, postgres.ts) share: a server process in its own temp folder. */
import { rm } from 'node:fs/promises';
import type { ResultPromise } from 'execa';

/** A real database server on loopback for tests. */
export interface DbServer {
  dir: string;
  port: number;
  host: '127.0.0.1';
  /** Runs SQL as the superuser over the socket; returns the rows as text, without headers. */
  sql(query: string, db?: string): Promise<string>;
  /** Creates a database and a user with all rights on it. */
  createDb(db: string, user: string, password: string): Promise<void>;
  /** Stops the server cleanly and removes its folder. */
  stop(): Promise<void>;
  /** Kills the server (fault injection: "database down"); stop() still cleans up. */
  kill(): Promise<void>;
}

export interface Daemon {
  /** False once the process has exited. */
  alive(): boolean;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Watches a started server: stop() sends `stopSignal` (its clean shutdown) and removes `dir`. */
export function watchDaemon(proc: ResultPromise, dir: string, stopSignal: NodeJS.Signals): Daemon {
  let alive = true;
  void proc.then(() => {
    alive = false;
  });
  const end = async (signal: NodeJS.Signals) => {
    if (alive) {
      proc.kill(signal);
      await proc;
    }
  };
  return {
    alive: () => alive,
    stop: async () => {
      await end(stopSignal);
      await rm(dir, { recursive: true, force: true });
    },
    kill: () => end('SIGKILL'),
  };
}
