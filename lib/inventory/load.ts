/** Finds, reads, parses, validates and resolves an inventory file. */
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import { z } from 'zod';
import { InventoryError, NotFoundError, type InventoryProblem } from '../errors.js';
import { resolveSite, type InventorySource, type Site } from './model.js';
import { crossFieldProblems } from './rules.js';
import { inventorySchema, type Inventory } from './schema.js';

export const DEFAULT_INVENTORY = '/etc/tierback/inventory.yaml';
export const INVENTORY_ENV = 'TIERBACK_INVENTORY';

export interface LocateOptions {
  /** Path given with -i/--inventory. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** Which inventory file to use, and why: -i, then $TIERBACK_INVENTORY, then the default path. */
export function locateInventory(opts: LocateOptions): { file: string; source: InventorySource } {
  if (opts.file) return { file: opts.file, source: 'option' };
  const fromEnv = (opts.env ?? process.env)[INVENTORY_ENV];
  if (fromEnv) return { file: fromEnv, source: 'environment' };
  return { file: DEFAULT_INVENTORY, source: 'default' };
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
    text = await readFile(file, 'utf8');
  } catch (err) {
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
  return resolveSite(inv, file, source);
}

export function validateInventoryText(text: string, file: string): Inventory {
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
  const parsed = inventorySchema.safeParse(data);
  if (!parsed.success) throw new InventoryError(file, schemaProblems(parsed.error, data));
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new InventoryError(file, problems);
  return parsed.data;
}

const SUBJECT_KEY: Record<string, string> = { apps: 'name', vms: 'name', servers: 'fqdn', backup_servers: 'server' };

export function formatInventoryPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(top level)';
}

const KNOWN_KEYS: Record<string, string[]> = {
  top: ['version', 'site', 'defaults', 'servers', 'vms', 'apps', 'backup_servers', 'schedules'],
};

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
      hint = path.length === 0 ? `known keys: ${KNOWN_KEYS['top']!.join(', ')}` : 'check the spelling against docs/inventory.md';
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      message = `is required (${issue.expected})`;
      hint = 'see docs/inventory.md for this key';
    }
    if (issue.code === 'invalid_value' && path.length === 1 && path[0] === 'version') hint = 'write "version: 1"';
    out.push({ path: formatInventoryPath(path), message, ...(hint ? { hint } : {}), ...(subject ? { subject } : {}) });
  }
  return out;
}
