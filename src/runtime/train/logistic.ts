// L2-regularised logistic regression with per-row weights, for the classification baselines
// (logistic probes on hidden states, fingerprints) and the warm start of a logistic head.
// Columns are standardized as for ridge (src/runtime/train/ridge.ts), so λ means the same for
// every feature set; the objective is sum(w · binary cross-entropy) / sum(w) + λ/2 |β|², the
// intercept unpenalised, minimised by L-BFGS (it is convex and smooth: any minimiser is the one).
import { standardizeColumns, type DesignMatrix } from './ridge';

export interface LogisticModel {
  readonly lambda: number;
  readonly featureMean: Float64Array;
  readonly featureInvStd: Float64Array;
  /** On standardized features. */
  readonly weights: Float64Array;
  readonly intercept: number;
}

export const DEFAULT_LOGISTIC_LAMBDAS: readonly number[] = [1e-3, 1e-2, 1e-1, 1];
const MAX_ITERATIONS = 150;
const HISTORY = 8;

/**
 * Class weights that give each class half the total weight ("balanced"): n / (2 n_pos) for
 * positives, n / (2 n_neg) for negatives; 1 for both when a class is absent.
 */
export function balancedClassWeights(labels: ArrayLike<number>): { positive: number; negative: number } {
  let pos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) pos++;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return { positive: 1, negative: 1 };
  return { positive: labels.length / (2 * pos), negative: labels.length / (2 * neg) };
}

const logSigmoid = (z: number) => (z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z)));
export const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Fits one model per λ (each started from the previous one's solution). */
export function fitLogisticPath(X: DesignMatrix, y: ArrayLike<number>, rowWeights: ArrayLike<number>, lambdas: readonly number[]): LogisticModel[] {
  const { rows: n, cols: d } = X;
  if (y.length !== n || rowWeights.length !== n) throw new Error(`logistic: ${n} rows but ${y.length} labels and ${rowWeights.length} weights`);
  if (n === 0) throw new Error('logistic: no training rows');
  const { x, mean, invStd } = standardizeColumns(X);
  let totalWeight = 0;
  for (let i = 0; i < n; i++) totalWeight += rowWeights[i];
  // parameters: d weights, then the intercept
  let theta: Float64Array = new Float64Array(d + 1);
  return lambdas.map((lambda) => {
    const objective = (t: Float64Array, grad: Float64Array): number => {
      grad.fill(0);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let z = t[d];
        const row = i * d;
        for (let j = 0; j < d; j++) z += x[row + j] * t[j];
        const w = rowWeights[i] / totalWeight;
        loss -= w * (y[i] === 1 ? logSigmoid(z) : logSigmoid(-z));
        const g = w * (sigmoid(z) - y[i]);
        if (g === 0) continue;
        for (let j = 0; j < d; j++) grad[j] += g * x[row + j];
        grad[d] += g;
      }
      for (let j = 0; j < d; j++) {
        loss += 0.5 * lambda * t[j] * t[j];
        grad[j] += lambda * t[j];
      }
      return loss;
    };
    theta = minimizeLbfgs(objective, theta);
    return { lambda, featureMean: mean, featureInvStd: invStd, weights: theta.slice(0, d), intercept: theta[d] };
  });
}

export function predictLogistic(model: LogisticModel, X: DesignMatrix): Float64Array {
  const { rows: n, cols: d, data } = X;
  if (d !== model.weights.length) throw new Error(`logistic: model has ${model.weights.length} features, input ${d}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = model.intercept;
    for (let j = 0; j < d; j++) z += (data[i * d + j] - model.featureMean[j]) * model.featureInvStd[j] * model.weights[j];
    out[i] = sigmoid(z);
  }
  return out;
}

/** Fits on the training rows and keeps the λ with the lowest weighted log-loss on the validation rows. */
export function fitLogisticValidated(
  trainX: DesignMatrix, trainY: ArrayLike<number>, trainWeights: ArrayLike<number>,
  validX: DesignMatrix, validY: ArrayLike<number>, validWeights: ArrayLike<number>,
  lambdas: readonly number[] = DEFAULT_LOGISTIC_LAMBDAS,
): LogisticModel {
  let best: LogisticModel | undefined;
  let bestLoss = Infinity;
  // strongest regularisation first: each fit starts from a smoother solution
  for (const model of fitLogisticPath(trainX, trainY, trainWeights, [...lambdas].sort((a, b) => b - a))) {
    const p = predictLogistic(model, validX);
    let loss = 0;
    for (let i = 0; i < p.length; i++) loss -= validWeights[i] * Math.log(Math.max(validY[i] === 1 ? p[i] : 1 - p[i], 1e-12));
    if (loss < bestLoss || best === undefined) {
      bestLoss = loss;
      best = model;
    }
  }
  return best!;
}

/** The same model as weights and intercept on the raw features (logit = w · x + b). */
export function logisticAsLinear(model: LogisticModel): { weights: Float64Array; intercept: number } {
  const weights = Float64Array.from(model.weights, (w, j) => w * model.featureInvStd[j]);
  let intercept = model.intercept;
  for (let j = 0; j < weights.length; j++) intercept -= weights[j] * model.featureMean[j];
  return { weights, intercept };
}

/** L-BFGS with a backtracking (Armijo) line search; stops when the gradient or the step is tiny. */
function minimizeLbfgs(f: (x: Float64Array, grad: Float64Array) => number, start: Float64Array): Float64Array {
  const m = start.length;
  let x = Float64Array.from(start);
  let g = new Float64Array(m);
  let fx = f(x, g);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const dot = (a: Float64Array, b: Float64Array) => {
    let t = 0;
    for (let i = 0; i < m; i++) t += a[i] * b[i];
    return t;
  };
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    if (Math.sqrt(dot(g, g)) < 1e-7) break;
    // two-loop recursion: direction = -H g
    const q = Float64Array.from(g);
    const alphas: number[] = [];
    for (let k = ss.length - 1; k >= 0; k--) {
      const a = dot(ss[k], q) / dot(ys[k], ss[k]);
      alphas[k] = a;
      for (let i = 0; i < m; i++) q[i] -= a * ys[k][i];
    }
    const gamma = ss.length > 0 ? dot(ss[ss.length - 1], ys[ys.length - 1]) / dot(ys[ys.length - 1], ys[ys.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < m; i++) q[i] *= gamma;
    for (let k = 0; k < ss.length; k++) {
      const b = dot(ys[k], q) / dot(ys[k], ss[k]);
      for (let i = 0; i < m; i++) q[i] += ss[k][i] * (alphas[k] - b);
    }
    const direction = q.map((v) => -v);
    const slope = dot(g, direction);
    if (!(slope < 0)) break;
    let step = 1;
    const next = new Float64Array(m);
    const nextG = new Float64Array(m);
    let fNext = Infinity;
    for (let tries = 0; tries < 30; tries++) {
      for (let i = 0; i < m; i++) next[i] = x[i] + step * direction[i];
      fNext = f(next, nextG);
      if (fNext <= fx + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNext < fx)) break;
    const s = next.map((v, i) => v - x[i]);
    const yv = nextG.map((v, i) => v - g[i]);
    if (dot(s, yv) > 1e-12) {
      ss.push(s);
      ys.push(yv);
      if (ss.length > HISTORY) {
        ss.shift();
        ys.shift();
      }
    }
    const improvement = fx - fNext;
    x = Float64Array.from(next);
    g = Float64Array.from(nextG);
    fx = fNext;
    if (improvement < 1e-10 * Math.max(1, Math.abs(fx))) break;
  }
  return x;
}
