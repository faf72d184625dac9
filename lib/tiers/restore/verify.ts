/**
 * Restore drills (`tierback verify`): restore the newest backup of an app into a scratch folder and
 * check the copy the way its type says: the job's manifest (file count, checksums of every dump and
 * a sample of files), the type's own verify (git fsck, dump completeness), `git bundle verify` of any
 * bundle, and each database's newest dump loaded into a scratch database whose tables and rows are
 * counted (per table) against what the job counted in the dump. Results go to history (`kind=verify tier=drill`): the
 * app's job history on the VM, `<partition>/history` on a backup server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CHANGE_LIST_FILE, MANIFEST_FILE, serverHistoryDir } from '../../model/layout.js';
import { drillHistoryName } from '../../model/names.js';
import { ExitCode, INTERRUPTED_ERROR, NotFoundError, UsageError } from '../../base/errors.js';
import { exitCodeFor, type FinalStatus } from '../../model/outcome.js';
import { recordRun, type RunEnd } from '../../model/run-record.js';
import { createExec, describeCommand, type Exec } from '../../base/exec.js';
import { hostName, newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import { findApp } from '../../model/inventory/model.js';
import type { DbConnection } from '../engines/types.js';
import { getJobType } from '../jobs/registry.js';
import type { Logger } from '../../base/log.js';
import { readManifest, sha256File, walkFiles } from '../jobs/manifest.js';
import { appDatabase, pickConnection, countDatabase, dropDatabase, dumpFormat, isFileBased, runLoad } from './database.js';
import { type Point, type Tier } from './points.js';
import { drillCopyArgv, drillHistoryDir, drillPoint } from './drill-plan.js';
import { processKeys } from '../../model/runstate.js';

export interface DrillOptions {
  log: Logger;
  exec?: Exec;
  root?: string | undefined;
  /** Drill the snapshots of this backup server (the remote tier). */
  backupServer?: string | undefined;
  tier?: Tier | undefined;
  /** Where scratch folders go (default the system temp folder). */
  scratch?: string | undefined;
  /** Load dumps into scratch databases (default true). */
  load?: boolean | undefined;
  /** Connection for scratch MySQL/PostgreSQL databases, overriding the app's own. */
  connection?: DbConnection | undefined;
  /** Write the result to history (default true). */
  record?: boolean | undefined;
  now?: () => Date;
  signal?: AbortSignal | undefined;
}

export interface DrillCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface DrillOutcome {
  app: string;
  status: 'ok' | 'warning' | 'failed' | 'skipped';
  point: Point | undefined;
  checks: DrillCheck[];
  /** Failed checks, one line each. */
  problems: string[];
  commands: string[];
  historyFile?: string | undefined;
}

/** The apps a drill covers: those named, or every active app (of the servers a backup server pulls). */
export function selectDrillApps(site: Site, names: readonly string[], opts: { all?: boolean; backupServer?: string | undefined }): ResolvedApp[] {
  if (names.length && opts.all) throw new UsageError('give app names or --all, not both');
  if (names.length) return names.map((n) => findApp(site, n));
  if (!opts.all) throw new UsageError('name the apps to drill, or pass --all', 'e.g. tierback verify shop, or tierback verify --all');
  let apps = site.apps.filter((a) => a.status === 'active');
  if (opts.backupServer) {
    const b = site.backupServers.find((x) => x.server === opts.backupServer);
    if (!b) throw new NotFoundError(`"${opts.backupServer}" is not a backup server in ${site.file}`, `backup servers: ${site.backupServers.map((x) => x.server).join(', ') || 'none'}`);
    apps = apps.filter((a) => b.pulls.some((p) => p.server === a.server));
  }
  return apps;
}

async function copyPoint(exec: Exec, point: Point, dest: string, commands: string[], signal?: AbortSignal): Promise<void> {
  const argv = drillCopyArgv(point, dest);
  commands.push(describeCommand(argv));
  await exec.run({ argv }, signal);
}

async function findBundles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkFiles(dir)) if (e.file && e.rel.endsWith('.bundle')) out.push(e.rel);
  return out;
}

/**
 * Tables whose rows in the loaded scratch database differ from what the job counted in the dump,
 * one sentence each. Tables the job did not record (e.g. a partitioned parent) are not compared.
 */
export function compareTableRows(recorded: ReadonlyMap<string, number>, loaded: ReadonlyMap<string, number>): string[] {
  const out: string[] = [];
  for (const [table, want] of recorded) {
    const got = loaded.get(table);
    if (got === undefined) out.push(`table ${table}: missing from the loaded database (the job counted ${want} rows in the dump)`);
    else if (got !== want) out.push(`table ${table}: ${got} rows loaded, the job counted ${want} in the dump (the dump was changed or lost rows since the job wrote it)`);
  }
  return out;
}

