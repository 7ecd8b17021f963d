// Comparing arrays of numbers against a reference, at the reference's own scale.
import assert from 'node:assert/strict';

/** max |actual - reference| / max |reference|. */
export function relativeMaxError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  assert.equal(actual.length, reference.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - reference[i]!));
    scale = Math.max(scale, Math.abs(reference[i]!));
  }
  return diff / scale;
}
