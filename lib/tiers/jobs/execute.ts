/**
 * Runs a job plan into its staging folder and swaps the new backup in:
 *   secret files -> staging folder (hidden sibling, 0700) -> steps -> cleanup steps -> carried-over
 *   dumps pruned to keepDumps -> manifest -> verify -> atomic swap (target -> retired, staging ->
 *   target, retired removed). A failure leaves the previous backup untouched.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createGzip } from 'node:zlib';
import fg from 'fast-glob';
import { TierbackError } from '../../base/errors.js';
import type { Exec } from '../../base/exec.js';
import { DIR_MODE, FILE_MODE } from '../../base/fsutil.js';
import type { ResolvedApp } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { writeManifest } from './manifest.js';
import { checkDump } from '../engines/registry.js';
import { RSYNC_VANISHED } from './common.js';
import { getJobType } from './registry.js';
import { carryDumps, swapIn } from './swap.js';
import type { AnyJobType, JobPlan, Step } from './types.js';

/** Runs a plan and swaps the new backup in; returns the warnings and the new backup's totals (from its manifest walk). */
export async function executePlan(plan: JobPlan, app: ResolvedApp, exec: Exec, log: Logger, signal: AbortSignal | undefined, onStep?: (title: string) => void): Promise<{ warnings: string[]; files: number; bytes: number }> {
  const type = getJobType(plan.type);
  const options = app.options; // parsed when the inventory loaded
  const warnings: string[] = [];
  const secretDir = plan.secretDir;
  let swapped = false;
  let totals = { files: 0, bytes: 0 };
  try {
    await mkdir(secretDir, { recursive: true, mode: DIR_MODE });
    for (const f of plan.secretFiles) await writeFile(f.path, f.content, { mode: FILE_MODE, flag: 'wx' });
    await mkdir(plan.staging, { mode: DIR_MODE });
    try {
      for (const step of plan.steps) {
        if (signal?.aborted) throw new TierbackError('job interrupted', { exitCode: 130 });
        log.info({ step: step.title }, 'step');
        onStep?.(step.title);
        const w = await runStep(step, plan, type, exec, log, signal);
        if (w) warnings.push(w);
      }
    } finally {
      for (const step of plan.cleanup) {
        try {
          await runStep(step, plan, type, exec, log, undefined);
        } catch (err) {
          warnings.push(`cleanup "${step.title}" failed: ${(err as Error).message}`);
        }
      }
    }
    if (plan.keepsDumps) await carryDumps(plan, app.keepDumps);
    // Restore: the manifest drills check restored copies against.
    // Its walk also gives the totals history records and the change list pulls use: no second walk.
    const manifest = await writeManifest(plan.staging, exec, plan.previous, plan.runId, { changeList: true });
    totals = { files: manifest.files, bytes: manifest.bytes };
    const problems = await type.verify(plan.staging, options, { exec, log, signal });
    if (problems.length) {
      throw new TierbackError(`verification of the new backup failed: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, {
        hint: 'the previous backup is untouched; see the problem named and run the job again',
      });
    }
    await swapIn(plan);
    swapped = true;
  } finally {
    if (!swapped) await rm(plan.staging, { recursive: true, force: true }).catch(() => undefined);
    await rm(secretDir, { recursive: true, force: true }).catch(() => undefined);
  }
  return { warnings, ...totals };
}

async function runStep(step: Step, plan: JobPlan, type: AnyJobType, exec: Exec, log: Logger, signal: AbortSignal | undefined): Promise<string | undefined> {
  switch (step.kind) {
    case 'rsync': {
      await mkdir(step.dest, { recursive: true, mode: DIR_MODE });
      if (step.filesFrom) await writeFileList(step.filesFrom);
      for (let attempt = 0; ; attempt++) {
        const r = await exec.run({ argv: step.argv, warnCodes: [RSYNC_VANISHED] }, signal);
        if (r.exitCode !== RSYNC_VANISHED) return undefined;
        if (attempt >= (step.retryOnVanished ?? 0)) return `${step.title}: some files vanished during the copy (rsync code 24)`;
        log.info({ step: step.title }, 'files vanished during the copy; copying again');
      }
    }
    case 'dump': {
      await mkdir(path.dirname(step.file), { recursive: true, mode: DIR_MODE });
      await exec.runToFile(step.command, step.file, step.compress ? [createGzip()] : [], signal);
      const problem = await checkDump(step.file, step.check, exec, signal);
      if (problem) throw new TierbackError(`dump of ${step.db} is incomplete: ${problem}`, { hint: 'the previous dumps are untouched; check the database server and run the job again' });
      return undefined;
    }
    case 'exec':
      await exec.run(step.command, signal);
      return undefined;
    case 'custom': {
      if (!type.runCustom) throw new TierbackError(`job type ${type.name} has a custom step "${step.action}" but no runCustom`);
      const r = await type.runCustom(step, { exec, log, signal, plan });
      return r && r.warning ? r.warning : undefined;
    }
  }
}

async function writeFileList(f: { cwd: string; include: string[]; exclude: string[]; list: string }): Promise<void> {
  const out = createWriteStream(f.list, { mode: FILE_MODE, flags: 'wx' });
  const stream = fg.stream(f.include.length ? f.include : ['**'], { cwd: f.cwd, ignore: f.exclude, dot: true, onlyFiles: true, followSymbolicLinks: false, unique: true });
  for await (const entry of stream) {
    const name = String(entry);
    if (name.includes('\n')) continue; // rsync --files-from is newline separated
    if (!out.write(`${name}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
