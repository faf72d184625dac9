/** Generates docs/inventory.md from the schema's descriptions, so the reference never drifts. */
import { z } from 'zod';
import { jobTypes } from '../tiers/jobs/registry.js';
import { inventoryJsonSchema } from '../model/inventory/schema.js';

type Js = Record<string, unknown>;

function typeOf(s: Js): string {
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(' \\| ');
  if ('const' in s) return JSON.stringify(s['const']);
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as Js[]).map(typeOf).join(' or ');
  if (s['type'] === 'array') return `list of ${typeOf((s['items'] as Js) ?? {})}`;
  if (s['type'] === 'object') return s['properties'] ? 'mapping' : 'mapping of any keys';
  return String(s['type'] ?? 'any');
}

function objectOf(s: Js): Js | undefined {
  if (s['type'] === 'object' && s['properties']) return s;
  if (s['type'] === 'array') return objectOf((s['items'] as Js) ?? {});
  if (Array.isArray(s['anyOf'])) for (const o of s['anyOf'] as Js[]) { const r = objectOf(o); if (r) return r; }
  return undefined;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function section(prefix: string, obj: Js, out: string[], depth: number): void {
  const props = obj['properties'] as Record<string, Js>;
  const required = new Set((obj['required'] as string[] | undefined) ?? []);
  out.push('| key | type | required | default | meaning |', '|---|---|---|---|---|');
  const nested: [string, Js][] = [];
  for (const [key, s] of Object.entries(props)) {
    const name = `${prefix}${key}`;
    const def = s['default'];
    const isReq = required.has(key) && def === undefined;
    out.push(
      `| \`${name}\` | ${cell(typeOf(s))} | ${isReq ? 'yes' : ''} | ${def === undefined || (typeof def === 'object' && def !== null && Object.keys(def).length > 3) ? '' : `\`${cell(JSON.stringify(def))}\``} | ${cell(String(s['description'] ?? ''))} |`,
    );
    const child = objectOf(s);
    if (child) nested.push([`${name}${s['type'] === 'array' ? '[]' : ''}`, child]);
  }
  for (const [name, child] of nested) {
    out.push('', `${'#'.repeat(Math.min(depth + 1, 6))} \`${name}\``, '');
    if (child['description']) out.push(String(child['description']), '');
    section(`${name}.`, child, out, depth + 1);
  }
}

export function inventoryReferenceMarkdown(): string {
  const schema = inventoryJsonSchema();
  const out = [
    '# Inventory reference',
    '',
    '<!-- Generated from lib/model/inventory/schema.ts by `tierback inventory schema --markdown`; a test keeps it in step. Do not edit by hand. -->',
    '',
    String(schema['description'] ?? ''),
    'One YAML file (`-i FILE`, else `$TIERBACK_INVENTORY`, else `/etc/tierback/inventory.yaml`).',
    'Lists are written `key[]`; `apps[3].relpath` in error messages is the `relpath` of the fourth app.',
    'Cross-field rules (checked after these keys, all reported together): server, VM and backup-server names are unique;',
    'an app\'s `server` and `vm` exist and the VM runs on that server; no two apps share (or nest) a relpath on the',
    'same VM; `type` is a registered job type and `options` match its schema; backup servers exist, have role',
    '`backup` or `both`, pull only known servers, and use `transport: local` only for themselves.',
    'See docs/convention.md for the rules of names and relpaths, and inventory/example.yaml for a whole site.',
    'A file larger than 32 MB (about 250,000 apps) is refused unread, and so is one whose YAML aliases expand',
    'to more values than the file has bytes; checking 100,000 apps takes a few seconds.',
    'Values that become arguments of ssh, rsync, pg_dump, mysqldump, rclone or a command job never start with "-":',
    'hosts are RFC 1123 names or IP addresses, ssh and schedule users POSIX user names (lib/model/inventory/values.ts).',
    '',
    '## Top level',
    '',
  ];
  section('', schema, out, 2);
  out.push('', '## Job type options (`apps[].options`)', '', 'Each type checks its own options; docs/jobs/<type>.md explains them.', '');
  for (const t of jobTypes) {
    out.push(`### \`${t.name}\``, '', t.summary, '');
    const js = z.toJSONSchema(t.options, { io: 'input', unrepresentable: 'any' }) as Js;
    if (js['properties'] && Object.keys(js['properties'] as Js).length > 0) section('options.', js, out, 3);
    else out.push('No options.');
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
