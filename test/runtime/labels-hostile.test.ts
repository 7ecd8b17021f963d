// Labels that are not finite, or so large that standardizing them overflows, are skipped by row
// before any fit: ±1e308 and 1e200 used to reach the ridge fit (or the end of training) and fail there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExamples, MAX_LABEL_MAGNITUDE } from '../../src/runtime/data/examples';
import { targetScale } from '../../src/runtime/tags/head';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-labels-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('non-finite and overflowing labels are skipped and named by line; the kept ones standardize', async () => {
  const path = join(dir, 'labels.csv');
  const rows = [['CCO', '1.5'], ['CCN', '1e308'], ['CCC', '-1e308'], ['CCCl', '1e200'], ['CCBr', 'Infinity'], ['CCF', '1e999'], ['CCS', 'nan'], ['c1ccccc1', '-2.25'], ['CC(=O)O', '1e150']];
  writeFileSync(path, `smiles,y\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  const set = await loadExamples({ path, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'y' });
  assert.deepEqual(set.examples.map((e) => e.label), [1.5, -2.25, 1e150]);
  assert.equal(set.nSkipped, 6);
  assert.deepEqual(
    set.skipped.map((s) => [s.line, s.reason]),
    [
      [3, `label "1e308" is beyond ±${MAX_LABEL_MAGNITUDE}: its square overflows when the labels are standardized`],
      [4, `label "-1e308" is beyond ±${MAX_LABEL_MAGNITUDE}: its square overflows when the labels are standardized`],
      [5, `label "1e200" is beyond ±${MAX_LABEL_MAGNITUDE}: its square overflows when the labels are standardized`],
      [6, 'label "Infinity" is not finite'],
      [7, 'label "1e999" is not finite'],
      [8, 'label "nan" is not a number'],
    ],
  );
  const scale = targetScale(set.examples.map((e) => e.label!));
  assert.ok(Number.isFinite(scale.mean) && Number.isFinite(scale.std) && scale.std > 0, JSON.stringify(scale));
  // what the skipped rows would have done: an infinite scale, and a model that cannot be saved
  assert.equal(targetScale([1.5, 1e200]).std, Infinity);
  assert.ok(!Number.isFinite(targetScale([1e308, 1e308]).mean));
});
