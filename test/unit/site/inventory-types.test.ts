import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyJobType } from '../../../lib/tiers/jobs/types.js';

describe('the inventory\'s job type names come from the job type registry', () => {
  it('a type added to the registry is named in the reference (docs/inventory.md) with its options', async () => {
    const registry = await import('../../../lib/tiers/jobs/registry.js');
    (registry.jobTypes as AnyJobType[]).push({ ...registry.getJobType('files'), name: 'sitetype' });
    const { inventoryReferenceMarkdown } = await import('../../../lib/site/reference.js');
    const md = inventoryReferenceMarkdown();
    for (const t of registry.jobTypes) assert.ok(md.includes(`### \`${t.name}\``), `${t.name} is missing from the reference`);
    (registry.jobTypes as AnyJobType[]).pop();
  });
});
