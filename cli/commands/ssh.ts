/** `tierback ssh check [SERVER...]` and `tierback ssh authorize BACKUP-SERVER` (docs/remote.md). */
import type { CommandModule } from 'yargs';
import { exitCodeFor } from '../../lib/model/outcome.js';
import { authorizeLines } from '../../lib/tiers/ssh/authorize.js';
import { sshCheck, type SshCheckResult } from '../../lib/tiers/ssh/check.js';
import { resolveBackupServer } from '../../lib/tiers/pull/pull.js';
import { EXIT_CODES_EPILOG, out, printJson, runOnSite, type GlobalArgs } from '../context.js';
import { commandGroup } from '../command-group.js';
import { ExitCode } from '../../lib/base/errors.js';
import { siteViewKey } from '../../lib/features/siteview/index.js';
import { backupServerOption, jsonOption } from '../options.js';

interface CheckArgs extends GlobalArgs {
  servers?: string[];
  'backup-server'?: string;
  json?: boolean;
}

interface AuthorizeArgs extends GlobalArgs {
  'backup-server': string;
  source?: string;
  key?: string;
  from?: string;
  json?: boolean;
  'site-view'?: boolean;
  command?: string;
  'remote-inventory'?: string;
  root?: string;
}

function gb(bytes: number | undefined): string {
  return bytes === undefined ? 'n/a' : `${(bytes / 1e9).toFixed(2)} GB`;
}

const check: CommandModule<GlobalArgs, CheckArgs> = {
  command: 'check [servers..]',
  describe: 'Connect to servers over SSH, verify the pinned host key, check <partition>/local is readable, report its size and free space',
  builder: (y) =>
    y
      .positional('servers', { type: 'string', array: true, describe: 'Servers to check (default: every server this backup server pulls over SSH)' })
      .option('backup-server', backupServerOption())
      .option('json', jsonOption())
      .example('$0 ssh check zg-3.softxs.ch', 'check one server')
      .example('$0 ssh check', 'check every server this backup server pulls')
      .epilog(EXIT_CODES_EPILOG) as never,
  handler: runOnSite(async (argv, site, log) => {
    const servers = argv.servers?.length ? argv.servers : resolveBackupServer(site, argv['backup-server']).pulls.filter((p) => p.transport === 'ssh').map((p) => p.server);
    const results: SshCheckResult[] = [];
    for (const s of servers) results.push(await sshCheck(site, s, { log }));
    if (argv.json) printJson(results);
    else {
      for (const r of results) {
        out(`${r.server}: ${r.ok ? 'OK' : 'FAILED'}  ${r.path}  size ${gb(r.sizeBytes)}${r.files !== undefined ? ` (${r.files} files)` : ''}  free ${gb(r.freeBytes)}`);
        for (const st of r.steps) out(`  ${st.ok ? 'ok  ' : 'FAIL'} ${st.step}: ${st.detail}`);
      }
    }
    return exitCodeFor(results.map((r) => (r.ok ? 'ok' : 'failed')));
  }),
};

const authorize: CommandModule<GlobalArgs, AuthorizeArgs> = {
  command: 'authorize <backup-server>',
  describe: 'Print the authorized_keys line(s) that let BACKUP-SERVER\'s key do read-only rsync of each source server\'s <partition>/local, and nothing else',
  builder: (y) =>
    y
      .positional('backup-server', { type: 'string', demandOption: true, describe: 'fqdn of the backup server' })
      .option('source', { type: 'string', describe: 'Only for this source server' })
      .option('key', { type: 'string', describe: 'The backup server\'s public key file (default: <servers[].ssh.identity>.pub, else ~/.ssh/id_ed25519.pub)' })
      .option('from', { type: 'string', describe: 'Limit the key to these client addresses (authorized_keys from="...")' })
      .option('json', jsonOption())
      .option('site-view', { type: 'boolean', describe: 'Instead: the line for BACKUP-SERVER\'s own authorized_keys that lets the site view\'s key run only `tierback status --feed` there' })
      .option('command', { type: 'string', describe: 'With --site-view: how tierback is run on the backup server (default "tierback"; words separated by spaces)' })
      .option('remote-inventory', { type: 'string', describe: 'With --site-view: the inventory file on the backup server (default: its usual one)' })
      .option('root', { type: 'string', describe: 'With --site-view: --root for the feed (sandboxes)' })
      .conflicts('site-view', ['source'])
      .example('$0 ssh authorize odin.softxs.ch --key /root/.ssh/tierback_ed25519.pub', 'one line per server odin pulls; append each to root\'s ~/.ssh/authorized_keys on that server')
      .example('$0 ssh authorize loki.softxs.ch --site-view --key /root/.ssh/tierback_site_ed25519.pub', 'the line for loki\'s authorized_keys: the site view may read its status feed, nothing else')
      .epilog(`Then set servers[].ssh.rrsync: true for those servers. See docs/remote.md.\n\n${EXIT_CODES_EPILOG}`) as never,
  handler: runOnSite(async (argv, site) => {
    if (argv['site-view']) {
      const k = await siteViewKey(site, argv['backup-server'], { command: argv.command, inventory: argv['remote-inventory'], root: argv.root, keyFile: argv.key, from: argv.from });
      if (argv.json) printJson(k);
      else out(`# on ${k.backupServer}: append to ~${k.user}/.ssh/authorized_keys (runs only: ${k.command})\n${k.line}`);
      return ExitCode.OK;
    }
    const lines = await authorizeLines(site, argv['backup-server'], { source: argv.source, keyFile: argv.key, from: argv.from });
    if (argv.json) printJson(lines);
    else for (const l of lines) out(`# on ${l.server}: append to ~${l.user}/.ssh/authorized_keys (read-only rsync of ${l.readOnly})\n${l.line}`);
    return ExitCode.OK;
  }),
};

export const sshCommand = commandGroup({
  command: 'ssh <command>',
  describe: 'SSH set-up of pulls: check connections and host keys, print restricted authorized_keys lines',
  subcommands: [check, authorize],
  examples: [
    ['$0 ssh check', 'on a backup server: reach every server it pulls, check host keys and free space'],
    ['$0 ssh authorize odin.softxs.ch --key /root/.ssh/tierback_ed25519.pub', 'the read-only authorized_keys lines for odin\'s key'],
  ],
});
