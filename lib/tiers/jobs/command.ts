/**
 * command: any program that writes a dump to stdout (mongodump --archive, pg_dumpall, tar ...),
 * stored gzip'd as db/<name>-<stamp>.<ext>.gz. Its exit status is checked; the gzip stream is
 * checked whole. Secrets go in secret_env_file (KEY=value lines, 0600), passed in the child's
 * environment only.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DUMP_DIR, dumpPath } from '../../model/layout.js';
import { dumpFileName } from '../../model/names.js';
import { TierbackError } from '../../base/errors.js';
import { checkCommandArgv } from '../../model/inventory/values.js';
import { DUMP_NAME } from '../engines/common.js';
import { verifyDumps } from './common.js';
import { defineJobType } from './types.js';

export const commandOptions = z
  .strictObject({
    argv: z
      .array(z.string())
      .min(1)
      .superRefine((argv, ctx) => {
        const bad = checkCommandArgv(argv);
        if (bad) ctx.addIssue({ code: 'custom', message: bad.violation.message, path: [bad.index], params: { hint: bad.violation.hint } });
      })
      .meta({ description: 'The program and its arguments, e.g. ["mongodump", "--archive"]; no shell is involved. The program is a name on PATH or an absolute path, never starting with "-".' }),
    name: z.string().regex(DUMP_NAME).optional().meta({ description: 'Name of the dump files (default: the app name).' }),
    ext: z.string().regex(/^[a-z0-9]+(\.[a-z0-9]+)*$/).default('dump').meta({ description: 'Extension before ".gz" (default "dump"), e.g. "archive", "tar".' }),
    cwd: z.string().startsWith('/').optional().meta({ description: 'Working directory of the program (default: path).' }),
    env: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).default({}).meta({ description: 'Extra environment (not secret: it is logged).' }),
    secret_env_file: z.string().startsWith('/').optional().meta({ description: 'File (0600) of KEY=value lines passed to the program\'s environment only.' }),
    ok_codes: z.array(z.number().int().min(0).max(255)).default([0]).meta({ description: 'Exit codes that count as success (default [0]).' }),
  })
  .meta({ description: 'Options of the command type (docs/jobs/command.md).' });
export type CommandOptions = z.output<typeof commandOptions>;

function readEnvFile(file: string, appIndex: number): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TierbackError(`cannot read secret_env_file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: `check apps[${appIndex}].options.secret_env_file` });
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export const commandJob = defineJobType<CommandOptions>({
  name: 'command',
  summary: 'Any program writing a dump to stdout, stored gzip\'d with a timestamp',
  options: commandOptions,
  async plan(app, o, ctx) {
    const name = o.name ?? app.name;
    const secretEnv = o.secret_env_file ? readEnvFile(o.secret_env_file, app.index) : undefined;
    return {
      sources: [o.argv[0]!],
      steps: [
        {
          kind: 'dump',
          title: `run ${o.argv[0]} and store its output in ${DUMP_DIR}/`,
          db: name,
          file: dumpPath(ctx.staging, dumpFileName(name, ctx.stamp, `${o.ext}.gz`)),
          command: { argv: o.argv, cwd: o.cwd ?? app.path, okCodes: o.ok_codes, ...(Object.keys(o.env).length ? { env: o.env } : {}), ...(secretEnv ? { secretEnv } : {}) },
          compress: true,
          check: 'gzip',
        },
      ],
    };
  },
  verify: (dir, _o, { exec, signal }) => verifyDumps(dir, exec, signal, { required: true }),
  restore(app, o, backupDir) {
    return {
      contents: [`${DUMP_DIR}/${o.name ?? app.name}-<stamp>.${o.ext}.gz: the program's output, gzip'd, newest last`],
      commands: [`gunzip -c ${backupDir}/${DUMP_DIR}/${o.name ?? app.name}-<stamp>.${o.ext}.gz | <the program's restore tool, e.g. mongorestore --archive>`],
    };
  },
});
