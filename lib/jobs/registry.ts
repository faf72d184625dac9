/**
 * The explicit list of job types. Every type lives in its own file in lib/jobs/ and is
 * registered here; the inventory checks `apps[].type` and `apps[].options` against it.
 */
import { z } from 'zod';

export interface JobTypeSpec {
  /** The `type:` value in the inventory. */
  name: string;
  /** One line for help and docs. */
  summary: string;
  /** Schema of `apps[].options` for this type. */
  options: z.ZodType;
}

// Foundations: names and permissive options; each type's own file replaces its entry.
const permissive = z.record(z.string(), z.unknown());
export const jobTypes: readonly JobTypeSpec[] = [
  { name: 'rails', summary: 'Capistrano Rails app: database dump, releases/, shared/, data directory', options: permissive },
  { name: 'wordpress', summary: 'WordPress: mysqldump of its database and wp-content + config', options: permissive },
  { name: 'moinmoin', summary: 'MoinMoin wiki: data/ and config, without caches', options: permissive },
  { name: 'git', summary: 'Bare git repositories as verifiable mirrors', options: permissive },
  { name: 'cvs', summary: 'CVS repository tree, honouring CVS locks', options: permissive },
  { name: 'maildir', summary: 'Maildir trees without losing messages delivered meanwhile', options: permissive },
  { name: 'files', summary: 'Any file tree with include/exclude globs', options: permissive },
  { name: 'postgresql', summary: 'PostgreSQL databases (custom-format dumps)', options: permissive },
  { name: 'mysql', summary: 'MySQL/MariaDB databases (mysqldump --single-transaction)', options: permissive },
  { name: 'command', summary: 'Any program writing a dump to stdout, stored compressed', options: permissive },
];

export function findJobType(name: string): JobTypeSpec | undefined {
  return jobTypes.find((t) => t.name === name);
}
