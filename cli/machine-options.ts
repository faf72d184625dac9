/** The options of commands that read the trees on this machine: --root and --host (lib/model/machine.ts). */
import type { Argv } from 'yargs';

export interface MachineArgs {
  root?: string | undefined;
  host?: string | undefined;
}

export function withMachineOptions<T>(y: Argv<T>) {
  return y
    .option('root', { type: 'string', describe: 'Prefix of every path, e.g. a sandbox folder (else $TIERBACK_ROOT)' })
    .option('host', { type: 'string', describe: 'Which inventory server this machine is (else $TIERBACK_HOST, the host name, or detected from the trees)' });
}

export function machineOptions(argv: MachineArgs): { root?: string; host?: string } {
  return { ...(argv.root !== undefined ? { root: argv.root } : {}), ...(argv.host !== undefined ? { host: argv.host } : {}) };
}
