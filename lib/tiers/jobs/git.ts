/**
 * git: one bare repository or a folder of them, kept as mirrors in `repos/<name>`. Each run
 * clones the previous mirror locally (objects hard-linked: immutable) and fetches from the live
 * repository with --prune, so runs are incremental; fetch reads one consistent ref set, so a push
 * in progress is either fully in or not at all. `git fsck` checks every mirror before the swap.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TierbackError } from '../../base/errors.js';
import { requireDir } from './common.js';
import { isDir, exists } from '../../base/fsutil.js';
import { defineJobType, type Step, type VerifyProblem } from './types.js';

export const gitOptions = z
  .strictObject({
    repos: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a repository folder name, e.g. "project.git"'))
      .optional()
      .meta({ description: 'Only these repositories of the folder (names of sub-folders); default: every bare repository found.' }),
  })
  .meta({ description: 'Options of the git type (docs/jobs/git.md).' });
export type GitOptions = z.output<typeof gitOptions>;

export const REPOS_DIR = 'repos';
/** Let root read repositories owned by application users (git's safe.directory check). */
const GIT = ['git', '-c', 'safe.directory=*'] as const;

async function isBareRepo(dir: string): Promise<boolean> {
  return (await exists(path.join(dir, 'HEAD'))) && (await isDir(path.join(dir, 'objects'))) && (await isDir(path.join(dir, 'refs')));
}

/** The repositories of `root`: itself when it is a bare repository, else its bare sub-folders. */
export async function findRepos(root: string): Promise<{ name: string; dir: string }[]> {
  if (await isBareRepo(root)) return [{ name: path.basename(root), dir: root }];
  const out: { name: string; dir: string }[] = [];
  for (const n of (await readdir(root)).sort()) {
    const d = path.join(root, n);
    if (await isBareRepo(d)) out.push({ name: n, dir: d });
  }
  return out;
}

export const gitJob = defineJobType<GitOptions>({
  name: 'git',
  summary: 'Bare git repositories as incremental, fsck-checked mirrors',
  options: gitOptions,
  async plan(app, o, ctx) {
    await requireDir(app.path, app, 'repository folder');
    let repos = await findRepos(app.path);
    if (o.repos) {
      const missing = o.repos.filter((r) => !repos.some((x) => x.name === r));
      if (missing.length) throw new TierbackError(`app "${app.name}": no bare repository ${missing.join(', ')} in ${app.path}`, { hint: `check apps[${app.index}].options.repos` });
      repos = repos.filter((r) => o.repos!.includes(r.name));
    }
    if (repos.length === 0) throw new TierbackError(`app "${app.name}": ${app.path} holds no bare git repository`, { hint: `point apps[${app.index}].path at a bare repository or a folder of them` });
    const steps: Step[] = [];
    for (const r of repos) {
      const dest = path.join(ctx.staging, REPOS_DIR, r.name);
      const prev = ctx.previous ? path.join(ctx.previous, REPOS_DIR, r.name) : undefined;
      if (prev && (await isBareRepo(prev))) {
        steps.push({ kind: 'exec', title: `${r.name}: start from the previous mirror`, command: { argv: [...GIT, 'clone', '--quiet', '--mirror', '--local', prev, dest] } });
        steps.push({ kind: 'exec', title: `${r.name}: point it at the live repository`, command: { argv: [...GIT, '--git-dir', dest, 'remote', 'set-url', 'origin', r.dir] } });
        steps.push({ kind: 'exec', title: `${r.name}: fetch new objects and refs`, command: { argv: [...GIT, '--git-dir', dest, 'fetch', '--quiet', '--prune', '--no-auto-gc', 'origin'] } });
      } else {
        steps.push({ kind: 'exec', title: `${r.name}: mirror the live repository`, command: { argv: [...GIT, 'clone', '--quiet', '--mirror', '--no-local', r.dir, dest] } });
      }
    }
    return { sources: repos.map((r) => r.dir), steps, facts: { repos: String(repos.length) } };
  },
  async verify(dir, _o, { exec, signal }) {
    const root = path.join(dir, REPOS_DIR);
    if (!(await isDir(root))) return [{ path: REPOS_DIR, message: 'missing' }];
    const problems: VerifyProblem[] = [];
    for (const r of await findRepos(root)) {
      try {
        await exec.run({ argv: [...GIT, '--git-dir', r.dir, 'fsck', '--no-progress', '--no-dangling'] }, signal);
      } catch (err) {
        problems.push({ path: `${REPOS_DIR}/${r.name}`, message: `git fsck failed: ${(err as Error).message}` });
      }
    }
    return problems;
  },
  restore(app, _o, backupDir) {
    return {
      contents: [`${REPOS_DIR}/<name>: a bare mirror of each repository of ${app.path} (all refs)`],
      commands: [`git clone --mirror ${path.join(backupDir, REPOS_DIR, '<name>')} ${path.join(app.path, '<name>')}`, `git --git-dir ${path.join(app.path, '<name>')} remote remove origin`],
    };
  },
});
