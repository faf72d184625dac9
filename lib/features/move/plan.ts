/**
 * `tierback move/apply --dry-run`: what a move would do, as data, from the same selection of moves
 * the real run makes (`selectMoves`, lib/features/move/index.ts) and the same paths and argv builders. Reads only:
 * the old and new places on this machine; never contacts the new server and takes no lock.
 */
import path from 'node:path';
import { lstat, readdir } from 'node:fs/promises';
import * as C from '../../model/convention.js';
import { exists } from '../../base/fsutil.js';
import { newRunId } from '../../model/history.js';
import type { Site } from '../../model/inventory/model.js';
import { moveRecordAt } from './record.js';
import { historyDirOf, historyFilesOf, localDirOf, safeWord, type AppMove, type InventoryDiff } from './index.js';
import { localPartitions, selectMoves } from './apply.js';
import { openSshTransport } from '../../tiers/pull/ssh.js';
import { UsageError } from '../../base/errors.js';

export interface PlannedAction {
  /** lock: taken for the move; rename/remove/append/write: on this machine; run: a command, as argv. */
  action: 'lock' | 'rename' | 'remove' | 'append' | 'write' | 'run';
  title: string;
  argv?: string[];
  from?: string;
  to?: string;
  path?: string;
}

export interface MovePlan {
  app: string;
  how: 'rename' | 'transfer';
  changes: string[];
  from: string;
  /** The new place (`server:path` for a transfer). */
  to: string;
  /** What the run would report: moved, already-moved, nothing-to-move, or refused (with the reason). */
  outcome: 'moved' | 'already-moved' | 'nothing-to-move' | 'refused';
  reason?: string;
  actions: PlannedAction[];
}

export interface ApplyPlan {
  dryRun: true;
  from: string | undefined;
  diff: InventoryDiff;
  moves: MovePlan[];
  /** Files the applied inventory would be recorded in (apply, when every move succeeds). */
  records: string[];
}

