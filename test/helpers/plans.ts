/**
 * One app's job plan as data, for the plan tests of each job type (test/unit/tiers/jobs/): a temp site
 * (helpers/jobsite.ts), a fixed clock and run id, so argv arrays and paths can be asserted exactly.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { InventoryError } from '../../lib/base/errors.js';
import type { ResolvedApp, Site } from '../../lib/model/inventory/model.js';
import { describePlan, formatPlan, planJob } from '../../lib/tiers/jobs/run.js';
import type { JobPlan, Step } from '../../lib/tiers/jobs/types.js';
import { appOf, jobSite, type AppEntry } from './jobsite.js';

export const RUN_ID = '20260201T030000-abc123';
/** The stamp in dump file names of a run started at 2026-02-01 03:00 UTC. */
export const STAMP = '2026-02-01T030000Z';
const NOW = new Date('2026-02-01T03:00:00Z');
/** The relpath of every planned app: its backup folder is `<root>/backup/app.example.com`. */
export const RELPATH = 'app.example.com';

export interface Planned {
  plan: JobPlan;
  site: Site;
  app: ResolvedApp;
  /** `<root>/backup/app.example.com`: the app's backup folder. */
  target: string;
  /** Where this run writes before the swap. */
  staging: string;
  /** The run's private folder for option files and lists. */
  secretDir: string;
}

export type PlanEntry = Omit<AppEntry, 'relpath' | 'name'> & { name?: string };

/** The site of one app under `root`, and the app. */
export async function siteOf(root: string, entry: PlanEntry): Promise<{ site: Site; app: ResolvedApp }> {
  const name = entry.name ?? 'app';
  const site = await jobSite(root, [{ ...entry, name, relpath: RELPATH }]);
  return { site, app: appOf(site, name) };
}

/** Plans the job of one app (written into a one-app site under `root`) at a fixed time and run id. */
export async function planOf(root: string, entry: PlanEntry): Promise<Planned> {
  const { site, app } = await siteOf(root, entry);
  const plan = await planJob(site, app, { now: () => NOW, runId: RUN_ID });
  return {
    plan,
    site,
    app,
    target: path.join(root, 'backup', RELPATH),
    staging: path.join(root, 'backup', `.${RELPATH}.partial-${RUN_ID}`),
    secretDir: path.join(os.tmpdir(), `tierback-job-${app.name}-${RUN_ID}`),
  };
}

/** The argv of each step (a custom step as its action name), in order. */
export function argvs(steps: readonly Step[]): (readonly string[])[] {
  return steps.map((s) => (s.kind === 'rsync' ? s.argv : s.kind === 'custom' ? [s.action] : s.command.argv));
}

/** The base rsync argv of every copy (lib/tiers/jobs/common.ts RSYNC_BASE), written out so a change shows here. */
export const RSYNC = ['rsync', '-a', '--numeric-ids', '--no-inc-recursive', '-H'] as const;

/**
 * Asserts that no secret appears in any argv, in the printed plan (describePlan, formatPlan) or in
 * its sources and facts: secrets travel only in secret files and secret environments.
 */
export function assertSecretsHidden(plan: JobPlan, secrets: readonly string[]): void {
  const printed = [JSON.stringify(describePlan(plan)), formatPlan(plan), JSON.stringify(argvs([...plan.steps, ...plan.cleanup])), JSON.stringify(plan.sources), JSON.stringify(plan.facts)];
  for (const secret of secrets) {
    for (const text of printed) assert.ok(!text.includes(secret), `secret "${secret}" shows in ${text.slice(0, 300)}`);
  }
}

/** Asserts the inventory of one app is refused naming `where` (e.g. `apps[0].options.databases`) and matching `message`. */
export async function assertRefused(root: string, entry: PlanEntry, where: string, message: RegExp): Promise<void> {
  await assert.rejects(siteOf(root, entry), (err: unknown) => {
    assert.ok(err instanceof InventoryError, `an InventoryError, not ${String(err)}`);
    const problems = err.problems;
    assert.ok(
      problems.some((p) => p.path === where && message.test(p.message)),
      `a problem at ${where} matching ${message}: ${JSON.stringify(problems)}`,
    );
    return true;
  });
}
