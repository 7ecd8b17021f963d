// Logistic regression for the classification baselines: closed-form cases, the optimality
// condition (zero gradient) at the fitted weights, and the mapping back to raw features.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { designMatrix } from '../../src/runtime/train/ridge';
import { balancedClassWeights, fitLogisticPath, fitLogisticValidated, logisticAsLinear, predictLogistic, sigmoid } from '../../src/runtime/train/logistic';
import { SeededRng } from '../../src/runtime/train/rng';

test('with only a constant feature the intercept is the log-odds of the (weighted) positive rate', () => {
  const y = [1, 1, 1, 0];
  const X = designMatrix(y.map(() => [5]));
  const [plain] = fitLogisticPath(X, y, [1, 1, 1, 1], [0.1]);
  assert.ok(Math.abs(plain.intercept - Math.log(3)) < 1e-6, `intercept ${plain.intercept}`);
  const w = balancedClassWeights(y);
  assert.deepEqual(w, { positive: 4 / 6, negative: 2 });
  const [balanced] = fitLogisticPath(X, y, y.map((v) => (v ? w.positive : w.negative)), [0.1]);
  assert.ok(Math.abs(balanced.intercept) < 1e-6, `balanced intercept ${balanced.intercept}`);
});

test('the fitted weights make the regularised objective\'s gradient vanish; raw-feature weights give the same logits', () => {
  const rng = new SeededRng(3);
  const rows = Array.from({ length: 200 }, () => [rng.next() * 4 - 2, rng.next() * 10, rng.next() < 0.3 ? 1 : 0]);
  const y = rows.map(([a, b, c]) => (rng.next() < sigmoid(1.5 * a - 0.2 * b + c + 0.5) ? 1 : 0));
  const weights = y.map((v) => (v ? 2 : 1));
  const X = designMatrix(rows);
  const lambda = 0.01;
  const [model] = fitLogisticPath(X, y, weights, [lambda]);
  // gradient in standardized coordinates, recomputed here
  const d = 3;
  const mean = model.featureMean;
  const inv = model.featureInvStd;
  const total = weights.reduce((a, b) => a + b, 0);
  const grad = new Float64Array(d + 1);
  rows.forEach((r, i) => {
    let z = model.intercept;
    for (let j = 0; j < d; j++) z += (r[j] - mean[j]) * inv[j] * model.weights[j];
    const g = (weights[i] / total) * (sigmoid(z) - y[i]);
    for (let j = 0; j < d; j++) grad[j] += g * (r[j] - mean[j]) * inv[j];
    grad[d] += g;
  });
  for (let j = 0; j < d; j++) grad[j] += lambda * model.weights[j];
  grad.forEach((g, j) => assert.ok(Math.abs(g) < 1e-6, `gradient ${j} = ${g}`));
  assert.ok(model.weights[0] > 0 && model.weights[1] < 0, 'recovers the signs of the generating weights');
  const linear = logisticAsLinear(model);
  const p = predictLogistic(model, X);
  rows.forEach((r, i) => {
    const z = linear.intercept + r.reduce((s, v, j) => s + v * linear.weights[j], 0);
    assert.ok(Math.abs(sigmoid(z) - p[i]) < 1e-12);
  });
});

test('validation picks the λ with the lowest held-out log-loss', () => {
  const rng = new SeededRng(5);
  const make = (n: number) => Array.from({ length: n }, () => Array.from({ length: 20 }, () => rng.next() - 0.5));
  const train = make(40);
  const valid = make(200);
  const label = (r: number[]) => (rng.next() < sigmoid(4 * r[0]) ? 1 : 0);
  const yTrain = train.map(label);
  const yValid = valid.map(label);
  const ones = (n: number) => new Array(n).fill(1);
  const lambdas = [1e-4, 1e-2, 1, 100];
  const chosen = fitLogisticValidated(designMatrix(train), yTrain, ones(40), designMatrix(valid), yValid, ones(200), lambdas);
  const logLoss = (lambda: number) => {
    const m = fitLogisticPath(designMatrix(train), yTrain, ones(40), [lambda])[0];
    return predictLogistic(m, designMatrix(valid)).reduce((s, p, i) => s - Math.log(yValid[i] ? p : 1 - p), 0);
  };
  const best = lambdas.reduce((a, b) => (logLoss(b) < logLoss(a) ? b : a));
  assert.equal(chosen.lambda, best);
});
