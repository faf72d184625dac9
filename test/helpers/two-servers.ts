/**
 * Two app servers behind real sshd instances on loopback and one backup partition, as the pull and
 * move-history tests use them: partitions root/srca, root/srcb and root/backup, one client key.
 */
import path from 'node:path';
import { tempDir } from './tree.js';
import { generateKey, startSshd, type KeyPair, type Sshd } from './sshd.js';

export interface TwoServers {
  root: string;
  cleanup: () => Promise<void>;
  key: KeyPair;
  srcA: string;
  srcB: string;
  backup: string;
  sshdA: Sshd;
  sshdB: Sshd;
}

/** Makes the site; each sshd trusts the line `authorize(key, partition)` gives for its server's partition. */
export async function startTwoServers(prefix: string, keyName: string, authorize: (key: KeyPair, partition: string) => string): Promise<TwoServers> {
  const { dir: root, cleanup } = await tempDir(prefix);
  const srcA = path.join(root, 'srca');
  const srcB = path.join(root, 'srcb');
  const made: Partial<TwoServers> = { root, cleanup, srcA, srcB, backup: path.join(root, 'backup') };
  try {
    made.key = await generateKey(path.join(root, 'keys'), keyName);
    made.sshdA = await startSshd({ authorizedKeys: [authorize(made.key, srcA)] });
    made.sshdB = await startSshd({ authorizedKeys: [authorize(made.key, srcB)] });
  } catch (e) {
    await stopTwoServers(made);
    throw e;
  }
  return made as TwoServers;
}

/** Stops both sshd and removes the tree (what of it was made). */
export async function stopTwoServers(t: Partial<TwoServers>): Promise<void> {
  await t.sshdA?.cleanup();
  await t.sshdB?.cleanup();
  await t.cleanup?.();
}
