/** The problems an invalid inventory text is refused with (fails the test when it is accepted). */
import assert from 'node:assert/strict';
import { InventoryError, type InventoryProblem } from '../../lib/base/errors.js';
import { parseInventory } from '../../lib/site/load.js';

export function problemsOf(text: string, file = 'test.yaml', check: (text: string, file: string) => unknown = parseInventory): InventoryProblem[] {
  try {
    check(text, file);
  } catch (err) {
    assert.ok(err instanceof InventoryError, `expected InventoryError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the inventory to be invalid');
}
