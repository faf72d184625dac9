/**
 * The local-tier folders a server owns: `<partition>/local/<vm>` for each of its VMs, created 0700
 * before the VM mounts them (`tierback schedule <server> --install` calls this). The partition's
 * `local/` folder itself is never created here: when it is missing the backup disk is probably not
 * mounted, and creating it would fill the system disk.
 */
import { lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { localRoot, localVmDir } from '../../model/layout.js';
import { DIR_MODE } from '../../base/fsutil.js';
import type { Site } from '../../model/inventory/model.js';

export interface VmFolders {
  created: string[];
  present: string[];
  /** Folders that could not be made, with the reason (missing partition, not a folder). */
  problems: { path: string; message: string }[];
}

/** Creates the missing `<partition>/local/<vm>` folders (0700) of `server`'s VMs, below `root` ('' = /). */
export async function ensureVmFolders(site: Site, server: string, root = '', opts: { dryRun?: boolean } = {}): Promise<VmFolders> {
  const out: VmFolders = { created: [], present: [], problems: [] };
  const srv = site.servers.find((s) => s.fqdn === server);
  if (!srv) return out;
  const at = (p: string) => (root === '' || root === '/' ? p : path.join(root, p));
  const local = at(localRoot(srv.partition));
  const vms = site.vms.filter((v) => v.server === server);
  if (vms.length === 0) return out;
  const st = await lstat(local).catch(() => undefined);
  if (!st?.isDirectory()) {
    out.problems.push({ path: local, message: `${st ? 'is not a folder' : 'does not exist'}: create the partition first (install -d -m 0700 ${localRoot(srv.partition)}), then run this again` });
    return out;
  }
  for (const vm of vms) {
    const dir = at(localVmDir(srv.partition, vm.name));
    try {
      if (opts.dryRun) {
        // Dry run (`schedule --install --dry-run`): "created" means "would be created".
        if (await lstat(dir).catch(() => undefined)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
      } else await mkdir(dir, { mode: DIR_MODE });
      out.created.push(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        out.problems.push({ path: dir, message: (err as Error).message });
        continue;
      }
      const e = await lstat(dir);
      if (e.isDirectory()) out.present.push(dir);
      else out.problems.push({ path: dir, message: `is ${e.isSymbolicLink() ? 'a symlink' : 'not a folder'}; VM ${vm.name} must mount a real folder of the partition` });
    }
  }
  return out;
}
