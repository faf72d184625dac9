/** `tierback monitor export|flush`: Prometheus textfile from cron; resend queued deliveries. */
import type { CommandModule } from 'yargs';
import { ExitCode, UsageError } from '../../lib/base/errors.js';
import { exportPrometheus, flushSpool, monitoringOf } from '../../lib/features/monitor/index.js';
import { EXIT_CODES_EPILOG, nowOf, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { machineOptions, withMachineOptions, type MachineArgs } from '../machine-options.js';
import { jsonOption } from '../options.js';
import { siteViewStatus } from '../../lib/features/siteview/index.js';

interface Args extends GlobalArgs, MachineArgs {
  action: 'export' | 'flush';
  json?: boolean;
  site?: boolean;
}

export const monitorCommand: CommandModule<GlobalArgs, Args> = {
  command: 'monitor <action>',
  describe: 'Monitoring exports: write the Prometheus textfile (export) or resend queued deliveries (flush)',
  builder: (y) =>
    withMachineOptions(y)
      .positional('action', { choices: ['export', 'flush'] as const, demandOption: true, describe: 'export: write monitoring.prometheus.textfile now; flush: resend the spool' })
      .option('json', jsonOption())
      .option('site', { type: 'boolean', describe: 'export: the whole site, merged from every backup server (as `status --site`)' })
      .example('$0 monitor export --site', 'on one machine for the whole site: a backup server that stops answering is a FAILED row')
      .example('$0 monitor export', 'from cron every few minutes, so ages stay current between runs')
      .example('$0 monitor flush', 'after an InfluxDB or ping outage')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site, log) => {
    const m = monitoringOf(site);
    if (argv.action === 'export') {
      if (!m?.prometheus) throw new UsageError(`${site.file} has no monitoring.prometheus.textfile`, 'add monitoring: {prometheus: {textfile: /var/lib/prometheus/node-exporter/tierback.prom}} (docs/monitoring.md)');
      const report = argv.site ? () => siteViewStatus(site, { ...machineOptions(argv), ...nowOf(argv), log }) : undefined;
      const ok = await exportPrometheus(site, { ...machineOptions(argv), ...nowOf(argv), log, ...(report ? { report } : {}) });
      if (!ok) throw new UsageError(`could not write ${m.prometheus.textfile}`, 'see the warning above; check the folder exists and is writable');
      if (argv.json) printJson({ written: m.prometheus.textfile });
      else out(`wrote ${m.prometheus.textfile}`);
      return ExitCode.OK;
    }
    const r = await flushSpool(site, { ...machineOptions(argv), log });
    if (argv.json) printJson(r);
    else out(`sent ${r.sent}, still queued ${r.queued}${r.dropped ? `, dropped ${r.dropped}` : ''}`);
    return r.queued > 0 ? ExitCode.FAILED : ExitCode.OK;
  }),
};
