/** Cross-field rules of the inventory: run after the schema check, report every problem. */
import { HOST_VM } from '../convention.js';
import type { InventoryProblem } from '../errors.js';
import { findJobType, jobTypes } from '../jobs/registry.js';
import { closest } from './model.js';
import type { Inventory } from './schema.js';

function problem(path: string, message: string, hint?: string, subject?: string): InventoryProblem {
  return { path, message, ...(hint ? { hint } : {}), ...(subject ? { subject } : {}) };
}

function didYouMean(wrong: string, candidates: readonly string[], fallback: string): string {
  const best = closest(wrong, candidates);
  return best ? `did you mean "${best}"?` : fallback;
}

export function crossFieldProblems(inv: Inventory): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  const serverNames = inv.servers.map((s) => s.fqdn);
  const servers = new Map<string, number>();
  inv.servers.forEach((s, i) => {
    const seen = servers.get(s.fqdn);
    if (seen !== undefined) out.push(problem(`servers[${i}].fqdn`, `server "${s.fqdn}" is listed twice (also servers[${seen}])`, 'keep one entry per server', s.fqdn));
    else servers.set(s.fqdn, i);
  });

  const vms = new Map<string, { index: number; server: string }>();
  inv.vms.forEach((v, i) => {
    if (v.name === HOST_VM) {
      out.push(problem(`vms[${i}].name`, `"${HOST_VM}" is reserved for apps running directly on a server`, 'omit `vm:` on such apps instead of declaring this VM', v.name));
      return;
    }
    const seen = vms.get(v.name);
    if (seen) out.push(problem(`vms[${i}].name`, `VM "${v.name}" is listed twice (also vms[${seen.index}])`, 'VM names are unique in the site: rename one', v.name));
    else vms.set(v.name, { index: i, server: v.server });
    if (!servers.has(v.server)) {
      out.push(problem(`vms[${i}].server`, `unknown server "${v.server}"`, didYouMean(v.server, serverNames, 'add it to servers'), v.name));
    }
  });

  const appNames = new Map<string, number>();
  const places = new Map<string, { index: number; relpath: string; name: string }[]>();
  const typeNames = jobTypes.map((t) => t.name);
  inv.apps.forEach((a, i) => {
    const at = `apps[${i}]`;
    const seen = appNames.get(a.name);
    if (seen !== undefined) out.push(problem(`${at}.name`, `app name "${a.name}" is used twice (also apps[${seen}])`, 'app names are unique in the site', a.name));
    else appNames.set(a.name, i);

    if (!servers.has(a.server)) {
      out.push(problem(`${at}.server`, `unknown server "${a.server}"`, didYouMean(a.server, serverNames, 'add it to servers'), a.name));
    }
    const vm = a.vm ?? HOST_VM;
    if (vm !== HOST_VM) {
      const v = vms.get(vm);
      if (!v) {
        out.push(problem(`${at}.vm`, `unknown VM "${vm}"`, didYouMean(vm, [...vms.keys()], `add it to vms, or omit vm: if the app runs directly on ${a.server}`), a.name));
      } else if (v.server !== a.server) {
        out.push(problem(`${at}.vm`, `VM "${vm}" runs on ${v.server}, not on ${a.server}`, `set server: ${v.server}, or move the VM in vms[${v.index}]`, a.name));
      }
    }

    const key = `${a.server}\u0000${vm}`;
    const list = places.get(key) ?? [];
    for (const other of list) {
      if (other.relpath === a.relpath) {
        out.push(problem(`${at}.relpath`, `"${a.relpath}" on ${vm === HOST_VM ? a.server : `VM ${vm}`} is already used by app "${other.name}" (apps[${other.index}])`, 'two apps cannot share a backup folder: give one a different relpath', a.name));
      } else if (a.relpath.startsWith(`${other.relpath}/`) || other.relpath.startsWith(`${a.relpath}/`)) {
        out.push(problem(`${at}.relpath`, `"${a.relpath}" and "${other.relpath}" of app "${other.name}" (apps[${other.index}]) are nested`, 'one backup folder would contain the other: choose relpaths that are not prefixes of each other', a.name));
      }
    }
    list.push({ index: i, relpath: a.relpath, name: a.name });
    places.set(key, list);

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
  inv.backup_servers.forEach((b, i) => {
    const at = `backup_servers[${i}]`;
    const seen = backupSeen.get(b.server);
    if (seen !== undefined) out.push(problem(`${at}.server`, `backup server "${b.server}" is listed twice (also backup_servers[${seen}])`, 'merge the two entries', b.server));
    else backupSeen.set(b.server, i);
    const own = servers.get(b.server);
    if (own === undefined) {
      out.push(problem(`${at}.server`, `unknown server "${b.server}"`, didYouMean(b.server, serverNames, 'add it to servers with role: backup'), b.server));
    } else if (inv.servers[own]!.role === 'app') {
      out.push(problem(`${at}.server`, `server "${b.server}" has role "app"`, `set role: backup (or both) in servers[${own}]`, b.server));
    }
    const pulled = new Set<string>();
    b.pulls.forEach((p, j) => {
      const name = typeof p === 'string' ? p : p.server;
      const transport = typeof p === 'string' ? 'ssh' : p.transport;
      const where = `${at}.pulls[${j}]`;
      if (pulled.has(name)) out.push(problem(where, `server "${name}" is pulled twice`, 'list each server once', b.server));
      pulled.add(name);
      if (!servers.has(name)) out.push(problem(where, `pulls unknown server "${name}"`, didYouMean(name, serverNames, 'add it to servers'), b.server));
      if (transport === 'local' && name !== b.server) {
        out.push(problem(where, `transport "local" can only pull the backup server itself, not "${name}"`, 'use transport: ssh for other servers', b.server));
      }
    });
  });
  return out;
}
