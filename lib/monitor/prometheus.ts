/** Prometheus text exposition format for node_exporter's textfile collector, written atomically. */
import { writeFileAtomic } from '../fsutil.js';
import { STATES, type StatusReport, type StatusRow } from '../status.js';

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(r: StatusRow, extra: Record<string, string> = {}): string {
  const l: Record<string, string> = { app: r.app, tier: r.tier, server: r.server, backup_server: r.backupServer ?? '', ...extra };
  return `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));

/** The metrics of a status report, in the text format. */
export function renderPrometheus(report: StatusReport): string {
  const out: string[] = [];
  const metric = (name: string, help: string, rows: [StatusRow, number | undefined, Record<string, string>?][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [r, v, extra] of rows) if (v !== undefined && Number.isFinite(v)) out.push(`${name}${labels(r, extra)} ${num(v)}`);
  };
  const rows = report.rows;
  metric('tierback_last_success_timestamp_seconds', 'End of the last successful backup (remote: of the last successful pull carrying it), Unix time.', rows.map((r) => [r, r.lastSuccess ? Date.parse(r.lastSuccess) / 1000 : undefined]));
  metric('tierback_age_seconds', 'Seconds since the last success when the status was computed.', rows.map((r) => [r, r.ageS]));
  metric('tierback_files', 'Files in the last successful backup.', rows.map((r) => [r, r.files]));
  metric('tierback_bytes', 'Size of the last successful backup in bytes.', rows.map((r) => [r, r.bytes]));
  metric('tierback_duration_seconds', 'Duration of the last successful backup.', rows.map((r) => [r, r.durationS]));
  metric('tierback_stale_after_seconds', 'Age after which the backup counts as stale.', rows.map((r) => [r, r.staleAfterS]));
  metric('tierback_ok', '1 when the state is OK, else 0.', rows.map((r) => [r, r.state === 'OK' ? 1 : 0]));
  metric('tierback_status', 'State of the backup: 1 for the current state, 0 for the others.', rows.flatMap((r) => STATES.map((s) => [r, r.state === s ? 1 : 0, { state: s }] as [StatusRow, number, Record<string, string>])));
  out.push('# HELP tierback_history_problems Unreadable history lines found.', '# TYPE tierback_history_problems gauge', `tierback_history_problems ${report.problems.length}`);
  out.push('# HELP tierback_status_timestamp_seconds When this status was computed, Unix time.', '# TYPE tierback_status_timestamp_seconds gauge', `tierback_status_timestamp_seconds ${num(Date.parse(report.generatedAt) / 1000)}`);
  return `${out.join('\n')}\n`;
}

/** Writes the textfile atomically (readable by node_exporter: 0644; it holds no secrets). */
export async function writePrometheusTextfile(file: string, report: StatusReport): Promise<void> {
  await writeFileAtomic(file, renderPrometheus(report), 0o644);
}
