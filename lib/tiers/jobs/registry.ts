/**
 * The explicit list of job types. Every type lives in its own file in lib/tiers/jobs/ and is
 * registered here; the inventory checks `apps[].type` and `apps[].options` against it.
 * A site adds its own type by writing a JobType (lib/tiers/jobs/types.ts) and listing it here
 * (docs/jobs/README.md).
 */
import type { z } from 'zod';
import { NotFoundError } from '../../base/errors.js';
import { commandJob } from './command.js';
import { cvsJob } from './cvs.js';
import { filesJob } from './files.js';
import { gitJob } from './git.js';
import { maildirJob } from './maildir.js';
import { moinmoinJob } from './moinmoin.js';
import { mongodbJob } from './mongodb.js';
import { mysqlJob } from './mysql.js';
import { postgresqlJob } from './postgresql.js';
import { railsJob } from './rails.js';
import type { AnyJobType } from './types.js';
import { wordpressJob } from './wordpress.js';

export interface JobTypeSpec {
  /** The `type:` value in the inventory. */
  name: string;
  /** One line for help and docs. */
  summary: string;
  /** Schema of `apps[].options` for this type. */
  options: z.ZodType;
}

export const jobTypes: readonly AnyJobType[] = [railsJob, wordpressJob, moinmoinJob, gitJob, cvsJob, maildirJob, filesJob, postgresqlJob, mysqlJob, mongodbJob, commandJob];

export function findJobType(name: string): AnyJobType | undefined {
  return jobTypes.find((t) => t.name === name);
}

export function getJobType(name: string): AnyJobType {
  const t = findJobType(name);
  if (!t) throw new NotFoundError(`unknown job type "${name}"`, `known types: ${jobTypes.map((x) => x.name).join(', ')}`);
  return t;
}
