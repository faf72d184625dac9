/**
 * Sessions and sign-in throttling of the web interface, in memory (a restart signs everyone out).
 * Session ids are 32 random bytes; the cookie holds only that id. Failed sign-ins are counted per
 * account and per address: from the fifth failure on, each further attempt waits twice as long
 * (1 s, 2 s, ... up to 15 min) before it is even checked.
 */
import { randomBytes } from 'node:crypto';

export interface Session {
  id: string;
  user: string;
  expires: number;
}

export class Sessions {
  private readonly map = new Map<string, Session>();
  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  create(user: string): Session {
    const s = { id: randomBytes(32).toString('base64url'), user, expires: this.now() + this.ttlMs };
    this.map.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.map.get(id);
    if (!s) return undefined;
    if (s.expires <= this.now()) {
      this.map.delete(id);
      return undefined;
    }
    return s;
  }

  remove(id: string | undefined): void {
    if (id) this.map.delete(id);
  }

  /** Signs out every session of `user` (account removed or changed). */
  removeUser(user: string): void {
    for (const [id, s] of this.map) if (s.user === user) this.map.delete(id);
  }
}

export const FREE_ATTEMPTS = 4;
const MAX_WAIT_MS = 15 * 60_000;

interface Failures {
  count: number;
  until: number;
}

export class Throttle {
  private readonly map = new Map<string, Failures>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds to wait before another attempt on any of `keys` is checked (0: now). */
  wait(keys: readonly string[]): number {
    const t = this.now();
    return Math.max(0, ...keys.map((k) => (this.map.get(k)?.until ?? 0) - t));
  }

  fail(keys: readonly string[]): void {
    const t = this.now();
    for (const k of keys) {
      const f = this.map.get(k) ?? { count: 0, until: 0 };
      f.count++;
      if (f.count > FREE_ATTEMPTS) f.until = t + Math.min(MAX_WAIT_MS, 1000 * 2 ** (f.count - FREE_ATTEMPTS - 1));
      this.map.set(k, f);
    }
    if (this.map.size > 100_000) for (const [k, f] of this.map) if (f.until < t) this.map.delete(k);
  }

  succeed(keys: readonly string[]): void {
    for (const k of keys) this.map.delete(k);
  }
}
