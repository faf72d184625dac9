/** The figures of a backup folder for history: files and bytes. */
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_FILE } from '../../model/convention.js';

/** Files and bytes of a backup folder, walked without holding the tree in memory. */
export async function measure(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  async function walk(d: string): Promise<void> {
    let h;
    try {
      h = await opendir(d);
    } catch {
      return;
    }
    for await (const e of h) {
      const p = path.join(d, e.name);
      if (d === dir && e.name === MANIFEST_FILE) continue; // tierback's own file, not backed-up data
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        files++;
        try {
          bytes += (await lstat(p)).size;
        } catch {
          /* vanished */
        }
      } else files++;
    }
  }
  await walk(dir);
  return { files, bytes };
}
