/**
 * Which backup servers pull which servers when the inventory says `pulls: auto`.
 *
 * Deterministic (every host computes the same answer from the same inventory), balanced by bytes
 * and stable: each server ranks the backup servers by weighted rendezvous hashing (highest random
 * weight, weighted by `capacity`), and servers, largest first, take their best-ranked backup servers
 * that stay within a bound of their fair share of the bytes (consistent hashing with bounded loads).
 * Adding a backup server moves about the share it takes over, not a reshuffle of everything.
 *
 * Sizes come from the inventory (`servers[].size`, else an estimate per active app), never from a
 * machine's history, so that every backup server places the same way; `inventory show` compares
 * them with the sizes the pull history measured where it can see it.
 */
import { createHash } from 'node:crypto';

/** Bytes in a size such as "300G", "1.5T", "800M" (powers of 1000, like `du --si`); undefined when not one. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTP]?)B?$/i.exec(text.trim());
  if (!m) return undefined;
  const exp = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5 }[m[2]!.toUpperCase() as '' | 'K'];
  return Math.round(Number(m[1]) * 1000 ** exp);
}

/** How far over its fair share (by bytes) a backup server may be filled before the next-ranked one is taken. */
export const LOAD_BOUND = 1.06;

export interface PlacementServer {
  fqdn: string;
  copies: number;
  bytes: number;
  /** Backup servers that pull it by a hand-written list. */
  manual: readonly string[];
}

export interface PlacementBackup {
  server: string;
  /** Takes part in automatic placement. */
  auto: boolean;
  /** Relative weight (capacity in bytes, or 1 each). */
  weight: number;
}

export interface Placement {
  /** Backup server -> servers placed on it automatically, in placement order. */
  assigned: Map<string, string[]>;
  /** Backup server -> bytes it pulls (hand-written and placed). */
  bytes: Map<string, number>;
  /** Servers that could not get all their copies (too few backup servers in the pool). */
  short: { server: string; copies: number; pulledBy: number }[];
}

/** A uniform number in (0,1) from a server and a backup server name. */
function unit(server: string, backup: string): number {
  const h = createHash('sha256').update(`${server}\0${backup}`).digest();
  return (h.readUIntBE(0, 6) + 0.5) / 2 ** 48;
}

/** Weighted rendezvous score: higher is preferred. */
export function rendezvousScore(server: string, backup: string, weight: number): number {
  return -weight / Math.log(unit(server, backup));
}

/** Fixed rounds of multiplicative weight updates from the capacity weights (deterministic). */
function tuneWeights(
  todo: readonly { s: PlacementServer; need: number }[],
  pool: readonly PlacementBackup[],
  manualBytes: ReadonlyMap<string, number>,
  fair: ReadonlyMap<string, number>,
): Map<string, number> {
  let w = new Map(pool.map((b) => [b.server, b.weight]));
  const scores = todo.map(({ s }) => pool.filter((b) => b.server !== s.fqdn && !s.manual.includes(b.server)).map((b) => ({ b: b.server, u: -1 / Math.log(unit(s.fqdn, b.server)) })));
  // Keep the weights of the round closest to the fair shares (the updates on a discrete assignment can oscillate).
  let best = { w, off: Infinity };
  for (let round = 0; round <= TUNE_ROUNDS; round++) {
    const load = new Map(pool.map((b) => [b.server, manualBytes.get(b.server) ?? 0]));
    todo.forEach(({ s, need }, i) => {
      const top = scores[i]!.map((x) => ({ b: x.b, v: x.u * w.get(x.b)! })).sort((x, y) => y.v - x.v).slice(0, need);
      for (const t of top) load.set(t.b, load.get(t.b)! + s.bytes);
    });
    const off = Math.max(...pool.map((b) => Math.abs(load.get(b.server)! / fair.get(b.server)! - 1)));
    if (off < best.off) best = { w, off };
    w = new Map(pool.map((b) => [b.server, w.get(b.server)! * (fair.get(b.server)! / Math.max(1, load.get(b.server)!)) ** TUNE_STEP]));
  }
  return best.w;
}

const TUNE_ROUNDS = 60;
const TUNE_STEP = 0.3;

export function place(servers: readonly PlacementServer[], backups: readonly PlacementBackup[]): Placement {
  const pool = backups.filter((b) => b.auto);
  const assigned = new Map<string, string[]>(pool.map((b) => [b.server, []]));
  const bytes = new Map<string, number>(backups.map((b) => [b.server, 0]));
  for (const s of servers) for (const m of s.manual) bytes.set(m, (bytes.get(m) ?? 0) + s.bytes);
  const short: Placement['short'] = [];
  const todo = servers
    .map((s) => ({ s, need: Math.max(0, s.copies - s.manual.length) }))
    .filter((x) => x.need > 0)
    // Largest first, so the bound is met with small servers filling the gaps; names break ties.
    .sort((a, b) => b.s.bytes - a.s.bytes || (a.s.fqdn < b.s.fqdn ? -1 : 1));
  const totalWeight = pool.reduce((n, b) => n + b.weight, 0);
  const autoBytes = todo.reduce((n, x) => n + x.s.bytes * x.need, 0) + pool.reduce((n, b) => n + (bytes.get(b.server) ?? 0), 0);
  const fair = new Map(pool.map((b) => [b.server, (autoBytes * b.weight) / (totalWeight || 1)]));
  // Rendezvous weights tuned so that plain ranking already comes close to the fair shares: the
  // bound below then rarely has to push a server off its first choice, which keeps moves few.
  const weights = tuneWeights(todo, pool, bytes, fair);
  for (const { s, need } of todo) {
    // A backup server never holds the only copies of itself, nor a second copy of a server.
    const ranked = pool
      .filter((b) => b.server !== s.fqdn && !s.manual.includes(b.server))
      .map((b) => ({ b, score: rendezvousScore(s.fqdn, b.server, weights.get(b.server)!) }))
      .sort((x, y) => y.score - x.score);
    const chosen: string[] = [];
    for (let k = 0; k < need; k++) {
      const left = ranked.filter((r) => !chosen.includes(r.b.server));
      if (left.length === 0) break;
      const within = left.find((r) => (bytes.get(r.b.server) ?? 0) + s.bytes <= LOAD_BOUND * fair.get(r.b.server)!);
      // All over their bound: the one least filled relative to its share.
      const pick =
        within ??
        left.reduce((best, r) => ((bytes.get(r.b.server) ?? 0) / fair.get(r.b.server)! < (bytes.get(best.b.server) ?? 0) / fair.get(best.b.server)! ? r : best));
      chosen.push(pick.b.server);
      bytes.set(pick.b.server, (bytes.get(pick.b.server) ?? 0) + s.bytes);
      assigned.get(pick.b.server)!.push(s.fqdn);
    }
    if (chosen.length < need) short.push({ server: s.fqdn, copies: s.copies, pulledBy: s.manual.length + chosen.length });
  }
  return { assigned, bytes, short };
}
