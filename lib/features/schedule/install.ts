/** Idempotent install of a host's schedule: /etc/cron.d/tierback or systemd units (lib/features/schedule/render.ts). */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { Exec } from '../../base/exec.js';
import { ensureDir, exists, writeFileAtomic } from '../../base/fsutil.js';
import type { Site } from '../../model/inventory/model.js';
import type { HostSchedule, ScheduleFormat } from './index.js';
import { GENERATED_MARK, renderCron, renderSystemd, unitBaseName } from './render.js';

export interface InstallOptions {
  format: ScheduleFormat;
  /** Prefix for /etc and /var (tests use a temp dir); default "/". */
  root?: string;
  /** Run systemctl daemon-reload / enable --now (default: when root is "/"). */
  activate?: boolean;
  exec?: Exec;
  /** Decide everything (files written, unchanged, removed; commands run) but write, remove and run nothing. */
  dryRun?: boolean;
  /** Replace (or remove) files edited by hand since tierback installed them (default: keep them, listed in `kept`). */
  force?: boolean;
}

export interface InstallResult {
  written: string[];
  unchanged: string[];
  removed: string[];
  /** Files edited by hand since tierback installed them (their digest line no longer matches): left as they are. */
  kept: string[];
  /** Commands run to activate (systemctl), as argv. */
  activated: string[][];
  logDir: string;
}

export const CRON_FILE = '/etc/cron.d/tierback';
export const SYSTEMD_DIR = '/etc/systemd/system';

async function readOr(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const DIGEST_PREFIX = '# tierback-digest sha256:';

/**
 * The installed form of a generated file: its text and a last line with the SHA-256 of that text,
 * so a later install can tell a file edited by hand (docs/operate.md#hand-edits) from its own.
 */
export function sealed(content: string): string {
  return `${content}${DIGEST_PREFIX}${sha256(content)} (schedule --install keeps this file if it is edited; change the inventory instead)\n`;
}

/** True when an installed file's text (without its digest line) no longer has the digest tierback wrote. Files without one (older installs) are not. */
export function handEdited(text: string): boolean {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(DIGEST_PREFIX));
  if (at < 0) return false;
  const digest = lines[at]!.slice(DIGEST_PREFIX.length, DIGEST_PREFIX.length + 64);
  lines.splice(at, 1);
  return sha256(lines.join('\n')) !== digest;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Writes the schedule of the host: /etc/cron.d/tierback, or tierback-*.service/.timer units. Idempotent. */
export async function installSchedule(plan: HostSchedule, site: Site, opts: InstallOptions): Promise<InstallResult> {
  const root = opts.root ?? '/';
  const at = (p: string) => path.join(root, p);
  const result: InstallResult = { written: [], unchanged: [], removed: [], kept: [], activated: [], logDir: at(plan.logDir) };
  const dry = opts.dryRun ?? false; // same decisions, nothing done (`schedule --install --dry-run`)
  if (!dry) await ensureDir(at(plan.logDir), 0o750);
  const write = async (file: string, generated: string) => {
    const content = sealed(generated);
    const existing = await readOr(file);
    if (existing === content) {
      result.unchanged.push(file);
      return;
    }
    if (existing !== undefined && handEdited(existing) && !opts.force) {
      result.kept.push(file);
      return;
    }
    // cron ignores files that are group- or other-writable; units are world-readable like every unit.
    if (!dry) await writeFileAtomic(file, content, 0o644);
    result.written.push(file);
  };
  if (opts.format === 'cron') {
    if (!dry) await ensureDir(path.dirname(at(CRON_FILE)), 0o755);
    await write(at(CRON_FILE), renderCron(plan, site));
    return result;
  }
  const dir = at(SYSTEMD_DIR);
  if (!dry) await ensureDir(dir, 0o755);
  const units = renderSystemd(plan, site);
  for (const u of units) await write(path.join(dir, u.name), u.content);
  // Remove our own units that the inventory no longer asks for (only files carrying our mark).
  const activate = (opts.activate ?? root === '/') && opts.exec !== undefined;
  const run = async (argv: string[]) => {
    result.activated.push(argv);
    if (!dry) await opts.exec!.run({ argv });
  };
  const wanted = new Set(units.map((u) => u.name));
  for (const name of (dry && !(await exists(dir)) ? [] : await readdir(dir)).sort()) {
    if (!/^tierback-.*\.(service|timer)$/.test(name) || wanted.has(name)) continue;
    const file = path.join(dir, name);
    const existing = (await stat(file)).isFile() ? await readOr(file) : undefined;
    if (!existing?.includes(GENERATED_MARK)) continue;
    if (handEdited(existing) && !opts.force) {
      result.kept.push(file);
      continue;
    }
    if (activate && name.endsWith('.timer')) await run(['systemctl', 'disable', '--now', name]);
    if (!dry) await rm(file);
    result.removed.push(file);
  }
  if (activate) {
    await run(['systemctl', 'daemon-reload']);
    const timers = units.filter((u) => u.name.endsWith('.timer')).map((u) => u.name);
    if (timers.length > 0) await run(['systemctl', 'enable', '--now', ...timers]);
  }
  return result;
}
