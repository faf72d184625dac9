import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../../lib/base/errors.js';
import { exitCodeFor } from '../../../lib/model/outcome.js';

describe('exit code of a run of several items (lib/model/outcome.ts)', () => {
  it('0 none failed, 5 some not all, 4 all locked, 6 all refused, 1 all failed or a mix of failures', () => {
    assert.equal(exitCodeFor([]), ExitCode.OK);
    assert.equal(exitCodeFor(['ok', 'warning']), ExitCode.OK);
    assert.equal(exitCodeFor(['ok', 'failed']), ExitCode.PARTIAL);
    assert.equal(exitCodeFor(['ok', 'locked']), ExitCode.PARTIAL);
    assert.equal(exitCodeFor(['warning', 'refused']), ExitCode.PARTIAL);
    assert.equal(exitCodeFor(['locked', 'locked']), ExitCode.LOCKED);
    assert.equal(exitCodeFor(['refused']), ExitCode.REFUSED);
    assert.equal(exitCodeFor(['failed', 'failed']), ExitCode.FAILED);
    assert.equal(exitCodeFor(['failed', 'locked']), ExitCode.FAILED);
    assert.equal(exitCodeFor(['refused', 'locked']), ExitCode.FAILED);
  });
});
