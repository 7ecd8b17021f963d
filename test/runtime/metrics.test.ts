import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mse, mae, pearson, spearman, averageRanks, concordanceIndex, auroc, auprc, brier, accuracy, regressionMetrics, classificationMetrics } from '../../src/runtime/train/metrics';
import { SeededRng } from '../../src/runtime/train/rng';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('mse, rmse, mae on hand-computed values', () => {
  const y = [1, 2, 3, 4];
  const p = [2, 2, 1, 4];
  close(mse(y, p), (1 + 0 + 4 + 0) / 4);
  close(mae(y, p), 3 / 4);
  close(regressionMetrics(y, p).rmse, Math.sqrt(1.25));
});

test('pearson: perfect, anti and a worked example', () => {
  close(pearson([1, 2, 3], [2, 4, 6]), 1);
  close(pearson([1, 2, 3], [3, 2, 1]), -1);
  // x = 1..5, y = 2,4,5,4,5: sxy = 6, sxx = 10, syy = 6 → r = 6/√60
  close(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 6 / Math.sqrt(60));
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  // a constant prediction whose mean is not exactly representable is still constant
  assert.ok(Number.isNaN(pearson([0.1, 0.7, 0.3], [0.1 + 0.2, 0.1 + 0.2, 0.1 + 0.2])));
});

test('spearman uses average ranks for ties', () => {
  assert.deepEqual(Array.from(averageRanks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
  close(spearman([1, 2, 3, 4], [1, 4, 9, 16]), 1);
  // ranks x = 1,2,3,4; ranks y (tie) = 1, 2.5, 2.5, 4 → Pearson of the ranks
  close(spearman([1, 2, 3, 4], [0, 5, 5, 9]), pearson([1, 2, 3, 4], [1, 2.5, 2.5, 4]));
});

test('concordance index: counts ordered pairs, half for tied predictions, equals the O(n²) definition', () => {
  close(concordanceIndex([1, 2, 3], [10, 20, 30]), 1);
  close(concordanceIndex([1, 2, 3], [30, 20, 10]), 0);
  // pairs (y differ): (1,2) tie pred → 0.5, (1,3) ok, (2,3) ok → 2.5 / 3
  close(concordanceIndex([1, 2, 3], [5, 5, 9]), 2.5 / 3);
  const rng = new SeededRng(3);
  const y = Array.from({ length: 300 }, () => Math.round(rng.next() * 20));
  const p = Array.from({ length: 300 }, (_, i) => y[i] + Math.round(rng.next() * 10));
  let num = 0;
  let den = 0;
  for (let i = 0; i < y.length; i++)
    for (let j = 0; j < y.length; j++)
      if (y[i] > y[j]) {
        den++;
        num += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
      }
  close(concordanceIndex(y, p), num / den, 1e-12);
});

test('auroc and accuracy', () => {
  close(auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
  close(auroc([0, 1], [0.5, 0.5]), 0.5);
  close(auroc([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]), 1);
  close(accuracy([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.6]), 0.5);
});

// Hand-computed: positives score 0.9, 0.5, 0.1; negatives 0.9, 0.5, so two thresholds hold a tie.
// ROC-AUC over the 6 positive-negative pairs: 0.5 + 1 + 0 + 0.5 + 0 + 0 = 2 → 1/3.
// Average precision, thresholds 0.9, 0.5, 0.1: recall steps of 1/3 at precision 1/2, 2/4, 3/5 → 1/6 + 1/6 + 1/5.
test('ROC-AUC and PR-AUC with tied scores, by hand', () => {
  const labels = [0, 1, 1, 0, 1];
  const scores = [0.9, 0.9, 0.5, 0.5, 0.1];
  close(auroc(labels, scores), 1 / 3, 1e-12);
  close(auprc(labels, scores), 1 / 6 + 1 / 6 + 1 / 5, 1e-12);
  // the tie's order in the input does not matter
  close(auprc([1, 0, 0, 1, 1], [0.9, 0.9, 0.5, 0.5, 0.1]), 1 / 6 + 1 / 6 + 1 / 5, 1e-12);
  // all scores tied: one threshold, precision = prevalence
  close(auprc([1, 0, 0, 1], [0.5, 0.5, 0.5, 0.5]), 0.5, 1e-12);
  close(auprc([1, 1, 0], [0.8, 0.8, 0.1]), 1, 1e-12);
  // no tie: 1, 0.3 (neg), 0.2 (pos) → 1 × 1/2 + 2/3 × 1/2
  close(auprc([1, 0, 1], [1, 0.3, 0.2]), 0.5 + 1 / 3, 1e-12);
  assert.ok(Number.isNaN(auprc([0, 0], [0.1, 0.2])));
});

test('Brier score and the classification record', () => {
  close(brier([1, 0], [0.8, 0.3]), (0.04 + 0.09) / 2, 1e-12);
  const m = classificationMetrics([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.6]);
  close(m.accuracy, 0.5);
  close(m.auroc, 0.75);
  close(m.brier, (0.04 + 0.09 + 0.36 + 0.36) / 4, 1e-12);
  // thresholds 0.7 (pos), 0.6 (neg), 0.4 (pos): 1/2 × 1 + 1/2 × 2/3
  close(m.auprc, 0.5 + 1 / 3, 1e-12);
});
