/** Which apps `tierback job` runs: named apps, or every active app of "this VM". */
import os from 'node:os';
import { HOST_VM } from '../../model/names.js';
import { NotFoundError, UsageError } from '../../base/errors.js';
import { findApp, type ResolvedApp, type Site } from '../../model/inventory/model.js';

export const VM_ENV = 'TIERBACK_VM';

export interface ThisVm {
  /** VM name, or HOST_VM for a server's own apps. */
  vm: string;
  /** Server fqdn when vm is HOST_VM (or to disambiguate). */
  server?: string | undefined;
  /** How it was found: option, environment or hostname. */
  source: 'option' | 'environment' | 'hostname';
}

/**
 * "This VM": `--vm`, else $TIERBACK_VM, else the host's short hostname matched against the
 * inventory's VM names (or a server's fqdn, for apps running directly on it). A value may be a
 * VM name or a server fqdn (= that server's own apps).
 */
export function resolveThisVm(site: Site, opts: { vm?: string | undefined; env?: NodeJS.ProcessEnv; hostname?: string }): ThisVm {
  const given = opts.vm ?? (opts.env ?? process.env)[VM_ENV];
  const source = opts.vm ? 'option' : given ? 'environment' : 'hostname';
  const match = (name: string): ThisVm | undefined => {
    if (site.vms.some((v) => v.name === name)) return { vm: name, source };
    const server = site.servers.find((s) => s.fqdn === name || s.fqdn.split('.')[0] === name);
    if (server) return { vm: HOST_VM, server: server.fqdn, source };
    return undefined;
  };
  if (given) {
    const m = match(given);
    if (!m) throw new NotFoundError(`"${given}" (${source === 'option' ? '--vm' : `$${VM_ENV}`}) is neither a VM nor a server of ${site.file}`, '`tierback inventory show` lists the VMs');
    return m;
  }
  const host = (opts.hostname ?? os.hostname()).toLowerCase();
  const m = match(host.split('.')[0]!) ?? match(host);
  if (!m) {
    throw new UsageError(`cannot tell which VM this is: the hostname "${host}" is not a VM or server of ${site.file}`, `give --vm NAME or set $${VM_ENV} (VMs: ${site.vms.map((v) => v.name).join(', ') || 'none'})`);
  }
  return m;
}

export function appsOfVm(site: Site, me: ThisVm): ResolvedApp[] {
  return site.apps.filter((a) => a.status === 'active' && a.vm === me.vm && (me.server === undefined || a.server === me.server));
}

/** Named apps (any status: naming one runs it), or with `all` every active app of this VM. */
export function selectApps(site: Site, opts: { names: readonly string[]; all?: boolean | undefined; vm?: string | undefined; env?: NodeJS.ProcessEnv; hostname?: string }): ResolvedApp[] {
  if (opts.all && opts.names.length) throw new UsageError('give app names or --all, not both');
  if (!opts.all && opts.names.length === 0) throw new UsageError('name the apps to back up, or give --all for every app of this VM', 'e.g. `tierback job hydro` or `tierback job --all --vm web`');
  if (opts.all) return appsOfVm(site, resolveThisVm(site, opts));
  return opts.names.map((n) => findApp(site, n));
}
