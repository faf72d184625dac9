/** Prometheus text exposition format for node_exporter's textfile collector, written atomically. */
import { writeChunksAtomic } from '../../base/fsutil.js';
import { STATES, type StatusReport, type StatusRow } from '../status/index.js';

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A row's labels without the closing brace, built once per row (15 metrics x 8,000 rows at 4,000 apps). */
const rowLabels = new WeakMap<StatusRow, string>();
function labels(r: StatusRow, extra: Record<string, string> = {}): string {
  let base = rowLabels.get(r);
  if (base === undefined) {
    const l: Record<string, string> = { app: r.app, tier: r.tier, server: r.server, backup_server: r.backupServer ?? '' };
    rowLabels.set(r, (base = `{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}`));
  }
  const more = Object.entries(extra).map(([k, v]) => `,${k}="${esc(v)}"`).join('');
  return `${base}${more}}`;
}

const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));

/** The metrics of a status report, in the text format. */
export function renderPrometheus(report: StatusReport): string {
  return [...prometheusChunks(report)].join('');
}

/**
 * The text format in chunks of about a thousand lines, made as they are written: at 4,000 apps the
 * file is about 100,000 lines, never held whole (nor its lines as one array).
 */
export function* prometheusChunks(report: StatusReport): Generator<string> {
  let buf: string[] = [];
  const line = function* (l: string): Generator<string> {
    buf.push(l);
    if (buf.length >= 1000) {
      yield `${buf.join('\n')}\n`;
      buf = [];
    }
  };
  const rows = report.rows;
  const metric = function* (name: string, help: string, value: (r: StatusRow) => number | undefined): Generator<string> {
    yield* line(`# HELP ${name} ${help}`);
    yield* line(`# TYPE ${name} gauge`);
    for (const r of rows) {
      const v = value(r);
      if (v !== undefined && Number.isFinite(v)) yield* line(`${name}${labels(r)} ${num(v)}`);
    }
  };
  yield* metric('tierback_last_success_timestamp_seconds', 'End of the last successful backup (remote: of the last successful pull carrying it), Unix time.', (r) => (r.lastSuccess ? Date.parse(r.lastSuccess) / 1000 : undefined));
  yield* metric('tierback_age_seconds', 'Seconds since the last success when the status was computed.', (r) => r.ageS);
  yield* metric('tierback_files', 'Files in the last successful backup.', (r) => r.files);
  yield* metric('tierback_bytes', 'Size of the last successful backup in bytes.', (r) => r.bytes);
  yield* metric('tierback_duration_seconds', 'Duration of the last successful backup.', (r) => r.durationS);
  yield* metric('tierback_stale_after_seconds', 'Age after which the backup counts as stale.', (r) => r.staleAfterS);
  yield* metric('tierback_ok', '1 when the state is OK, else 0.', (r) => (r.state === 'OK' ? 1 : 0));
  yield* line('# HELP tierback_status State of the backup: 1 for the current state, 0 for the others.');
  yield* line('# TYPE tierback_status gauge');
  for (const r of rows) for (const st of STATES) yield* line(`tierback_status${labels(r, { state: st })} ${r.state === st ? 1 : 0}`);
  yield* metric('tierback_running', '1 while a run of this row is in progress (local: the job; remote: a pull of its server; offsite: a copy), else 0.', (r) => (r.running ? 1 : 0));
  // One series per run in progress (a pull is one run for all the apps of its server); count by (server, kind) for totals.
  yield* line('# HELP tierback_run_start_timestamp_seconds Start of each run in progress, Unix time (kind: job, pull, offsite, verify).');
  yield* line('# TYPE tierback_run_start_timestamp_seconds gauge');
  for (const x of report.running) {
    const l = { kind: x.kind, app: x.app ?? '', tier: x.tier, server: x.server, backup_server: x.backupServer ?? '', target: x.target ?? '' };
    yield* line(`tierback_run_start_timestamp_seconds{${Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}} ${num(Date.parse(x.start) / 1000)}`);
  }
  yield* line('# HELP tierback_running_runs Runs in progress per server and kind.');
  yield* line('# TYPE tierback_running_runs gauge');
  const counts = new Map<string, number>();
  for (const x of report.running) counts.set(`${x.kind}\0${x.server}`, (counts.get(`${x.kind}\0${x.server}`) ?? 0) + 1);
  for (const [k, n] of counts) {
    const [kind, server] = k.split('\0') as [string, string];
    yield* line(`tierback_running_runs{kind="${esc(kind)}",server="${esc(server)}"} ${n}`);
  }
  yield* line('# HELP tierback_history_problems Unreadable history lines found.');
  yield* line('# TYPE tierback_history_problems gauge');
  yield* line(`tierback_history_problems ${report.problems.length}`);
  yield* line('# HELP tierback_status_timestamp_seconds When this status was computed, Unix time.');
  yield* line('# TYPE tierback_status_timestamp_seconds gauge');
  yield* line(`tierback_status_timestamp_seconds ${num(Date.parse(report.generatedAt) / 1000)}`);
  if (buf.length) yield `${buf.join('\n')}\n`;
}

/** Writes the textfile atomically (readable by node_exporter: 0644; it holds no secrets). */
export async function writePrometheusTextfile(file: string, report: StatusReport): Promise<void> {
  await writeChunksAtomic(file, prometheusChunks(report), 0o644);
}