/** Runs the drill of one app. Never throws for a failed check: the outcome and history say it. */
export async function drillApp(site: Site, app: ResolvedApp, opts: DrillOptions): Promise<DrillOutcome> {
  const exec = opts.exec ?? createExec(opts.log);
  const now = opts.now ?? (() => new Date());
  const checks: DrillCheck[] = [];
  const commands: string[] = [];
  const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
  const sel = { tier: opts.backupServer ? ('remote' as const) : opts.tier, backupServer: opts.backupServer };

  let point: Point;
  try {
    point = await drillPoint(site, app, { root: opts.root, ...sel }); // lib/tiers/restore/drill-plan.ts: shared with --dry-run
  } catch (err) {
    if (err instanceof NotFoundError) return { app: app.name, status: 'skipped', point: undefined, checks, problems: [err.message], commands };
    throw err;
  }

  const start = now();
  const run = newRunId(start);
  const historyDir = drillHistoryDir(point, opts.root);
  const base: HistoryRecord = { run, name: drillHistoryName(app.name), kind: 'verify', tier: 'drill', status: 'running', start, host: hostName(), type: app.type, extra: { point: point.id, ...processKeys() } };
  const r = await recordRun(
    { base, historyDir, timezone: site.timezone, record: opts.record ?? true, log: opts.log.child({ app: app.name }), what: 'drill', signal: opts.signal, end: now },
    () => drill(),
  );
  const ended = r.value ?? { status: 'failed' as const, problems: [r.record?.error ?? 'the drill failed'] };
  return { app: app.name, status: r.status === 'locked' ? 'failed' : r.status, point, checks, problems: ended.problems, commands, historyFile: r.historyFile };

  async function drill(): Promise<RunEnd<{ status: FinalStatus; problems: string[] }>> {
    const scratchRoot = await mkdtemp(path.join(opts.scratch ?? os.tmpdir(), `tierback-drill-${app.name}-`));
    const copy = path.join(scratchRoot, 'backup');
    const facts: Record<string, string> = { point: point.id };
    let files = 0;
    let bytes = 0;
    try {
      // 1. Restore the whole backup, as a person would.
      try {
        await copyPoint(exec, point, copy, commands, opts.signal);
        add('restore', true, `copied ${point.dir} (${point.id})`);
      } catch (err) {
        add('restore', false, `copying ${point.dir} failed: ${(err as Error).message}`);
        throw err;
      }

      // 2. The manifest: file count and checksums of every dump and a sample.
      const manifest = await readManifest(copy);
      for await (const e of walkFiles(copy)) {
        if (e.rel === MANIFEST_FILE || e.rel === CHANGE_LIST_FILE) continue;
        files++;
        bytes += e.size;
      }
      if (!manifest) add('manifest', true, 'no manifest (backup written before tierback wrote manifests): file counts and checksums not compared');
      else {
        add('file count', manifest.files === files, manifest.files === files ? `${files} files, as the job recorded` : `${files} files restored, the job recorded ${manifest.files}`);
        let bad = 0;
        for (const [rel, sum] of manifest.sums) {
          const got = await sha256File(path.join(copy, rel)).catch(() => undefined);
          if (got !== sum) {
            bad++;
            add('checksum', false, `${rel}: ${got === undefined ? 'missing from the restored copy' : 'content differs from what the job wrote (corrupted)'}`);
          }
        }
        if (bad === 0) add('checksum', true, `${manifest.sums.size} checksums match (every dump and a sample of files)`);
      }

      // 3. The type's own checks (git fsck, dump completeness, expected folders).
      const type = getJobType(app.type);
      const problems = await type.verify(copy, app.options, { exec, log: opts.log, signal: opts.signal });
      if (problems.length === 0) add(`${app.type} checks`, true, 'the type\'s own checks pass');
      for (const p of problems) add(`${app.type} checks`, false, `${p.path}: ${p.message}`);

      // 4. Git bundles, wherever they are.
      const bundles = await findBundles(copy);
      if (bundles.length) {
        const bare = path.join(scratchRoot, 'bundle-check.git');
        await exec.run({ argv: ['git', 'init', '--quiet', '--bare', bare] });
        let i = 0;
        for (const b of bundles) {
          // `bundle verify` checks the header and prerequisites; cloning reads every object (index-pack checks the pack).
          const verify = ['git', '-c', 'safe.directory=*', '--git-dir', bare, 'bundle', 'verify', '--quiet', path.join(copy, b)];
          const clone = ['git', '-c', 'safe.directory=*', 'clone', '--quiet', '--mirror', path.join(copy, b), path.join(scratchRoot, `bundle-${++i}.git`)];
          let step = 'git bundle verify';
          try {
            commands.push(describeCommand(verify));
            await exec.run({ argv: verify }, opts.signal);
            step = 'git clone of the bundle';
            commands.push(describeCommand(clone));
            await exec.run({ argv: clone }, opts.signal);
            add('git bundle', true, `${b} verifies and clones`);
          } catch (err) {
            add('git bundle', false, `${b}: ${step} failed: ${(err as Error).message}`);
          }
        }
      }

      // 5. The newest dump of each database, loaded into a scratch database and counted.
      if (opts.load ?? true) {
        const newest = new Map<string, string>();
        for (const d of point.dumps) newest.set(d.db, d.file);
        for (const [db, rel] of newest) {
          const file = path.join(copy, rel);
          const format = dumpFormat(file);
          if (!format || db === 'all') {
            add('load', true, `${rel}: ${db === 'all' ? 'whole-server dump' : 'not a single-database dump'}, not loaded (checksum and completeness checked)`);
            continue;
          }
          const given = Object.values(opts.connection ?? {}).some((v) => v !== undefined);
          if (!isFileBased(format) && point.tier === 'remote' && !given) {
            // A backup server usually has no database server, and the app's own settings name the app's server.
            add('load', true, `${rel}: not loaded (a drill of a snapshot loads MySQL/PostgreSQL dumps only into a scratch server given with --db-host/--db-socket); checksum and completeness checked`);
            continue;
          }
          const own = await appDatabase(app, format, db);
          const conn = pickConnection(own.conn, opts.connection);
          const target = isFileBased(format) ? path.join(scratchRoot, `${db}.sqlite3`) : `tierback_drill_${randomBytes(4).toString('hex')}`;
          try {
            commands.push(...(await runLoad(exec, format, file, target, conn, opts.signal)));
            const c = await countDatabase(exec, format, target, conn, opts.signal);
            facts[`${db}_tables`] = String(c.tables);
            facts[`${db}_rows`] = String(c.rows);
            const want = manifest?.dumps.get(rel);
            const expected = want ? ` (job recorded${want.tables !== undefined ? ` ${want.tables} tables` : ''}${want.rows !== undefined ? ` ${want.rows} rows` : ''})` : '';
            const tablesOk = want?.tables === undefined || want.tables === c.tables;
            const differ = want?.tableRows ? compareTableRows(want.tableRows, c.tableRows) : [];
            // Per-table counts decide when the job recorded them; older manifests only have a total.
            const rowsOk = want?.tableRows ? differ.length === 0 : want?.rows === undefined || want.rows === c.rows;
            add('load', tablesOk && rowsOk, `${rel}: loaded into a scratch database: ${c.tables} tables, ${c.rows} rows${expected}`);
            for (const d of differ) add('rows', false, `${rel}: ${d}`);
            if (want?.tableRows && differ.length === 0) add('rows', true, `${rel}: rows of each of ${want.tableRows.size} tables match what the job counted in the dump`);
          } catch (err) {
            add('load', false, `${rel}: loading into a scratch database failed: ${(err as Error).message}`);
          } finally {
            const e = await dropDatabase(exec, format, target, conn);
            if (e) opts.log.warn({ app: app.name, target, err: e }, 'could not drop the scratch database');
          }
        }
      }
    } catch (err) {
      if (!checks.some((c) => !c.ok)) add('drill', false, (err as Error).message);
    } finally {
      await rm(scratchRoot, { recursive: true, force: true });
    }

    const interrupted = opts.signal?.aborted ?? false;
    const problems = interrupted ? [INTERRUPTED_ERROR] : checks.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`);
    const status: FinalStatus = problems.length ? 'failed' : !checks.some((c) => c.check === 'file count') ? 'warning' : 'ok';
    const fields = {
      files,
      bytes,
      mb: bytes / 1e6,
      ...(problems.length ? { error: problems.join('; ') } : {}),
      ...(status === 'warning' ? { warning: 'no manifest: counts and checksums not compared' } : {}),
      extra: facts,
    };
    return { status, fields, value: { status, problems } };
  }
}

/** Drills several apps one after the other; one failing does not stop the others. */
export async function drillApps(site: Site, apps: readonly ResolvedApp[], opts: DrillOptions): Promise<DrillOutcome[]> {
  const out: DrillOutcome[] = [];
  for (const app of apps) {
    if (opts.signal?.aborted) break;
    out.push(await drillApp(site, app, opts));
  }
  return out;
}

/** The drills that count for the exit code (exitCodeFor, lib/model/outcome.ts; nothing to drill is a failure): apps not drilled here ("skipped") count only when named. */
export function countedDrills(outcomes: readonly DrillOutcome[], named: boolean): DrillOutcome[] {
  return named ? [...outcomes] : outcomes.filter((o) => o.status !== 'skipped');
}


