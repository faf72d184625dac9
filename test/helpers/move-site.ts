/**
 * The two-server site the move tests share: servers a and b, VMs web and intern on a, web2 on b,
 * and hydro placed by `hydro` (e.g. `server: a.example.org, vm: web, relpath: v2.example.org/hydro`).
 */
import { after, before } from 'node:test';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sshd } from './sshd.js';
import { tempDir } from './tree.js';

/** Where hydro starts in every move case. */
export const HYDRO_ON_WEB = 'server: a.example.org, vm: web, relpath: v2.example.org/hydro';

/** The inventory text; `ssh` is appended to server b's entry, `extraApps` are whole YAML lines after hydro's. */
export function moveInventory(pa: string, pb: string, hydro: string, ssh = '', extraApps = ''): string {
  return `version: 1
defaults: { timezone: UTC }
servers:
  - { fqdn: a.example.org, partition: ${pa} }
  - { fqdn: b.example.org, partition: ${pb}${ssh} }
vms:
  - { name: web, server: a.example.org }
  - { name: intern, server: a.example.org }
  - { name: web2, server: b.example.org }
apps:
  - { name: hydro, ${hydro}, path: /srv/hydro, type: files }
${extraApps}`;
}

/** Writes root/old.yaml (hydro on a's VM web) and root/new.yaml (hydro at `to`). */
export async function writeMoveInventories(root: string, pa: string, pb: string, to: string, ssh = '', extraApps = ''): Promise<{ oldInv: string; newInv: string }> {
  const oldInv = path.join(root, 'old.yaml');
  const newInv = path.join(root, 'new.yaml');
  await writeFile(oldInv, moveInventory(pa, pb, HYDRO_ON_WEB, ssh, extraApps));
  await writeFile(newInv, moveInventory(pa, pb, to, ssh, extraApps));
  return { oldInv, newInv };
}

/** A move test file's temp dir and, for the cross-server cases, its sshd on loopback. */
export interface MoveSuite {
  dir: string;
  sshd?: Sshd & { identity: string };
}

/**
 * Registers the file's hooks: the temp dir made before, the sshd (if a test started one) stopped
 * and the dir removed after. Call it once at the top of a file that has no other root-level hooks.
 */
export function useMoveSuite(prefix: string): MoveSuite {
  const suite: MoveSuite = { dir: '' };
  let cleanup: (() => Promise<void>) | undefined;
  before(async () => {
    ({ dir: suite.dir, cleanup } = await tempDir(prefix));
  });
  after(async () => {
    await suite.sshd?.stop();
    await cleanup?.();
  });
  return suite;
}
