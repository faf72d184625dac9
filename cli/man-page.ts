/**
 * tierback(1), generated from the yargs definitions `--help` prints (one source): every command's
 * and subcommand's help text (usage, positionals, options, examples) and the EXIT STATUS table
 * of lib/base/exit-codes.ts. `tierback man > tierback.1` (docs/install.md).
 */
import type { CommandModule } from 'yargs';
import { EXIT_CODES } from '../lib/base/exit-codes.js';
import { LOG_FORMAT_ENV } from '../lib/base/log-format.js';
import { DEFAULT_INVENTORY, INVENTORY_ENV } from '../lib/model/inventory/locate.js';
import { NOW_ENV } from '../lib/base/clock.js';
import { commandName, subcommandsOf, type AnyCommand } from './command-tree.js';
import type { GlobalArgs } from './globals.js';
import { buildParser } from './parser.js';
import { tierbackVersion } from './version.js';

type Command = CommandModule<GlobalArgs, never>;

/** Text as roff: backslashes and hyphens escaped, lines starting with a control character guarded. */
export function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** What `tierback <path> --help` prints, without the EXIT STATUS list every command repeats. */
export async function helpOf(commands: readonly Command[], path: readonly string[]): Promise<string> {
  const parser = buildParser(commands, 78);
  const output = await new Promise<string>((resolve, reject) => {
    void parser.parse([...path, '--help'], {}, (err: Error | undefined, _argv: unknown, out: string) => (err ? reject(err) : resolve(out)));
  });
  return output.replace(/\n*EXIT STATUS\n[\s\S]*?See docs\/exit-codes\.md\.\n?/, '\n').trimEnd();
}

/** Every command path, depth first, in `--help` order: [job], [pull], ..., [offsite], [offsite, usb], ... */
export function commandPaths(commands: readonly AnyCommand[]): string[][] {
  const paths: string[][] = [];
  const walk = (c: AnyCommand, parent: string[]) => {
    const p = [...parent, commandName(c)];
    paths.push(p);
    for (const s of subcommandsOf(c)) walk(s, p);
  };
  for (const c of commands) walk(c, []);
  return paths;
}

export async function manPage(commands: readonly Command[]): Promise<string> {
  const version = tierbackVersion();
  const out: string[] = [
    `.TH TIERBACK 1 "" "tierback ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'tierback \\- tiered backups by directory convention',
    '.SH SYNOPSIS',
    '.B tierback',
    '.I command',
    '[\\fIoptions\\fR]',
    '.SH DESCRIPTION',
    roff(
      'Application jobs on VMs write <partition>/local/<vm>/<relpath>; backup servers pull each server\'s whole local tree with rsync over SSH into dated snapshots under <partition>/remote/<server>/; history files travel with the tree; one inventory YAML describes the site.',
    ),
    '.PP',
    'The global options and the command list:',
    '.PP',
    '.nf',
    roff(await helpOf(commands, [])),
    '.fi',
    '.SH COMMANDS',
  ];
  for (const path of commandPaths(commands as unknown as AnyCommand[])) {
    out.push(`.SS "tierback ${roff(path.join(' '))}"`, '.nf', roff(await helpOf(commands, path)), '.fi');
  }
  out.push('.SH EXIT STATUS');
  for (const e of EXIT_CODES) out.push('.TP', `.B ${e.code}`, roff(`${e.name}: ${e.meaning}${e.cause ? ` (for example: ${e.cause.replace(/`/g, '')})` : ''}`));
  out.push(
    '.SH ENVIRONMENT',
    '.TP',
    `.B ${INVENTORY_ENV}`,
    roff('The inventory file when -i/--inventory is not given.'),
    '.TP',
    `.B ${LOG_FORMAT_ENV}`,
    roff('human, json or journal: the form of log lines on stderr when --log-format is not given (default: human on a terminal, journal under systemd, json elsewhere).'),
    '.TP',
    `.B ${NOW_ENV}`,
    roff('Testing aid: run as if it were this time (ISO 8601).'),
    '.SH FILES',
    '.TP',
    `.I ${roff(DEFAULT_INVENTORY)}`,
    'The inventory by default.',
    '.SH SEE ALSO',
    roff('rsync(1), ssh(1), crontab(5), systemd.timer(5); README.md and docs/ of tierback.'),
  );
  return `${out.join('\n')}\n`;
}
