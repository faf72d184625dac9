import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../../lib/base/errors.js';
import { parseInventory } from '../../../lib/site/load.js';
import { findApp } from '../../../lib/model/inventory/model.js';
import { parseAppOptions } from '../../../lib/site/options.js';

describe('app options are parsed once, when the inventory loads', () => {
  it('the resolved app carries its type\'s options parsed, defaults applied', async () => {
    const site = parseInventory(await readFile('inventory/example.yaml', 'utf8'), 'inventory/example.yaml');
    const app = findApp(site, 'cardenillo'); // `type: files` with no options written
    assert.deepEqual(app.options, { include: [], exclude: [] });
  });

  it('a bad option names apps[N].options.x and the type\'s docs', () => {
    assert.throws(() => parseAppOptions('files', { include: 'x' }, 3), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^apps\[3\]\.options\.include: /);
      assert.match(err.hint ?? '', /docs\/jobs\/files\.md/);
      return true;
    });
  });
});
