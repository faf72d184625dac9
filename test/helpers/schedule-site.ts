/**
 * The inventories the schedule tests share: one app server with VMs and `files` apps, one backup
 * server pulling it. Written as a table so each test names only what differs.
 */

/** An app: name, VM ('' for the host itself), the stem of its path and relpath (/srv/<stem>, <stem>.example.org), extra keys (`, schedule: "…"`). */
export type ScheduleApp = readonly [name: string, vm: string, stem: string, extra?: string];

export interface ScheduleSite {
  /** Lines between `version: 1` and `servers:` (defaults, schedules, monitoring). */
  head: readonly string[];
  app: string;
  backup: string;
  /** Appended inside the app server's entry, e.g. `, partition: /p`. */
  appServer?: string;
  vms: readonly string[];
  apps: readonly ScheduleApp[];
  /** Appended inside the backup_servers entry, e.g. `, schedule: "…"`. */
  pull?: string;
}

/** One app line, as the inventory lists it. */
export function scheduleAppLine(server: string, [name, vm, stem, extra = '']: ScheduleApp): string {
  return `  - { name: ${name}, server: ${server}${vm ? `, vm: ${vm}` : ''}, path: /srv/${stem}, relpath: ${stem}.example.org, type: files${extra} }`;
}

/** The inventory text (starting with a newline, as the tests' template literals did). */
export function scheduleInventory(s: ScheduleSite): string {
  return [
    '',
    'version: 1',
    ...s.head,
    'servers:',
    `  - { fqdn: ${s.app}, role: app${s.appServer ?? ''} }`,
    `  - { fqdn: ${s.backup}, role: backup }`,
    'vms:',
    ...s.vms.map((v) => `  - { name: ${v}, server: ${s.app} }`),
    'apps:',
    ...s.apps.map((a) => scheduleAppLine(s.app, a)),
    'backup_servers:',
    `  - { server: ${s.backup}, pulls: [${s.app}]${s.pull ?? ''} }`,
    '',
  ].join('\n');
}
