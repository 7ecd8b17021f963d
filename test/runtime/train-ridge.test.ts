import { test } from 'node:test';
import assert from 'node:assert/strict';
import { designMatrix, fitRidgePath, fitRidgeValidated, predictRidge, ridgeAsLinear } from '../../src/runtime/train/ridge';
import { SeededRng } from '../../src/runtime/train/rng';

function synthetic(n: number, d: number, seed: number, noise: number) {
  const rng = new SeededRng(seed);
  const w = Array.from({ length: d }, (_, j) => (j < 3 ? j + 1 : 0));
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.next() * 4 - 2));
  const y = rows.map((r) => 5 + r.reduce((s, v, j) => s + v * w[j], 0) + noise * (rng.next() - 0.5));
  return { X: designMatrix(rows), y };
}

test('ridge with tiny λ recovers exact linear weights and intercept', () => {
  const { X, y } = synthetic(50, 4, 1, 0);
  const [m] = fitRidgePath(X, y, [1e-9]);
  const pred = predictRidge(m, X);
  pred.forEach((p, i) => assert.ok(Math.abs(p - y[i]) < 1e-6));
});

test('ridge dual form (d > n) equals the primal solution', () => {
  const { X, y } = synthetic(12, 30, 2, 0.5);
  const [m] = fitRidgePath(X, y, [3]);
  // primal normal equations on the standardized design: (XᵀX + λI) w = Xᵀy must hold
  const n = X.rows;
  const d = X.cols;
  const xs = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xs[i * d + j] = (X.data[i * d + j] - m.featureMean[j]) * m.featureInvStd[j];
  const ym = y.reduce((a, b) => a + b, 0) / n;
  for (let j = 0; j < d; j++) {
    let lhs = 3 * m.weights[j];
    let rhs = 0;
    for (let i = 0; i < n; i++) {
      let xw = 0;
      for (let k = 0; k < d; k++) xw += xs[i * d + k] * m.weights[k];
      lhs += xs[i * d + j] * xw;
      rhs += xs[i * d + j] * (y[i] - ym);
    }
    assert.ok(Math.abs(lhs - rhs) < 1e-8, `feature ${j}: ${lhs} vs ${rhs}`);
  }
});

test('validation picks a larger λ when features are mostly noise', () => {
  const rng = new SeededRng(9);
  const rows = Array.from({ length: 40 }, () => Array.from({ length: 30 }, () => rng.next()));
  const y = rows.map((r) => r[0] + rng.next() * 2);
  const train = designMatrix(rows.slice(0, 30));
  const valid = designMatrix(rows.slice(30));
  const m = fitRidgeValidated(train, y.slice(0, 30), valid, y.slice(30));
  assert.ok(m.lambda >= 10, `λ = ${m.lambda}`);
  const clean = synthetic(60, 3, 4, 0.01);
  const c = fitRidgeValidated(designMatrix(Array.from({ length: 40 }, (_, i) => Array.from(clean.X.data.slice(i * 3, i * 3 + 3)))), clean.y.slice(0, 40),
    designMatrix(Array.from({ length: 20 }, (_, i) => Array.from(clean.X.data.slice((40 + i) * 3, (40 + i) * 3 + 3)))), clean.y.slice(40));
  assert.ok(c.lambda <= 1, `λ = ${c.lambda}`);
});

test('a constant feature gets no weight and does not break the solve', () => {
  const rows = [[1, 7], [2, 7], [3, 7], [4, 7]];
  const [m] = fitRidgePath(designMatrix(rows), [2, 4, 6, 8], [1e-9]);
  assert.equal(m.weights[1], 0);
  assert.ok(Math.abs(predictRidge(m, designMatrix([[5, 7]]))[0] - 10) < 1e-6);
});

test('ridgeAsLinear gives the same predictions on raw features', () => {
  const { X, y } = synthetic(30, 5, 6, 0.3);
  const [m] = fitRidgePath(X, y, [2]);
  const { weights, intercept } = ridgeAsLinear(m);
  const pred = predictRidge(m, X);
  for (let i = 0; i < X.rows; i++) {
    let t = intercept;
    for (let j = 0; j < X.cols; j++) t += weights[j] * X.data[i * X.cols + j];
    assert.ok(Math.abs(t - pred[i]) < 1e-9);
  }
});
