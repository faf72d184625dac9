/**
 * cvs: a CVS repository tree (`,v` files). Honours CVS locking: before copying, the job takes a
 * CVS read lock (`#cvs.rfl.*`, set under the `#cvs.lock` master lock as CVS itself does) in every
 * folder, waiting while a writer holds a write lock; commits wait for the copy to finish. The
 * locks are removed afterwards whatever happened; lock files are never copied.
 */
import { mkdir, opendir, readdir, rmdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TierbackError } from '../../base/errors.js';
import { requireDir, copyStep } from './common.js';
import { isDir, exists } from '../../base/fsutil.js';
import { defineJobType, type CustomStep } from './types.js';

export const cvsOptions = z
  .strictObject({
    wait_locks: z.number().int().min(0).max(3600).default(120).meta({ description: 'Seconds to wait for CVS write locks to go away before failing (default 120).' }),
  })
  .meta({ description: 'Options of the cvs type (docs/jobs/cvs.md).' });
export type CvsOptions = z.output<typeof cvsOptions>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function* folders(root: string): AsyncGenerator<string> {
  yield root;
  const h = await opendir(root);
  for await (const e of h) if (e.isDirectory() && !e.name.startsWith('#cvs.')) yield* folders(path.join(root, e.name));
}

/** Takes a read lock in one folder following CVS's protocol; returns false if a writer holds it. */
async function readLockFolder(dir: string, lockName: string): Promise<boolean> {
  const master = path.join(dir, '#cvs.lock');
  try {
    await mkdir(master);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    const writers = (await readdir(dir)).filter((n) => n.startsWith('#cvs.wfl'));
    if (writers.length) return false;
    await writeFile(path.join(dir, lockName), '', { mode: 0o644 });
    return true;
  } finally {
    await rmdir(master).catch(() => undefined);
  }
}

async function unlockAll(root: string, lockName: string): Promise<void> {
  for await (const dir of folders(root)) await unlink(path.join(dir, lockName)).catch(() => undefined);
}

export const cvsJob = defineJobType<CvsOptions>({
  name: 'cvs',
  summary: 'CVS repository tree, copied under CVS read locks',
  options: cvsOptions,
  async plan(app, o, ctx) {
    await requireDir(app.path, app, 'CVS repository');
    if (!(await isDir(path.join(app.path, 'CVSROOT')))) {
      throw new TierbackError(`app "${app.name}": ${app.path} has no CVSROOT folder`, { hint: `apps[${app.index}].path names the repository root (the folder holding CVSROOT/)` });
    }
    const lockName = `#cvs.rfl.tierback.${ctx.runId}`;
    const args = { root: app.path, lock: lockName, wait: String(o.wait_locks) };
    return {
      sources: [app.path],
      steps: [
        { kind: 'custom', title: 'take CVS read locks in every folder (waits for writers)', action: 'cvs-readlock', args },
        copyStep(ctx, 'cvsroot', { title: 'copy the repository (lock files left out)', source: app.path, excludes: ['#cvs.*', 'CVS/Entries.Log'] }),
      ],
      cleanup: [{ kind: 'custom', title: 'release the CVS read locks', action: 'cvs-unlock', args }],
    };
  },
  async runCustom(step: CustomStep) {
    const { root, lock, wait } = step.args as { root: string; lock: string; wait: string };
    if (step.action === 'cvs-unlock') {
      await unlockAll(root, lock);
      return;
    }
    const until = Date.now() + Number(wait) * 1000;
    for await (const dir of folders(root)) {
      while (!(await readLockFolder(dir, lock))) {
        if (Date.now() > until) {
          await unlockAll(root, lock);
          throw new TierbackError(`CVS repository ${root}: ${dir} stayed write-locked for ${wait}s`, { hint: 'a commit or a stale lock holds it; remove a stale #cvs.wfl.* / #cvs.lock there, or raise options.wait_locks' });
        }
        await sleep(200);
      }
    }
    return;
  },
  async verify(dir) {
    return (await exists(path.join(dir, 'cvsroot', 'CVSROOT'))) ? [] : [{ path: 'cvsroot/CVSROOT', message: 'missing' }];
  },
  restore(app, _o, backupDir) {
    return {
      contents: ['cvsroot/: the repository tree (,v files and CVSROOT/), without lock files'],
      commands: [`rsync -a ${backupDir}/cvsroot/ ${app.path}/`, `cvs -d ${app.path} checkout <module>   # check`],
    };
  },
});
