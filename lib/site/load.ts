/** Finds, reads, parses, validates and resolves an inventory file. */
import { open } from 'node:fs/promises';
import yaml from 'js-yaml';
import { z } from 'zod';
import { InventoryError, NotFoundError, type InventoryProblem } from '../base/errors.js';
import { closest, resolveSite, type InventorySource, type Site } from '../model/inventory/model.js';
import { crossFieldProblems } from './rules.js';
import { parseAppOptions } from './options.js';
import { inventorySchema, type Inventory } from '../model/inventory/schema.js';

import { INVENTORY_ENV, locateInventory, type LocateOptions } from '../model/inventory/locate.js';

export { DEFAULT_INVENTORY, INVENTORY_ENV, locateInventory, type LocateOptions } from '../model/inventory/locate.js';
/**
 * Largest inventory read (bytes): about 250,000 apps. Larger files are refused before they are
 * read, so a wrong file (a dump, a log) never costs the memory or minutes of parsing it.
 */
export const MAX_INVENTORY_BYTES = 32 * 1024 * 1024;

function tooBig(file: string, bytes: number): InventoryError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return new InventoryError(file, [
    { path: '(file)', message: `is ${mb(bytes)}, more than the ${mb(MAX_INVENTORY_BYTES)} an inventory may be`, hint: 'check that -i names the inventory; split a larger site into one inventory per group of servers' },
  ]);
}

/**
 * Values a YAML document may hold: at most one per byte of its text. A file within that
 * needs no aliases to be read; one beyond it ("billion laughs": aliases of aliases) would make
 * validation walk far more values than the file holds, and is refused after a bounded walk.
 */
function countValuesUpTo(data: unknown, budget: number): number {
  let seen = 0;
  const stack: unknown[] = [data];
  while (stack.length > 0 && seen <= budget) {
    const v = stack.pop();
    seen++;
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) stack.push(x);
  }
  return seen;
}

export function describeSource(source: InventorySource): string {
  switch (source) {
    case 'option':
      return 'from -i/--inventory';
    case 'environment':
      return `from $${INVENTORY_ENV}`;
    case 'default':
      return 'the default path';
    case 'embedded':
      return 'embedded';
  }
}

export async function loadInventory(opts: LocateOptions = {}): Promise<Site> {
  const { file, source } = locateInventory(opts);
  let text: string;
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      if (size > MAX_INVENTORY_BYTES) throw tooBig(file, size);
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new NotFoundError(
      `cannot read inventory ${file} (${describeSource(source)}): ${code === 'ENOENT' ? 'no such file' : String((err as Error).message)}`,
      `give one with -i FILE or $${INVENTORY_ENV}; inventory/example.yaml is a complete example`,
    );
  }
  return parseInventory(text, file, source);
}

/** Parses and validates inventory text; throws InventoryError listing every problem. */
export function parseInventory(text: string, file: string, source: InventorySource = 'option'): Site {
  const inv = validateInventoryText(text, file);
  return resolveSite(inv, file, source, parseAppOptions);
}

export function validateInventoryText(text: string, file: string): Inventory {
  if (text.length > MAX_INVENTORY_BYTES) throw tooBig(file, Buffer.byteLength(text));
  let data: unknown;
  try {
    data = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const line = err.mark ? err.mark.line + 1 : undefined;
      throw new InventoryError(file, [
        {
          path: '(file)',
          message: `YAML syntax error: ${err.reason}${err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : ''}`,
          hint: 'check indentation and quoting around that line',
          ...(line !== undefined ? { line } : {}),
        },
      ]);
    }
    throw err;
  }
  if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InventoryError(file, [{ path: '(file)', message: 'is not a YAML mapping', hint: 'start from inventory/example.yaml' }]);
  }
  if (countValuesUpTo(data, text.length + 1000) > text.length + 1000) {
    throw new InventoryError(file, [
      { path: '(file)', message: 'expands to more values than the file holds (YAML aliases of aliases)', hint: 'write the values out instead of nesting "&anchor" / "*alias" references' },
    ]);
  }
  const parsed = inventorySchema.safeParse(data);
  if (parsed.success) {
    const problems = crossFieldProblems(parsed.data);
    if (problems.length > 0) throw new InventoryError(file, problems);
    return parsed.data;
  }
  // Report schema and cross-field problems together; a path the schema already flagged is not repeated.
  const problems = schemaProblems(parsed.error, data);
  const flagged = new Set(problems.map((p) => p.path));
  for (const p of crossFieldProblems(data)) if (!flagged.has(p.path)) problems.push(p);
  throw new InventoryError(file, problems);
}

const SUBJECT_KEY: Record<string, string> = { apps: 'name', vms: 'name', servers: 'fqdn', backup_servers: 'server' };

export function formatInventoryPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(top level)';
}

/** The keys the schema allows at an inventory path (for "did you mean" on unknown keys). */
export function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let node: unknown = inventorySchema;
  const def = (n: unknown) => (n as { _zod: { def: Record<string, unknown> } })._zod.def;
  const unwrap = (n: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const d = def(n);
      if (d['type'] === 'optional' || d['type'] === 'default' || d['type'] === 'nullable' || d['type'] === 'prefault') n = d['innerType'];
      else if (d['type'] === 'pipe') n = d['in'];
      else if (d['type'] === 'union') n = (d['options'] as unknown[]).find((o) => def(unwrap(o))['type'] === 'object') ?? n;
      else return n;
    }
    return n;
  };
  for (const p of path) {
    node = unwrap(node);
    const d = def(node);
    if (typeof p === 'number' && d['type'] === 'array') node = d['element'];
    else if (typeof p === 'string' && d['type'] === 'object') node = (d['shape'] as Record<string, unknown>)[p];
    else return [];
    if (node === undefined) return [];
  }
  const d = def(unwrap(node));
  return d['type'] === 'object' ? Object.keys(d['shape'] as Record<string, unknown>) : [];
}

function schemaProblems(error: z.ZodError, data: unknown): InventoryProblem[] {
  const out: InventoryProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path;
    let subject: string | undefined;
    const [section, index] = path;
    if (typeof section === 'string' && typeof index === 'number' && SUBJECT_KEY[section]) {
      const entry = (data as Record<string, unknown[]>)[section]?.[index];
      const name = entry && typeof entry === 'object' ? (entry as Record<string, unknown>)[SUBJECT_KEY[section]!] : undefined;
      if (typeof name === 'string') subject = name;
    }
    let message = issue.message;
    let hint: string | undefined;
    if (issue.code === 'custom' && issue.params && typeof issue.params['hint'] === 'string') hint = issue.params['hint'];
    if (issue.code === 'unrecognized_keys') {
      message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      const known = knownKeysAt(path);
      const guess = issue.keys.length === 1 ? closest(issue.keys[0]!, known) : undefined;
      hint = guess ? `did you mean "${guess}"?` : known.length ? `known keys here: ${known.join(', ')}` : 'check the spelling against docs/inventory.md';
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = `is required (${issue.expected})`;
      hint = 'see docs/inventory.md for this key';
    }
    if (issue.code === 'invalid_value' && path.length === 1 && path[0] === 'version') hint = 'write "version: 1"';
    hint ??= `see the "${String([...path].reverse().find((p) => typeof p === 'string') ?? 'version')}" key in docs/inventory.md`;
    out.push({ path: formatInventoryPath(path), message, hint, ...(subject ? { subject } : {}) });
  }
  return out;
}
