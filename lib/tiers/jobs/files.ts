/** files: any tree, optionally narrowed by fast-glob include/exclude patterns, copied into `files/`. */
import path from 'node:path';
import { z } from 'zod';
import { requireDir, copyStep } from './common.js';
import { isDir } from '../../base/fsutil.js';
import { defineJobType } from './types.js';

export const filesOptions = z
  .strictObject({
    include: z.array(z.string().min(1)).default([]).meta({ description: 'fast-glob patterns of files to copy, relative to path (default: everything).' }),
    exclude: z.array(z.string().min(1)).default([]).meta({ description: 'fast-glob patterns of files to leave out, relative to path, e.g. "cache/**".' }),
  })
  .meta({ description: 'Options of the files type (docs/jobs/files.md).' });
export type FilesOptions = z.output<typeof filesOptions>;

export const FILES_DIR = 'files';

export const filesJob = defineJobType<FilesOptions>({
  name: 'files',
  summary: 'Any file tree with include/exclude globs',
  inPlaceDir: 'files',
  options: filesOptions,
  async plan(app, o, ctx) {
    await requireDir(app.path, app, 'source folder');
    const globbed = o.include.length > 0 || o.exclude.length > 0;
    const list = path.join(ctx.secretDir, 'files.list');
    return {
      sources: [app.path],
      steps: [
        copyStep(ctx, FILES_DIR, {
          title: `copy ${app.path} into ${FILES_DIR}/`,
          source: app.path,
          extra: globbed ? [`--files-from=${list}`] : [],
          ...(globbed ? { filesFrom: { cwd: app.path, include: o.include, exclude: o.exclude, list } } : {}),
        }),
      ],
    };
  },
  async verify(dir) {
    return (await isDir(path.join(dir, FILES_DIR))) ? [] : [{ path: FILES_DIR, message: 'missing' }];
  },
  restore(app, _o, backupDir) {
    return {
      contents: [`${FILES_DIR}/: the tree of ${app.path} (only the files matching include/exclude)`],
      commands: [`rsync -a ${path.join(backupDir, FILES_DIR)}/ ${app.path}/`],
    };
  },
});
