import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyJobType } from '../../lib/jobs/types.js';

describe('the inventory\'s job type names come from the job type registry', () => {
  it('a type added to the registry is named in apps[].type (and so in docs/inventory.md)', async () => {
    // Registered before the schema module loads, as a site's own type would be.
    const registry = await import('../../lib/jobs/registry.js');
    (registry.jobTypes as AnyJobType[]).push({ ...registry.getJobType('files'), name: 'sitetype' });
    const { appSchema } = await import('../../lib/inventory/schema.js');
    const description = String(appSchema.shape.type.meta()?.['description']);
    for (const t of registry.jobTypes) assert.ok(description.includes(t.name), `${t.name} is missing from: ${description}`);
    assert.match(description, /command, sitetype\.$/);
  });
});
