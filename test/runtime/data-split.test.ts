import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomSplit, labelledSplit } from '../../src/runtime/data/split';

test('random split is seeded, disjoint and covers every row', () => {
  const a = randomSplit(100, 0.1, 5);
  assert.deepEqual(a, randomSplit(100, 0.1, 5));
  assert.notDeepEqual(a.test, randomSplit(100, 0.1, 6).test);
  assert.equal(a.test.length, 10);
  assert.equal(a.valid.length, 10);
  const all = [...a.train, ...a.valid, ...a.test].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  assert.throws(() => randomSplit(10, 0.7, 1), /fraction/);
});

test('split column: test and valid by name, Davis folds, held-out validation when none is named', () => {
  const s = labelledSplit(['train', 'valid', 'test', 'train', 'Test'], 1);
  assert.deepEqual(s, { train: [0, 3], valid: [1], test: [2, 4] });
  const folds = labelledSplit(['train0', 'train4', 'test', 'train1', 'train4'], 1, 0.1, 'train4');
  assert.deepEqual(folds, { train: [0, 3], valid: [1, 4], test: [2] });
  const noValid = labelledSplit(Array.from({ length: 20 }, (_, i) => (i < 15 ? 'train' : 'test')), 3, 0.2);
  assert.equal(noValid.valid.length, 3);
  assert.equal(noValid.train.length, 12);
  assert.ok(noValid.valid.every((i) => i < 15));
});
