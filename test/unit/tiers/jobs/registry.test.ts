/** The job type registry: every registered type has its plan tests beside this file. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findJobType, jobTypes } from '../../../../lib/tiers/jobs/registry.js';

describe('job type registry', () => {
  it('lists every type once, and each has its plan tests in test/unit/tiers/jobs/<type>.test.ts', () => {
    assert.equal(new Set(jobTypes.map((t) => t.name)).size, jobTypes.length);
    const missing = jobTypes.map((t) => t.name).filter((name) => !existsSync(fileURLToPath(new URL(`./${name}.test.js`, import.meta.url))));
    assert.deepEqual(missing, [], `job types without plan tests (docs/jobs/README.md, "Adding a site's own type"): ${missing.join(', ')}`);
  });
  it('finds a type by its inventory name, and nothing for an unknown one', () => {
    assert.equal(findJobType('rails')?.name, 'rails');
    assert.equal(findJobType('Rails'), undefined);
  });
});
