/** `tierback pull [SERVER...]`: pull servers' local tiers into dated snapshots (docs/remote.md). */
import type { CommandModule } from 'yargs';
import { monitorHooks } from '../../lib/features/monitor/index.js';
import { exitCodeFor } from '../../lib/model/outcome.js';
import { resolveBackupServer, runPulls, type PullOutcome, type PullProgress } from '../../lib/tiers/pull/pull.js';
import { EXIT_CODES_EPILOG, clockOf, nowOf, out, printJson, runOnSite, table, type GlobalArgs } from '../context.js';
import { formatPullPlan, planPulls } from '../../lib/tiers/pull/plan.js';
import { EtaEstimator, formatEta } from '../../lib/base/progress.js';
import { intOption } from '../int-option.js';
import { interruptSignal } from '../lifecycle.js';
import { ExitCode } from '../../lib/base/errors.js';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_S, DEFAULT_TRANSFERS } from '../../lib/tiers/pull/budget.js';
import { DEFAULT_CONNECT_TIMEOUT_S } from '../../lib/tiers/pull/ssh.js';
import { backupServerOption, dryRunOption, jsonOption } from '../options.js';

interface Args extends GlobalArgs {
  servers?: string[];
  'backup-server'?: string;
  json?: boolean;
  'dry-run'?: boolean;
  progress?: boolean;
  transfers?: number;
  concurrency?: number;
  streams?: number;
  retries?: number;
  'retry-delay'?: number;
  'connect-timeout'?: number;
  full?: boolean;
  'change-lists'?: boolean;
}

/** The transfer budget's command-line overrides (lib/tiers/pull/budget.ts). */
function budgetArgs(argv: Args): { transfers?: number; concurrency?: number; streams?: number } {
  return {
    ...(argv.transfers !== undefined ? { transfers: argv.transfers } : {}),
    ...(argv.concurrency !== undefined ? { concurrency: argv.concurrency } : {}),
    ...(argv.streams !== undefined ? { streams: argv.streams } : {}),
  };
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '' : (bytes / 1e6).toFixed(1);
}

function formatOutcome(o: PullOutcome): (string | number | undefined)[] {
  const detail = o.error ?? o.warning ?? (o.resumed ? `resumed ${o.resumed}.partial` : '');
  return [o.server, o.status.toUpperCase(), o.snapshot ?? (o.kept ? `kept ${o.kept}` : '-'), o.stats?.files, mb(o.stats?.totalBytes), mb(o.stats?.receivedBytes), o.durationS.toFixed(1), detail];
}

