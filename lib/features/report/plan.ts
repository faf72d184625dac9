/** `tierback report --html FILE --dry-run`: the page is built, and what writing it would do is described; nothing is written. */
import path from 'node:path';
import { exists } from '../../base/fsutil.js';
import type { Site } from '../../model/inventory/model.js';
import { buildReport, renderReportHtml, type ReportOptions } from './index.js';

export interface ReportPlan {
  /** The page it would write (replaced atomically: a temporary file beside it, then renamed). */
  file: string;
  /** Whether `file` exists now (it would be replaced). */
  replaces: boolean;
  /** The temporary file's name pattern. */
  temp: string;
  /** The folder it would create first (0700), when `file`'s folder does not exist. */
  mkdir?: string;
  mode: '0644';
  bytes: number;
  rows: number;
  failures: number;
  days: number;
}

export async function planHtmlReport(site: Site, file: string, opts: ReportOptions = {}): Promise<ReportPlan> {
  const data = await buildReport(site, opts);
  const dir = path.dirname(file);
  return {
    file,
    replaces: await exists(file),
    temp: `${file}.tmp-<pid>-<random>`,
    ...((await exists(dir)) ? {} : { mkdir: dir }),
    mode: '0644',
    bytes: Buffer.byteLength(renderReportHtml(data)),
    rows: data.rows.length,
    failures: data.failures.length,
    days: data.days.length,
  };
}
