/** Builds temporary directory trees from object literals, so fixtures read like the tree they create. */
import { after, before } from 'node:test';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A tree: file contents as strings, folders as nested objects, symlinks as { symlink: target }. */
export type Tree = { [name: string]: string | Tree | { symlink: string } };

export async function makeTree(root: string, tree: Tree): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [name, value] of Object.entries(tree)) {
    const p = path.join(root, name);
    if (typeof value === 'string') {
      await mkdir(path.dirname(p), { recursive: true });
      await writeFile(p, value);
    } else if ('symlink' in value && typeof value.symlink === 'string') {
      await symlink(value.symlink, p);
    } else {
      await makeTree(p, value as Tree);
    }
  }
}

/** A fresh temp dir; remove it with the returned cleanup. */
export async function tempDir(prefix = 'tierback-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A fresh temp dir for the current suite: made in a before() hook registered here, so it exists
 * in the suite's own before() hooks registered after this call; removed in after(). Call it inside
 * describe(): at a file's top level Node 20 does not wait for one root hook before the next.
 */
export function useTempDir(prefix = 'tierback-test-'): { readonly dir: string } {
  const box = { dir: '' };
  let cleanup: (() => Promise<void>) | undefined;
  before(async () => {
    ({ dir: box.dir, cleanup } = await tempDir(prefix));
  });
  after(() => cleanup?.());
  return box;
}

/** For a suite whose tests each make their own temp site: `keep(made)` returns `made` and removes it (its `cleanup`) after the suite. */
export function useCleanups(): <T extends { cleanup: () => Promise<void> }>(made: T) => T {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });
  return (made) => {
    cleanups.push(made.cleanup);
    return made;
  };
}