export const pullCommand: CommandModule<GlobalArgs, Args> = {
  command: 'pull [servers..]',
  describe: 'Pull servers\' local tiers over SSH into dated, hardlinked snapshots (run from the backup server\'s crontab)',
  builder: (y) =>
    y
      .positional('servers', { type: 'string', array: true, describe: 'Servers to pull (default: every server this backup server pulls)' })
      .option('backup-server', backupServerOption('Which backup server this host is (else $TIERBACK_HOST, else the hostname, else the only one)'))
      .option('json', jsonOption('Outcomes (or plans with --dry-run) as JSON'))
      .option('dry-run', dryRunOption('Print the plan (paths written and replaced, every rsync as argv) and do nothing: no lock, no history, no contact with the server'))
      .option('progress', { type: 'boolean', describe: 'Show rsync progress (default: on when stderr is a terminal)' })
      .option('transfers', intOption('transfers', { min: 1, max: 64 }, { describe: `rsync processes at once, all servers together (default: backup_servers[].transfers, ${DEFAULT_TRANSFERS}; with --concurrency and --streams: their product)` }))
      .option('concurrency', intOption('concurrency', { min: 1, max: 64 }, { describe: 'Servers pulled at the same time (default: backup_servers[].concurrency, else the transfers; never more than the transfers)' }))
      .option('streams', intOption('streams', { min: 1, max: 64 }, { describe: 'rsync processes per server, one per top-level folder at a time (default: backup_servers[].streams, "auto": from the last pull\'s files and the budget; 1 = a single rsync)' }))
      .option('retries', intOption('retries', { min: 0, max: 20 }, { default: DEFAULT_RETRIES, describe: 'Retries after a connection failure, with exponential backoff' }))
      .option('retry-delay', intOption('retry-delay', { min: 0, max: 3600, decimals: true }, { default: DEFAULT_RETRY_DELAY_S, describe: 'Seconds before the first retry (doubles each time)' }))
      .option('connect-timeout', intOption('connect-timeout', { min: 1, max: 600 }, { default: DEFAULT_CONNECT_TIMEOUT_S, describe: 'SSH connect timeout in seconds (connection and handshake)' }))
      .option('full', { type: 'boolean', describe: 'Walk every folder and check the change lists (btrfs engine; else every full_pull_every, default weekly)' })
      .option('change-lists', { type: 'boolean', default: true, describe: 'Use the jobs\' change lists with the btrfs engine (--no-change-lists: walk everything, check nothing)' })
      .example('$0 pull', 'pull every server this backup server is assigned (crontab)')
      .example('$0 pull zg-3.softxs.ch --backup-server odin.softxs.ch', 'pull one server now')
      .example('$0 pull --json', 'outcomes as JSON')
      .example('$0 pull zg-3.softxs.ch --dry-run', 'the plan: folders it would write and switch, and each rsync as argv')
      .example('$0 pull --streams 1', 'one rsync per server instead of one per top-level folder')
      .example('$0 pull --transfers 16', 'a bigger budget: up to 16 rsync processes at once')
      .epilog(`Each server is pulled into <partition>/snapshots/<server>/<stamp>.partial, renamed when complete, and\n<partition>/remote/<server> is switched to it atomically. A failed pull keeps the previous snapshot current\nand is written to <partition>/history/backup-pull-<server>-<yyyymmdd>. See docs/remote.md.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site, log) => {
    const backupServer = resolveBackupServer(site, argv['backup-server']);
    if (argv['dry-run']) {
      const plans = await planPulls(site, backupServer, { servers: argv.servers, now: nowOf(argv).now ?? new Date(), ...budgetArgs(argv), connectTimeoutS: argv['connect-timeout'] ?? DEFAULT_CONNECT_TIMEOUT_S, progress: argv.progress ?? (Boolean(process.stderr.isTTY) && !argv.json), full: argv.full, changeLists: argv['change-lists'] });
      if (argv.json) printJson({ backupServer: backupServer.server, dryRun: true, plans });
      else out(plans.map(formatPullPlan).join('\n'));
      return ExitCode.OK;
    }
    const progress = argv.progress ?? (Boolean(process.stderr.isTTY) && !argv.json);
    let lastDraw = 0;
    const etas = new Map<string, EtaEstimator>();
    const onProgress = progress
      ? (p: PullProgress) => {
          const t = Date.now();
          // An eta only once every stream has its total and the rate holds (lib/base/progress.ts); rsync's own is about bytes.
          const estimator = etas.get(p.server) ?? etas.set(p.server, new EtaEstimator()).get(p.server)!;
          const eta = estimator.add({ atMs: t, done: (p.total ?? 0) - (p.toCheck ?? 0), total: p.total, totalsKnown: p.totalsKnown ?? p.total !== undefined });
          if (t - lastDraw < 250) return ExitCode.OK;
          lastDraw = t;
          const files = p.total !== undefined ? ` ${p.total - (p.toCheck ?? 0)}/${p.total}${p.totalsKnown === false ? '+' : ''} files` : '';
          process.stderr.write(`\r\x1b[K${p.server}: ${p.percent}% ${mb(p.bytes)} MB ${p.rate}${files}${eta !== undefined ? ` eta ${formatEta(eta)}` : ''}`);
        }
      : undefined;
    const signal = interruptSignal();
    let outcomes: PullOutcome[];
    const { done, ...hooks } = monitorHooks(site, { log, ...nowOf(argv) });
    try {
      outcomes = await runPulls(site, backupServer, {
        log,
        servers: argv.servers,
        signal,
        ...clockOf(argv),
        progress,
        ...(onProgress ? { onProgress } : {}),
        ...budgetArgs(argv),
        retries: argv.retries ?? DEFAULT_RETRIES,
        retryDelayMs: (argv['retry-delay'] ?? DEFAULT_RETRY_DELAY_S) * 1000,
        connectTimeoutS: argv['connect-timeout'] ?? DEFAULT_CONNECT_TIMEOUT_S,
        ...(argv.full ? { full: true } : {}),
        ...(argv['change-lists'] === false ? { changeLists: false } : {}),
        ...hooks,
      });
      await done?.();
    } finally {
      if (progress) process.stderr.write('\r\x1b[K');
    }
    if (signal.aborted) {
      // Servers the interruption stopped before their turn: nothing in their history (docs/remote.md#interrupted-batches).
      const started = new Set(outcomes.map((o) => o.server));
      const notStarted = (argv.servers?.length ? argv.servers : backupServer.pulls.map((p) => p.server)).filter((s) => !started.has(s));
      if (notStarted.length > 0) log.warn({ notStarted }, `interrupted before ${notStarted.length} server(s) started; their history is unchanged`);
    }
    const code = exitCodeFor(outcomes);
    if (argv.json) printJson({ backupServer: backupServer.server, outcomes });
    // Quiet under cron: the table only on a terminal, or when something went wrong (cron mails it).
    else if (process.stdout.isTTY || code !== ExitCode.OK) out(table(['SERVER', 'STATUS', 'SNAPSHOT', 'FILES', 'MB', 'RECEIVED MB', 'SECONDS', 'DETAIL'], outcomes.map(formatOutcome)));
    return code;
  }),
};
