/**
 * Before a job writes anything: every level from its root down to the app's folder must be a real
 * folder, never a symlink. The root is the partition when the job sees the local tree
 * on the server itself (`<partition>/local/<vm>` or `_host`), else the VM's mount as configured.
 * Checked: `local/<vm>` (or `_host`), `<mount>/_history` and today's history file of the app, each
 * folder of the relpath and the app's folder itself. A refusal is a RefusedError (exit 6) naming
 * the path, where it points and what to do; it is recorded in history only when the history
 * folder itself is safe (never through the symlink). Also: the mount must exist (prepareMount).
 */
import path from 'node:path';
import { HISTORY_DIR, segmentsUnder, vmHistoryDir } from '../../model/layout.js';
import { HOST_VM, historyFileName } from '../../model/names.js';
import { NotFoundError, RefusedError, errorText } from '../../base/errors.js';
import { assertInside, ensureDir, isDir } from '../../base/fsutil.js';
import { appendRecord, dayOf, hostName, newRunId, type HistoryRecord } from '../../model/history.js';
import type { ResolvedApp, Site } from '../../model/inventory/model.js';
import type { Logger } from '../../base/log.js';
import { describeUnsafe, unsafeLevel, type UnsafeLevel } from '../../model/treecheck.js';
import type { JobOutcome } from './run.js';

/** A job refused because a level of its backup path is a symlink, not a folder, or resolves outside its root. */
export class UnsafePathError extends RefusedError {
  readonly path: string;
  /** The history folder is safe: the refusal can be recorded there. */
  readonly historySafe: boolean;
  constructor(message: string, hint: string, p: string, historySafe: boolean) {
    super(message, hint);
    this.path = p;
    this.historySafe = historySafe;
  }
}

/** Where the job's checks start: the partition (the job runs on the server), or the VM's mount. */
export function jobRoot(app: ResolvedApp): { root: string; mountSegments: string[] } {
  const under = segmentsUnder(app.partition, app.mount);
  return under ? { root: app.partition, mountSegments: under } : { root: app.mount, mountSegments: [] };
}

/** The inventory key that places the app's mount: `servers[i].partition` or `vms[i].mount`. */
function mountKey(site: Site, app: ResolvedApp): string {
  if (app.vm === HOST_VM) {
    const i = site.servers.findIndex((s) => s.fqdn === app.server);
    return i >= 0 ? `servers[${i}].partition` : 'defaults.partition';
  }
  const v = site.vms.find((x) => x.name === app.vm);
  return v ? `vms[${v.index}].mount` : 'defaults.mount';
}

function fix(u: UnsafeLevel, otherwise: string): string {
  return u.kind === 'symlink'
    ? `replace the symlink by a real folder (move what it points to into its place), or ${otherwise}`
    : `move it away (the job creates the folder it needs), or ${otherwise}`;
}

/** Throws UnsafePathError for the first unsafe level of the app's backup path; `day` is today's yyyymmdd (history file). */
export async function checkJobPaths(site: Site, app: ResolvedApp, target: string, day: string): Promise<void> {
  const who = `app "${app.name}"`;
  const { root, mountSegments } = jobRoot(app);
  const mountLevel = unsafeLevel(root, mountSegments);
  if (mountLevel) {
    const last = mountLevel.index === mountSegments.length - 1;
    const what = !last ? 'a folder of the local tier' : app.vm === HOST_VM ? `the server's own folder (${HOST_VM})` : `VM ${app.vm}'s folder`;
    throw new UnsafePathError(
      `${who}: ${describeUnsafe(mountLevel)} (${what}); tierback never writes backups, locks or history through it; nothing was written`,
      fix(mountLevel, `set ${mountKey(site, app)} in the inventory to the real place`),
      mountLevel.path,
      false,
    );
  }
  const historyLevel = unsafeLevel(app.mount, [HISTORY_DIR, historyFileName(app.name, day)], { lastIsFile: true });
  if (historyLevel) {
    const what = historyLevel.index === 0 ? 'the history folder' : `${app.name}'s history file`;
    throw new UnsafePathError(
      `${who}: ${describeUnsafe(historyLevel)} (${what}); tierback never writes history through it; nothing was written`,
      historyLevel.kind === 'symlink' ? `replace the symlink by a real ${historyLevel.index === 0 ? 'folder' : 'file'} (move what it points to into its place)` : 'move it away',
      historyLevel.path,
      false,
    );
  }
  const segments = app.relpath.split('/');
  const appLevel = unsafeLevel(app.mount, segments);
  if (appLevel) {
    const what = appLevel.index === segments.length - 1 ? "the app's backup folder" : `a folder of apps[${app.index}].relpath`;
    throw new UnsafePathError(
      `${who}: ${describeUnsafe(appLevel)} (${what}); tierback never writes a backup through it`,
      fix(appLevel, `change apps[${app.index}].relpath`),
      appLevel.path,
      true,
    );
  }
  if (!(await isDir(root))) return; // nothing there to write through: prepareMount says what is missing
  try {
    await assertInside(root, target);
  } catch (err) {
    if (!(err instanceof RefusedError)) throw err;
    throw new UnsafePathError(`${who}: ${err.message}`, err.hint ?? '', target, true);
  }
}

/**
 * Runs checkJobPaths; on a refusal records it (status=failed) in the app's history when that is
 * safe, tells the monitoring hook, and returns the failed outcome. Undefined when the paths are safe.
 */
export async function refuseUnsafePaths(
  site: Site,
  app: ResolvedApp,
  target: string,
  opts: { now: () => Date; log: Logger; onFinished?: ((record: HistoryRecord) => Promise<void>) | undefined },
): Promise<JobOutcome | undefined> {
  const start = opts.now();
  try {
    await checkJobPaths(site, app, target, dayOf(start, site.timezone));
    return undefined;
  } catch (err) {
    if (!(err instanceof UnsafePathError)) throw err;
    opts.log.warn({ err: err.message, path: err.path }, 'job refused');
    const record: HistoryRecord = {
      run: newRunId(start),
      name: app.name,
      kind: 'job',
      tier: 'local',
      type: app.type,
      status: 'failed',
      start,
      end: start,
      durationS: 0,
      host: hostName(),
      error: errorText(err).slice(0, 2000),
    };
    let written = false;
    if (err.historySafe) {
      try {
        await appendRecord(vmHistoryDir(app.mount), record, site.timezone);
        written = true;
      } catch (e) {
        opts.log.warn({ err: (e as Error).message }, 'cannot record the refusal in history');
      }
    }
    await opts.onFinished?.(record).catch((e: unknown) => opts.log.warn({ err: (e as Error).message }, 'onFinished hook failed (the job itself is not affected)'));
    return { app: app.name, status: 'failed', record: written ? record : undefined, target, plan: undefined, error: err };
  }
}

/** The VM mount (or the server's _host folder) must exist: a missing mount means the backup disk is not there. */
export async function prepareMount(app: ResolvedApp): Promise<void> {
  if (await isDir(app.mount)) return;
  if (app.vm === HOST_VM && (await isDir(path.dirname(path.dirname(app.mount))))) {
    await ensureDir(app.mount);
    return;
  }
  throw new NotFoundError(
    `app "${app.name}": the backup folder ${app.mount} does not exist`,
    app.vm === HOST_VM
      ? `create the partition ${path.dirname(path.dirname(app.mount))} (or set servers[].partition)`
      : `mount <partition>/local/${app.vm} of ${app.server} at ${app.mount} inside VM ${app.vm} (or set vms[].mount)`,
  );
}
