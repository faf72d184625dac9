/** A tree's full state (paths, types, sizes, mtimes, modes, link targets), to assert a command changed nothing. */
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/** One line per entry below `root` (root included), sorted: `path type size mtimeMs mode [-> target]`. Walks without following symlinks. */
export async function treeState(root: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await lstat(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const rel = path.relative(root, p) || '.';
    const type = st.isSymbolicLink() ? 'l' : st.isDirectory() ? 'd' : 'f';
    lines.push(`${rel} ${type} ${st.isDirectory() ? '-' : st.size} ${st.mtimeMs} ${(st.mode & 0o7777).toString(8)}${type === 'l' ? ` -> ${await readlink(p)}` : ''}`);
    if (type === 'd') for (const n of (await readdir(p)).sort()) await walk(path.join(p, n));
  };
  await walk(root);
  return lines.sort();
}
