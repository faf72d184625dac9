/**
 * The options of an app, parsed once when the inventory loads: each job type's schema
 * (lib/tiers/jobs/registry.ts) checks and types them, with its defaults applied, and the resolved app
 * carries the result. Job steps, restore and verify use `app.options` as given; nothing parses
 * them again. (lib/site/rules.ts reports every problem of every app first; this throws the
 * first one for a site built without those rules.)
 */
import { UsageError } from '../base/errors.js';
import { findJobType } from '../tiers/jobs/registry.js';

/** `apps[index].options` parsed by the schema of `type` (left as written for an unknown type, which the rules report). */
export function parseAppOptions(type: string, options: Record<string, unknown>, index: number): Record<string, unknown> {
  const t = findJobType(type);
  if (!t) return options;
  const parsed = t.options.safeParse(options);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? first.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
    throw new UsageError(`apps[${index}].options${where}: ${first?.message ?? 'invalid'}`, `see docs/jobs/${type}.md for the options of this type`);
  }
  return parsed.data as Record<string, unknown>;
}
