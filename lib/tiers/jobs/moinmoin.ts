/** moinmoin: the wiki's data/ (pages, users, plugins) and its configuration files, without caches. */
import path from 'node:path';
import { z } from 'zod';
import { requireDir, copyArgv, copyStep } from './common.js';
import { isDir } from '../../base/fsutil.js';
import { defineJobType } from './types.js';

export const moinmoinOptions = z
  .strictObject({
    data: z.string().default('data').meta({ description: 'The data folder, relative to path or absolute (default "data").' }),
    exclude: z.array(z.string().min(1)).default(['cache/', '*.pyc', '__pycache__/']).meta({ description: 'rsync excludes inside data/ (default: every cache/ folder and compiled Python).' }),
  })
  .meta({ description: 'Options of the moinmoin type (docs/jobs/moinmoin.md).' });
export type MoinmoinOptions = z.output<typeof moinmoinOptions>;

export const moinmoinJob = defineJobType<MoinmoinOptions>({
  name: 'moinmoin',
  summary: 'MoinMoin wiki: data/ and configuration, without caches',
  options: moinmoinOptions,
  async plan(app, o, ctx) {
    await requireDir(app.path, app, 'wiki folder');
    const data = path.resolve(app.path, o.data);
    await requireDir(data, app, 'wiki data folder', 'options.data');
    return {
      sources: [data, app.path],
      steps: [
        copyStep(ctx, 'data', { title: 'copy data/ without caches', source: data, excludes: o.exclude }),
        {
          kind: 'rsync',
          title: 'copy the configuration (*.py, *.wsgi, *.cgi at the top of path) into config/',
          source: app.path,
          dest: path.join(ctx.staging, 'config'),
          argv: copyArgv({ source: app.path, dest: path.join(ctx.staging, 'config'), filters: ['+ /*.py', '+ /*.wsgi', '+ /*.cgi', '- *'] }),
        },
      ],
    };
  },
  async verify(dir) {
    return (await isDir(path.join(dir, 'data', 'pages'))) || (await isDir(path.join(dir, 'data', 'user'))) ? [] : [{ path: 'data', message: 'no pages/ or user/ folder: not a MoinMoin data folder' }];
  },
  restore(app, o, backupDir) {
    return {
      contents: ['data/: pages, users, plugins (caches left out: MoinMoin rebuilds them)', 'config/: wikiconfig.py and other top-level configuration'],
      commands: [`rsync -a ${backupDir}/data/ ${path.resolve(app.path, o.data)}/`, `rsync -a ${backupDir}/config/ ${app.path}/`, 'chown -R <wiki user>: the restored folders; restart the wiki'],
    };
  },
});
