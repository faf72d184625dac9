/** Cross-field rules of the inventory: run after the schema check, report every problem. */
import { HOST_VM } from '../model/names.js';
import type { InventoryProblem } from '../base/errors.js';
import { findJobType, jobTypes } from '../tiers/jobs/registry.js';
import { DEFAULT_TRANSFERS, closest } from '../model/inventory/model.js';

/** The inventory as parsed YAML, before or after the schema: every field is checked before use. */
type Loose = Record<string, unknown>;
const list = (v: unknown): Loose[] => (Array.isArray(v) ? v.map((x) => (x && typeof x === 'object' ? (x as Loose) : {})) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function problem(path: string, message: string, hint?: string, subject?: string): InventoryProblem {
  return { path, message, ...(hint ? { hint } : {}), ...(subject ? { subject } : {}) };
}

function didYouMean(wrong: string, candidates: readonly string[], fallback: string): string {
  const best = closest(wrong, candidates);
  return best ? `did you mean "${best}"?` : fallback;
}

interface PlacedApp {
  index: number;
  relpath: string;
  name: string;
}

/** The relpaths already seen in one VM (or on one server directly): by relpath, and by each proper ancestor. */
interface Placed {
  exact: Map<string, PlacedApp>;
  below: Map<string, PlacedApp[]>;
}

/** The proper ancestors of a relpath: "a/b/c" -> "a", "a/b". */
function ancestors(relpath: string): string[] {
  const out: string[] = [];
  for (let i = relpath.indexOf('/'); i !== -1; i = relpath.indexOf('/', i + 1)) out.push(relpath.slice(0, i));
  return out;
}

/**
 * Records an app's relpath in its VM and returns its clashes with the apps placed before it: the
 * same relpath, or one folder inside the other. Lookups by relpath and by ancestor keep this
 * O(depth) per app (the check of 100k apps takes well under a second), instead of comparing every pair.
 * Each clash is reported once, on the later app, against the first app holding the clashing folder.
 */
function placeRelpath(places: Map<string, Placed>, key: string, a: PlacedApp, where: string, at: string): InventoryProblem[] {
  let placed = places.get(key);
  if (!placed) places.set(key, (placed = { exact: new Map(), below: new Map() }));
  const found: PlacedApp[] = [];
  const same = placed.exact.get(a.relpath);
  const up = ancestors(a.relpath);
  if (same) found.push(same);
  else {
    for (const p of up) {
      const o = placed.exact.get(p);
      if (o) found.push(o);
    }
    found.push(...(placed.below.get(a.relpath) ?? []));
    placed.exact.set(a.relpath, a);
    for (const p of up) {
      const list = placed.below.get(p);
      if (list) list.push(a);
      else placed.below.set(p, [a]);
    }
  }
  return found
    .sort((x, y) => x.index - y.index)
    .map((other) =>
      other.relpath === a.relpath
        ? problem(`${at}.relpath`, `"${a.relpath}" on ${where} is already used by app "${other.name}" (apps[${other.index}])`, 'two apps cannot share a backup folder: give one a different relpath', a.name)
        : problem(`${at}.relpath`, `"${a.relpath}" and "${other.relpath}" of app "${other.name}" (apps[${other.index}]) are nested`, 'one backup folder would contain the other: choose relpaths that are not prefixes of each other', a.name),
    );
}

/**
 * Cross-field rules. Runs on the raw parsed YAML too (fields of the wrong type are skipped: the
 * schema reports them), so that one check reports every problem of the file at once.
 */
export function crossFieldProblems(raw: unknown): InventoryProblem[] {
  const inv = (raw && typeof raw === 'object' ? raw : {}) as Loose;
  const invServers = list(inv['servers']);
  const invVms = list(inv['vms']);
  const invApps = list(inv['apps']);
  const invBackup = list(inv['backup_servers']);
  const out: InventoryProblem[] = [];
  const serverNames = invServers.map((s) => str(s['fqdn'])).filter((x): x is string => !!x);
  const servers = new Map<string, number>();
  invServers.forEach((s, i) => {
    const fqdn = str(s['fqdn']);
    if (fqdn === undefined) return;
    const seen = servers.get(fqdn);
    if (seen !== undefined) out.push(problem(`servers[${i}].fqdn`, `server "${fqdn}" is listed twice (also servers[${seen}])`, 'keep one entry per server', fqdn));
    else servers.set(fqdn, i);
  });

  const vms = new Map<string, { index: number; server: string }>();
  invVms.forEach((raw, i) => {
    const v = { name: str(raw['name']), server: str(raw['server']) };
    if (v.name === undefined) return;
    if (v.name === HOST_VM) {
      out.push(problem(`vms[${i}].name`, `"${HOST_VM}" is reserved for apps running directly on a server`, 'omit `vm:` on such apps instead of declaring this VM', v.name));
      return;
    }
    const seen = vms.get(v.name);
    if (seen) out.push(problem(`vms[${i}].name`, `VM "${v.name}" is listed twice (also vms[${seen.index}])`, 'VM names are unique in the site: rename one', v.name));
    else vms.set(v.name, { index: i, server: v.server ?? '' });
    if (v.server !== undefined && !servers.has(v.server)) {
      out.push(problem(`vms[${i}].server`, `unknown server "${v.server}"`, didYouMean(v.server, serverNames, 'add it to servers'), v.name));
    }
  });

  const appNames = new Map<string, number>();
  const places = new Map<string, Placed>();
  const typeNames = jobTypes.map((t) => t.name);
  invApps.forEach((raw, i) => {
    const at = `apps[${i}]`;
    const name = str(raw['name']);
    const a = {
      name: name ?? `apps[${i}]`,
      server: str(raw['server']),
      vm: str(raw['vm']),
      relpath: str(raw['relpath']),
      type: str(raw['type']),
      options: raw['options'] ?? {},
    };
    if (name !== undefined) {
      const seen = appNames.get(name);
      if (seen !== undefined) out.push(problem(`${at}.name`, `app name "${name}" is used twice (also apps[${seen}])`, 'app names are unique in the site', name));
      else appNames.set(name, i);
    }
    if (a.server !== undefined && !servers.has(a.server)) {
      out.push(problem(`${at}.server`, `unknown server "${a.server}"`, didYouMean(a.server, serverNames, 'add it to servers'), a.name));
    }
    const vm = a.vm ?? HOST_VM;
    if (vm !== HOST_VM) {
      const v = vms.get(vm);
      if (!v) {
        out.push(problem(`${at}.vm`, `unknown VM "${vm}"`, didYouMean(vm, [...vms.keys()], `add it to vms, or omit vm: if the app runs directly on ${a.server}`), a.name));
      } else if (a.server !== undefined && v.server !== a.server) {
        out.push(problem(`${at}.vm`, `VM "${vm}" runs on ${v.server}, not on ${a.server}`, `set server: ${v.server}, or move the VM in vms[${v.index}]`, a.name));
      }
    }

    if (a.relpath !== undefined) out.push(...placeRelpath(places, `${a.server ?? ''}\u0000${vm}`, { index: i, relpath: a.relpath, name: a.name }, vm === HOST_VM ? (a.server ?? '') : `VM ${vm}`, at));

    if (a.type === undefined) return;
    const type = findJobType(a.type);
    if (!type) {
      out.push(problem(`${at}.type`, `unknown job type "${a.type}"`, didYouMean(a.type, typeNames, `known types: ${typeNames.join(', ')}`), a.name));
    } else {
      const parsed = type.options.safeParse(a.options);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const sub = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
          out.push(problem(`${at}.options${sub}`, issue.message, `see docs/jobs/${a.type}.md for the options of this type`, a.name));
        }
      }
    }
  });

  const backupSeen = new Map<string, number>();
  const autoPool: string[] = [];
  const listed = new Set<string>();
  invBackup.forEach((raw, i) => {
    const at = `backup_servers[${i}]`;
    const b = { server: str(raw['server']) ?? '', pulls: Array.isArray(raw['pulls']) ? (raw['pulls'] as unknown[]) : [] };
    if (raw['pulls'] === 'auto' && b.server) autoPool.push(b.server);
    if (!b.server) return;
    const seen = backupSeen.get(b.server);
    if (seen !== undefined) out.push(problem(`${at}.server`, `backup server "${b.server}" is listed twice (also backup_servers[${seen}])`, 'merge the two entries', b.server));
    else backupSeen.set(b.server, i);
    const own = servers.get(b.server);
    if (own === undefined) {
      out.push(problem(`${at}.server`, `unknown server "${b.server}"`, didYouMean(b.server, serverNames, 'add it to servers with role: backup'), b.server));
    } else if ((str(invServers[own]!['role']) ?? 'app') === 'app') {
      out.push(problem(`${at}.server`, `server "${b.server}" has role "app"`, `set role: backup (or both) in servers[${own}]`, b.server));
    }
    const transfers = typeof raw['transfers'] === 'number' ? raw['transfers'] : DEFAULT_TRANSFERS;
    if (typeof raw['streams'] === 'number' && raw['streams'] > transfers) {
      out.push(problem(`${at}.streams`, `${raw['streams']} streams is more than the transfer budget (${raw['transfers'] === undefined ? `transfers defaults to ${DEFAULT_TRANSFERS}` : `${at}.transfers: ${transfers}`}): one server could never get them`, `lower streams to ${transfers} or less, raise transfers, or use streams: auto (docs/remote.md#transfer-budget)`, b.server));
    }
    const pulled = new Set<string>();
    b.pulls.forEach((p, j) => {
      const name = typeof p === 'string' ? p : p && typeof p === 'object' ? str((p as Loose)['server']) : undefined;
      const transport = p && typeof p === 'object' ? (str((p as Loose)['transport']) ?? 'ssh') : 'ssh';
      if (name === undefined) return;
      const where = `${at}.pulls[${j}]`;
      if (pulled.has(name)) out.push(problem(where, `server "${name}" is pulled twice`, 'list each server once', b.server));
      pulled.add(name);
      listed.add(name);
      if (!servers.has(name)) out.push(problem(where, `pulls unknown server "${name}"`, didYouMean(name, serverNames, 'add it to servers'), b.server));
      if (transport === 'local' && name !== b.server) {
        out.push(problem(where, `transport "local" can only pull the backup server itself, not "${name}"`, 'use transport: ssh for other servers', b.server));
      }
    });
  });
  // With backup servers, every server with a local tier must be pulled by one (listed, or placed by `pulls: auto`).
  if (invBackup.length > 0) {
    invServers.forEach((raw, i) => {
      const fqdn = str(raw['fqdn']);
      if (!fqdn || (str(raw['role']) ?? 'app') === 'backup' || listed.has(fqdn)) return;
      if (autoPool.some((b) => b !== fqdn)) return;
      out.push(
        problem(
          `servers[${i}]`,
          `server "${fqdn}" is pulled by no backup server: its apps would be on no remote tier and in no status there`,
          autoPool.length > 0 ? 'add another backup server with pulls: auto (a backup server does not hold the only copy of itself)' : 'add it to a backup_servers[].pulls list, or set pulls: auto on a backup server',
          fqdn,
        ),
      );
    });
  }
  return out;
}