async function kindOf(p: string): Promise<'missing' | 'dir' | 'empty-dir' | 'link' | 'other'> {
  try {
    const st = await lstat(p);
    if (st.isSymbolicLink()) return 'link';
    if (!st.isDirectory()) return 'other';
    return (await readdir(p)).length === 0 ? 'empty-dir' : 'dir';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

async function planRename(move: AppMove): Promise<MovePlan> {
  const from = localDirOf(move.from);
  const to = localDirOf(move.to);
  const plan: MovePlan = { app: move.app, how: 'rename', changes: move.changes, from, to, outcome: 'moved', actions: [] };
  plan.actions.push({ action: 'lock', title: 'job lock of the old place', path: C.lockPath(from) }, { action: 'lock', title: 'job lock of the new place', path: C.lockPath(to) });
  const src = await kindOf(from);
  const dst = await kindOf(to);
  if (src === 'link' || dst === 'link') return { ...plan, outcome: 'refused', reason: `${src === 'link' ? from : to} is a symlink` };
  if (src === 'missing') plan.outcome = dst === 'dir' || dst === 'empty-dir' ? 'already-moved' : 'nothing-to-move';
  else if (dst === 'dir' || dst === 'other') return { ...plan, outcome: 'refused', reason: `${to} already exists and is not empty` };
  else {
    if (dst === 'empty-dir') plan.actions.push({ action: 'remove', title: 'remove the empty folder at the new place', path: to });
    plan.actions.push({ action: 'rename', title: 'rename the folder (atomic, one file system)', from, to });
  }
  const fromDir = historyDirOf(move.from);
  const toDir = historyDirOf(move.to);
  const hist = fromDir === toDir ? [] : await historyFilesOf(fromDir, move.app);
  for (const f of hist) {
    const dstFile = path.join(toDir, f);
    if (await exists(dstFile)) {
      plan.actions.push({ action: 'append', title: 'history file of the same day exists there: append its lines', from: path.join(fromDir, f), to: dstFile });
      plan.actions.push({ action: 'remove', title: 'remove the merged history file', path: path.join(fromDir, f) });
    } else plan.actions.push({ action: 'rename', title: 'move the history file', from: path.join(fromDir, f), to: dstFile });
  }
  if (plan.outcome !== 'nothing-to-move') {
    const rFrom = moveRecordAt(move.from, move.app);
    const rTo = moveRecordAt(move.to, move.app);
    if (rFrom !== rTo && (await exists(rFrom))) plan.actions.push({ action: 'rename', title: 'move the move record', from: rFrom, to: rTo });
    plan.actions.push({ action: 'append', title: 'append this move to the move record', path: rTo });
  }
  if (plan.outcome === 'moved' || hist.length > 0) plan.actions.push({ action: 'append', title: 'journal of moves', path: C.moveJournalPath(move.to.partition) });
  return plan;
}

async function planTransfer(move: AppMove, site: Site, now: Date): Promise<MovePlan> {
  const from = localDirOf(move.from);
  const to = localDirOf(move.to);
  const plan: MovePlan = { app: move.app, how: 'transfer', changes: move.changes, from, to: `${move.to.server}:${to}`, outcome: 'moved', actions: [] };
  const newServer = site.servers.find((s) => s.fqdn === move.to.server);
  if (!newServer) throw new UsageError(`server ${move.to.server} is not in ${site.file}`);
  const src = await kindOf(from);
  if (src === 'link') return { ...plan, outcome: 'refused', reason: `${from} is a symlink` };
  const fromDir = historyDirOf(move.from);
  const hist = await historyFilesOf(fromDir, move.app);
  const record = moveRecordAt(move.from, move.app);
  if (src === 'missing' && hist.length === 0 && !(await exists(record))) return { ...plan, outcome: 'nothing-to-move' };
  const transport = await openSshTransport(newServer, { connectTimeoutS: 20 }); // the one transport, as the move runs it
  const host = safeWord(transport.target.host, 'ssh host');
  try {
    const ssh = (args: string[]) => [...transport.ssh, '--', host, ...args.map((a) => safeWord(a, 'remote argument'))];
    const rsh = transport.rsh;
    const run = (title: string, argv: string[]) => plan.actions.push({ action: 'run', title, argv });
    plan.actions.push({ action: 'lock', title: 'job lock of the old place', path: C.lockPath(from) });
    if (src !== 'missing') {
      const staging = C.stagingPath(to, newRunId(now));
      run('refuse if the new place exists on the new server', ssh(['test', '-e', to]));
      run('create the parent folder there', ssh(['mkdir', '-p', path.posix.dirname(to)]));
      run('copy into a hidden staging folder there', ['rsync', '-aHS', '--numeric-ids', '--delete', '-e', rsh, '--', `${from}/`, transport.remote(`${staging}/`)]);
      run('rename the staging folder into place there', ssh(['mv', '-T', staging, to]));
      plan.actions.push({ action: 'remove', title: 'remove the folder here', path: from });
    } else plan.outcome = 'already-moved';
    if (hist.length > 0) {
      const toDir = historyDirOf(move.to);
      run('create the history folder there', ssh(['mkdir', '-p', toDir]));
      run('copy the history files (never over one there)', ['rsync', '-aS', '--ignore-existing', '--out-format=%n', '-e', rsh, '--', ...hist.map((f) => path.join(fromDir, f)), transport.remote(`${toDir}/`)]);
      for (const f of hist) plan.actions.push({ action: 'remove', title: 'remove the history file here once copied', path: path.join(fromDir, f) });
    }
    const recordDir = path.posix.dirname(moveRecordAt(move.to, move.app));
    plan.actions.push({ action: 'append', title: 'append this move to the move record', path: record });
    run('create the move record folder there', ssh(['mkdir', '-p', '-m', '700', recordDir]));
    run('copy the move record', ['rsync', '-aS', '-e', rsh, record, transport.remote(`${recordDir}/`)]);
    plan.actions.push({ action: 'remove', title: 'remove the move record here', path: record });
    plan.actions.push({ action: 'append', title: 'journal of moves', path: C.moveJournalPath(move.from.partition) });
  } finally {
    await transport.cleanup();
  }
  return plan;
}

/** The plan of `tierback apply` (or `tierback move APP`: apps given, record false). Writes nothing. */
export async function planApply(site: Site, opts: { from?: string | undefined; apps?: string[] | undefined; record?: boolean; now?: Date }): Promise<ApplyPlan> {
  const { old, diff, moves } = await selectMoves(site, opts);
  const now = opts.now ?? new Date();
  const plans: MovePlan[] = [];
  for (const m of moves) plans.push(m.how === 'rename' ? await planRename(m) : await planTransfer(m, site, now));
  const records = (opts.record ?? !opts.apps) ? (await localPartitions(site)).filter((p, i, a) => a.indexOf(p) === i).map((p) => C.appliedInventoryPath(p)) : [];
  return { dryRun: true, from: old?.file, diff, moves: plans, records };
}

/** Human text of an apply/move plan. */
export function formatApplyPlan(plan: ApplyPlan): string {
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines: string[] = [`dry run: nothing is moved or written${plan.from ? ` (old inventory: ${plan.from})` : ''}`];
  for (const m of plan.moves) {
    lines.push(`${m.app}: would be ${m.outcome === 'moved' ? `moved (${m.how})` : m.outcome} ${m.from} -> ${m.to}${m.reason ? `: ${m.reason}` : ''}${m.changes.length ? ` [${m.changes.join('; ')}]` : ''}`);
    m.actions.forEach((a, i) => {
      const where = a.argv ? a.argv.map(q).join(' ') : a.from ? `${a.from} -> ${a.to}` : a.path ?? '';
      lines.push(`  ${i + 1}. ${a.action} — ${a.title}`, `     ${where}`);
    });
  }
  if (plan.moves.length === 0) lines.push('no app would move');
  for (const f of plan.records) lines.push(`would record the applied inventory: ${f}`);
  return lines.join('\n');
}
