/** `tierback move APP --from OLD` and `tierback apply [--from OLD]`: move apps after an inventory edit. */
import type { CommandModule } from 'yargs';
import { createExec } from '../../lib/base/exec.js';
import { applyInventory, type ApplyResult } from '../../lib/features/move/apply.js';
import { formatApplyPlan, planApply, type ApplyPlan } from '../../lib/features/move/plan.js';
import { EXIT_CODES_EPILOG, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { ExitCode } from '../../lib/base/errors.js';
import { dryRunOption, jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  app?: string;
  from?: string;
  json?: boolean;
  'dry-run'?: boolean;
}

function report(r: ApplyResult): string {
  const lines: string[] = [];
  if (r.from) lines.push(`old inventory: ${r.from}`);
  for (const m of r.results) {
    const what = m.outcome === 'moved' ? `moved (${m.how})` : m.outcome;
    lines.push(`${m.app}: ${what} ${m.from} -> ${m.to}; ${m.historyFiles.length} history file(s)${m.merged.length ? `, ${m.merged.length} merged` : ''}`);
  }
  if (r.results.length === 0) lines.push('no app moved');
  for (const f of r.recorded) lines.push(`recorded applied inventory: ${f}`);
  return lines.join('\n');
}

function printPlan(plan: ApplyPlan, json: boolean | undefined): number {
  if (json) printJson(plan);
  else out(formatApplyPlan(plan));
  return ExitCode.OK;
}

export const moveCommand: CommandModule<GlobalArgs, Args> = {
  command: 'move <app>',
  describe: 'Move an app\'s local-tier backups and history to the place the edited inventory gives it',
  builder: (y) =>
    y
      .positional('app', { type: 'string', demandOption: true, describe: 'App whose vm, server or relpath changed' })
      .option('from', { type: 'string', describe: 'Inventory before the edit (default: the applied one on this machine)' })
      .option('json', jsonOption('Result (or the plan with --dry-run) as JSON'))
      .option('dry-run', dryRunOption('Print the plan (folders and history files renamed or copied, every command as argv) and do nothing'))
      .example('$0 move hydro --from /tmp/old.yaml --dry-run', 'what the move would rename, copy and remove; nothing done')
      .example('$0 move hydro --from /tmp/old.yaml', 'after changing hydro\'s vm: in the inventory; run on hydro\'s old server')
      .epilog(`Same server: atomic renames. Other server: rsync over SSH (the new server's ssh: settings), then removal here.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    if (argv['dry-run']) return printPlan(await planApply(site, { from: argv.from, apps: [argv.app!], record: false }), argv.json);
    const r = await applyInventory(site, { exec: createExec(log), from: argv.from, apps: [argv.app!], record: false });
    if (argv.json) printJson(r);
    else out(report(r));
    return ExitCode.OK;
  }),
};

export const applyCommand: CommandModule<GlobalArgs, Args> = {
  command: 'apply',
  describe: 'Move every app whose place changed since the last applied inventory, then record this one as applied',
  builder: (y) =>
    y
      .option('from', { type: 'string', describe: 'Inventory before the edit (default: <partition>/.tierback/applied.yaml)' })
      .option('json', jsonOption('Result (or the plan with --dry-run) as JSON'))
      .option('dry-run', dryRunOption('Print the plan (folders and history files renamed or copied, every command as argv) and do nothing'))
      .example('$0 apply --dry-run', 'the moves the edited inventory asks for, as a plan; nothing done')
      .example('$0 apply', 'on each server after editing the inventory (first run: just records it)')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site, log) => {
    if (argv['dry-run']) return printPlan(await planApply(site, { from: argv.from }), argv.json);
    const r = await applyInventory(site, { exec: createExec(log), from: argv.from });
    if (argv.json) printJson(r);
    else out(report(r));
    return ExitCode.OK;
  }),
};
