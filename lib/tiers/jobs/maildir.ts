/**
 * maildir: Maildir trees (cur/ new/ tmp/, Maildir++ sub-folders). Messages move tmp -> new -> cur
 * and get renamed in cur/ when flags change. The job copies every new/ first, then cur/ and the
 * rest, and copies cur/ again while rsync reports vanished files, so a message delivered or moved
 * meanwhile is caught in one place or the other (possibly twice, never lost). tmp/ contents are
 * deliveries in progress and are left out.
 */
import path from 'node:path';
import { z } from 'zod';
import { requireDir, copyStep } from './common.js';
import { isDir } from '../../base/fsutil.js';
import { defineJobType } from './types.js';

export const maildirOptions = z
  .strictObject({
    retries: z.number().int().min(0).max(10).default(3).meta({ description: 'Extra passes over cur/ while messages vanish during the copy (default 3).' }),
  })
  .meta({ description: 'Options of the maildir type (docs/jobs/maildir.md).' });
export type MaildirOptions = z.output<typeof maildirOptions>;

export const maildirJob = defineJobType<MaildirOptions>({
  name: 'maildir',
  summary: 'Maildir trees, copied without losing messages delivered meanwhile',
  inPlaceDir: 'mail',
  options: maildirOptions,
  async plan(app, o, ctx) {
    await requireDir(app.path, app, 'mail folder');
    return {
      sources: [app.path],
      steps: [
        copyStep(ctx, 'mail', { title: 'pass 1: every new/ folder', source: app.path, filters: ['+ */', '+ new/*', '- *'] }),
        copyStep(ctx, 'mail', {
          title: 'pass 2: cur/ and the other files (tmp/ contents left out), again while messages vanish',
          source: app.path,
          filters: ['- tmp/*', '- new/*', '+ *'],
          retryOnVanished: o.retries,
        }),
      ],
    };
  },
  async verify(dir) {
    return (await isDir(path.join(dir, 'mail'))) ? [] : [{ path: 'mail', message: 'missing' }];
  },
  restore(app, _o, backupDir) {
    return {
      contents: ['mail/: the Maildir tree (cur/, new/, empty tmp/, Maildir++ sub-folders)'],
      commands: [`rsync -a ${backupDir}/mail/ ${app.path}/`, 'chown -R <mail user>: the restored tree'],
    };
  },
});
