/** `tierback status --check`: a status report as a Nagios/Icinga plugin's line and exit code. */
import type { AppState, StatusReport } from './index.js';

export const CheckCode = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type CheckCodeValue = (typeof CheckCode)[keyof typeof CheckCode];

/** One line of summary plus perfdata, and the plugin exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). */
export function checkResult(report: StatusReport): { code: CheckCodeValue; line: string } {
  const c = report.counts;
  const bad = report.rows.filter((r) => r.state !== 'OK');
  let code: CheckCodeValue;
  let label: string;
  if (report.rows.length === 0) {
    code = CheckCode.UNKNOWN;
    label = 'UNKNOWN';
  } else if (c.FAILED + c.MISSING > 0) {
    code = CheckCode.CRITICAL;
    label = 'CRITICAL';
  } else if (c.STALE + c.SHRUNK + c.OVERDUE > 0 || report.problems.length > 0) {
    code = CheckCode.WARNING;
    label = 'WARNING';
  } else {
    code = CheckCode.OK;
    label = 'OK';
  }
  const parts: string[] = [];
  if (report.rows.length === 0) parts.push('no app backups visible on this machine (check --root, --host and the inventory)');
  else {
    const n = (k: AppState) => (c[k] ? `${c[k]} ${k.toLowerCase()}` : undefined);
    const counted = [n('FAILED'), n('MISSING'), n('STALE'), n('SHRUNK'), n('OVERDUE')].filter(Boolean).join(', ');
    parts.push(`${c.OK}/${report.rows.length} ok${counted ? `, ${counted}` : ''}`);
    if (bad.length) {
      const names = bad.slice(0, 10).map((r) => `${r.app}/${r.tier}${r.backupServer ? `@${r.backupServer}` : ''}=${r.state}`);
      parts.push(`${names.join(' ')}${bad.length > 10 ? ` (+${bad.length - 10} more)` : ''}`);
    }
    if (report.problems.length) parts.push(`${report.problems.length} unreadable history line(s)`);
  }
  const oldest = Math.max(0, ...report.rows.map((r) => r.ageS ?? 0));
  const perf = [
    `ok=${c.OK}`,
    `stale=${c.STALE};;`,
    `shrunk=${c.SHRUNK}`,
    `overdue=${c.OVERDUE}`,
    `failed=${c.FAILED}`,
    `missing=${c.MISSING}`,
    `history_problems=${report.problems.length}`,
    `oldest_age=${oldest}s`,
  ].join(' ');
  return { code, line: `TIERBACK ${label} - ${parts.join('; ')} | ${perf}` };
}
