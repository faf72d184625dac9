/**
 * A restore drill as data (`tierback verify --dry-run`): the point it would drill, the history file
 * it would write, the scratch folder, the copy as argv and the checks and loads that follow. The
 * point, the history folder and the copy's argv come from the functions the drill itself uses
 * (lib/tiers/restore/verify.ts). Reads only: lists the backups; copies, loads and records nothing.
 */
import os from 'node:os';
import path from 'node:path';
import { drillHistoryName, historyFileName, serverHistoryDir } from '../../model/convention.js';
import { NotFoundError } from '../../base/errors.js';
import { dayOf } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { diskPath } from '../../model/machine.js';
import type { DbConnection } from '../engines/types.js';
import { dumpFormat, isFileBased } from './database.js';
import { choosePoint, listPoints, type Point, type Tier } from './points.js';

export interface DrillPointOptions {
  root?: string | undefined;
  backupServer?: string | undefined;
  tier?: Tier | undefined;
}

/** The point a drill of `app` takes (the newest good one of the tier asked); NotFoundError when there is none. */
export async function drillPoint(site: Site, app: ResolvedApp, opts: DrillPointOptions): Promise<Point> {
  const points = await listPoints(site, app, { root: opts.root });
  return choosePoint(site, app, points, { tier: opts.backupServer ? 'remote' : opts.tier, backupServer: opts.backupServer });
}

/** Where a drill of `point` records its result: the history that travels with the backup, or the backup server's. */
export function drillHistoryDir(point: Point, root: string | undefined): string {
  return point.tier === 'local' ? point.historyDisk : diskPath(root, serverHistoryDir(point.partition));
}

/** The copy of the point into the scratch folder, as argv. */
export function drillCopyArgv(point: Point, dest: string): string[] {
  return ['rsync', '-a', '--numeric-ids', `${point.disk}/`, `${dest}/`];
}

export interface DrillPlan {
  app: string;
  /** Why there is nothing to drill (the drill would report "skipped"). */
  skipped?: string | undefined;
  point?: { id: string; tier: Tier; at: Date; disk: string } | undefined;
  historyFile?: string | undefined;
  /** The scratch folder (a fresh mkdtemp folder with this prefix), removed after the drill. */
  scratch?: string | undefined;
  commands: { title: string; argv: string[] }[];
  /** The checks and loads after the copy, in order. */
  steps: string[];
}

export interface DrillPlanOptions extends DrillPointOptions {
  scratch?: string | undefined;
  load?: boolean | undefined;
  connection?: DbConnection | undefined;
  now: Date;
}

export async function planDrill(site: Site, app: ResolvedApp, opts: DrillPlanOptions): Promise<DrillPlan> {
  let point: Point;
  try {
    point = await drillPoint(site, app, opts);
  } catch (err) {
    if (err instanceof NotFoundError) return { app: app.name, skipped: err.message, commands: [], steps: [] };
    throw err;
  }
  const scratch = path.join(opts.scratch ?? os.tmpdir(), `tierback-drill-${app.name}-XXXXXX`);
  const copy = path.join(scratch, 'backup');
  const steps = [
    `compare the copy with the backup's manifest (files, bytes, checksums of every dump and a sample of files)`,
    `the ${app.type} type's own checks of the copy`,
    'each git bundle in the copy: git bundle verify, then a clone',
  ];
  if (opts.load ?? true) {
    const newest = new Map<string, string>();
    for (const d of point.dumps) newest.set(d.db, d.file);
    const given = Object.values(opts.connection ?? {}).some((v) => v !== undefined);
    for (const [db, rel] of newest) {
      const format = dumpFormat(rel);
      if (!format || db === 'all') steps.push(`${rel}: not loaded (${db === 'all' ? 'whole-server dump' : 'not a single-database dump'})`);
      else if (isFileBased(format)) steps.push(`${rel}: loaded into ${path.join(scratch, `${db}.sqlite3`)}, tables and rows counted against the manifest`);
      else if (point.tier === 'remote' && !given) steps.push(`${rel}: not loaded (a drill of a snapshot loads ${format} dumps only into a scratch server given with --db-host/--db-socket)`);
      else steps.push(`${rel}: loaded into a new scratch ${format} database tierback_drill_<random> (${given ? 'the --db-* server' : "the app's own server"}), tables and rows counted against the manifest, then dropped`);
    }
  } else steps.push('dumps not loaded (--no-load)');
  return {
    app: app.name,
    point: { id: point.id, tier: point.tier, at: point.at, disk: point.disk },
    historyFile: path.join(drillHistoryDir(point, opts.root), historyFileName(drillHistoryName(app.name), dayOf(opts.now, site.timezone))),
    scratch,
    commands: [{ title: 'copy the backup into the scratch folder', argv: drillCopyArgv(point, copy) }],
    steps,
  };
}

export async function planDrills(site: Site, apps: readonly ResolvedApp[], opts: DrillPlanOptions): Promise<DrillPlan[]> {
  const out: DrillPlan[] = [];
  for (const app of apps) out.push(await planDrill(site, app, opts));
  return out;
}

export function formatDrillPlan(p: DrillPlan): string {
  if (p.skipped) return `${p.app}: would be skipped — ${p.skipped}`;
  const q = (a: string) => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const lines = [`${p.app}: would drill ${p.point!.id} (backed up ${p.point!.at.toISOString()}) from ${p.point!.disk}`, `  history:  ${p.historyFile} (appended: start, end)`, `  scratch:  ${p.scratch} (removed after)`];
  p.commands.forEach((c, i) => lines.push(`  ${i + 1}. ${c.title}`, `     ${c.argv.map(q).join(' ')}`));
  for (const s of p.steps) lines.push(`  then: ${s}`);
  return lines.join('\n');
}
