/** The plan of one app's job, as data: built from the app's configuration, printable without secrets. */
import os from 'node:os';
import path from 'node:path';
import { snapshotStamp, stagingPath, vmAppDir } from '../../model/convention.js';
import type { CommandSpec } from '../../base/exec.js';
import { newRunId } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { isDir } from '../../base/fsutil.js';
import { getJobType } from './registry.js';
import type { JobPlan, Step } from './types.js';

/** The app's backup folder as its job sees it: `<mount>/<relpath>`. */
export function jobTarget(app: ResolvedApp): string {
  return vmAppDir(app.mount, app.relpath);
}

/** Private temp folders of an app's runs (option files with passwords): `tierback-job-<app>-<run>`. */
export function secretDirPrefix(app: ResolvedApp): string {
  return `tierback-job-${app.name}-`;
}

/** Builds the plan of one app's job (reads the app's configuration, writes nothing). */
export async function planJob(site: Site, app: ResolvedApp, opts: { now?: () => Date; runId?: string } = {}): Promise<JobPlan> {
  const type = getJobType(app.type);
  const start = (opts.now ?? (() => new Date()))();
  const runId = opts.runId ?? newRunId(start);
  const target = jobTarget(app);
  const staging = stagingPath(target, runId);
  const previous = (await isDir(target)) ? target : undefined;
  const secretDir = path.join(os.tmpdir(), `${secretDirPrefix(app)}${runId}`);
  const parts = await type.plan(app, app.options, { site, app, runId, stamp: snapshotStamp(start), target, staging, previous, secretDir });
  return {
    app: app.name,
    type: app.type,
    runId,
    sources: parts.sources,
    target,
    staging,
    previous,
    keepsDumps: parts.keepsDumps ?? parts.steps.some((s) => s.kind === 'dump'),
    steps: parts.steps,
    cleanup: parts.cleanup ?? [],
    secretFiles: parts.secretFiles ?? [],
    secretDir,
    facts: parts.facts ?? {},
  };
}

/** The plan as printable data: secrets (option file contents, secret environment values) removed. */
export function describePlan(plan: JobPlan): unknown {
  const cmd = (c: CommandSpec) => ({
    argv: c.argv,
    ...(c.cwd ? { cwd: c.cwd } : {}),
    ...(c.env ? { env: c.env } : {}),
    ...(c.secretEnv ? { secretEnv: Object.keys(c.secretEnv) } : {}),
  });
  const step = (s: Step) => {
    switch (s.kind) {
      case 'rsync':
        return { kind: s.kind, title: s.title, source: s.source, dest: s.dest, argv: s.argv, ...(s.filesFrom ? { filesFrom: s.filesFrom } : {}) };
      case 'dump':
        return { kind: s.kind, title: s.title, db: s.db, file: s.file, compress: s.compress, check: s.check, command: cmd(s.command) };
      case 'exec':
        return { kind: s.kind, title: s.title, command: cmd(s.command) };
      case 'custom':
        return s;
    }
  };
  return {
    ...plan,
    steps: plan.steps.map(step),
    cleanup: plan.cleanup.map(step),
    secretFiles: plan.secretFiles.map((f) => ({ path: f.path, content: '[redacted]' })),
  };
}

/** Human text of a plan, for --dry-run. */
export function formatPlan(plan: JobPlan): string {
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines = [`job ${plan.app} (${plan.type})`, `  sources:  ${plan.sources.join(', ')}`, `  target:   ${plan.target}`, `  staging:  ${plan.staging}`];
  lines.push(`  previous: ${plan.previous ?? '(none: first run)'}`);
  if (plan.keepsDumps) lines.push('  dumps:    earlier dumps carried over and pruned to keep_dumps');
  for (const f of plan.secretFiles) lines.push(`  secret file (0600, removed after): ${f.path}`);
  plan.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.title}`);
    if (s.kind === 'rsync') lines.push(`     ${s.argv.map(q).join(' ')}`);
    if (s.kind === 'dump') lines.push(`     ${s.command.argv.map(q).join(' ')}${s.compress ? ' | gzip' : ''} > ${s.file}  (check: ${s.check})`);
    if (s.kind === 'exec') lines.push(`     ${s.command.cwd ? `(cd ${s.command.cwd}) ` : ''}${s.command.argv.map(q).join(' ')}`);
    if (s.kind === 'custom') lines.push(`     ${s.action} ${JSON.stringify(s.args)}`);
  });
  for (const s of plan.cleanup) lines.push(`  finally: ${s.title}`);
  return lines.join('\n');
}
