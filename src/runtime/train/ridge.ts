// Ridge regression for the baselines (linear probes on hidden states, fingerprints,
// amino-acid composition). Closed form on a standardized design: columns are centred and
// scaled by their training mean and std, the target is centred, so λ means the same for
// every feature set. With more features than examples the dual form (n×n) is solved
// instead of the primal (d×d); both give the same weights.

/** A dense row-major matrix of examples × features. */
export interface DesignMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export interface RidgeModel {
  readonly lambda: number;
  readonly featureMean: Float64Array;
  /** 1/std per feature; 0 for a constant feature, which then carries no weight. */
  readonly featureInvStd: Float64Array;
  readonly weights: Float64Array;
  readonly intercept: number;
}

export const DEFAULT_LAMBDAS: readonly number[] = [1e-2, 1e-1, 1, 10, 100, 1e3, 1e4, 1e5];

export function designMatrix(rows: readonly ArrayLike<number>[]): DesignMatrix {
  const cols = rows.length > 0 ? rows[0].length : 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new Error(`design matrix: row ${i} has ${r.length} features, expected ${cols}`);
    data.set(r, i * cols);
  });
  return { rows: rows.length, cols, data };
}

interface Standardized {
  readonly x: Float64Array;
  readonly mean: Float64Array;
  readonly invStd: Float64Array;
  readonly yMean: number;
  readonly yc: Float64Array;
}

/**
 * The design with every column centred and scaled by its mean and std over the rows; a
 * constant column gets 1/std = 0 and carries no weight. (The logistic baselines share it.)
 */
export function standardizeColumns(X: DesignMatrix): { x: Float64Array; mean: Float64Array; invStd: Float64Array } {
  const { rows: n, cols: d, data } = X;
  const mean = new Float64Array(d);
  const invStd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) invStd[j] += (data[i * d + j] - mean[j]) ** 2;
  for (let j = 0; j < d; j++) {
    const std = Math.sqrt(invStd[j] / n);
    invStd[j] = std > 1e-12 ? 1 / std : 0;
  }
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (data[i * d + j] - mean[j]) * invStd[j];
  return { x, mean, invStd };
}

function standardize(X: DesignMatrix, y: ArrayLike<number>): Standardized {
  const n = X.rows;
  if (y.length !== n) throw new Error(`ridge: ${n} rows but ${y.length} targets`);
  if (n === 0) throw new Error('ridge: no training rows');
  const { x, mean, invStd } = standardizeColumns(X);
  let yMean = 0;
  for (let i = 0; i < n; i++) yMean += y[i];
  yMean /= n;
  const yc = Float64Array.from(y, (v) => v - yMean);
  return { x, mean, invStd, yMean, yc };
}

/** Solves (A + λI) z = b for symmetric positive semi-definite A (m×m) by Cholesky. */
function solveShifted(A: Float64Array, m: number, lambda: number, b: Float64Array): Float64Array {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j] + (i === j ? lambda : 0);
      const ri = i * m;
      const rj = j * m;
      for (let k = 0; k < j; k++) s -= L[ri + k] * L[rj + k];
      if (i === j) L[ri + i] = Math.sqrt(Math.max(s, 1e-300));
      else L[ri + j] = s / L[rj + j];
    }
  }
  const z = Float64Array.from(b);
  for (let i = 0; i < m; i++) {
    let s = z[i];
    for (let k = 0; k < i; k++) s -= L[i * m + k] * z[k];
    z[i] = s / L[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < m; k++) s -= L[k * m + i] * z[k];
    z[i] = s / L[i * m + i];
  }
  return z;
}

/** Fits ridge for each λ, sharing the standardization and the Gram matrix. */
export function fitRidgePath(X: DesignMatrix, y: ArrayLike<number>, lambdas: readonly number[]): RidgeModel[] {
  const s = standardize(X, y);
  const { rows: n, cols: d } = X;
  const x = s.x;
  const dual = d > n;
  const m = dual ? n : d;
  const gram = new Float64Array(m * m);
  if (dual) {
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let t = 0;
        for (let k = 0; k < d; k++) t += x[i * d + k] * x[j * d + k];
        gram[i * n + j] = gram[j * n + i] = t;
      }
  } else {
    for (let r = 0; r < n; r++) {
      const o = r * d;
      for (let i = 0; i < d; i++) {
        const xi = x[o + i];
        if (xi === 0) continue;
        for (let j = 0; j <= i; j++) gram[i * d + j] += xi * x[o + j];
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) gram[j * d + i] = gram[i * d + j];
  }
  const rhs = dual ? s.yc : new Float64Array(d);
  if (!dual) for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) rhs[j] += x[r * d + j] * s.yc[r];
  return lambdas.map((lambda) => {
    const z = solveShifted(gram, m, lambda, rhs);
    let weights = z;
    if (dual) {
      weights = new Float64Array(d);
      for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) weights[j] += x[r * d + j] * z[r];
    }
    return { lambda, featureMean: s.mean, featureInvStd: s.invStd, weights, intercept: s.yMean };
  });
}

export function predictRidge(model: RidgeModel, X: DesignMatrix): Float64Array {
  const { rows: n, cols: d, data } = X;
  if (d !== model.weights.length) throw new Error(`ridge: model has ${model.weights.length} features, input ${d}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = model.intercept;
    for (let j = 0; j < d; j++) t += (data[i * d + j] - model.featureMean[j]) * model.featureInvStd[j] * model.weights[j];
    out[i] = t;
  }
  return out;
}

/** Fits on the training split and keeps the λ with the lowest validation MSE. */
export function fitRidgeValidated(
  trainX: DesignMatrix,
  trainY: ArrayLike<number>,
  validX: DesignMatrix,
  validY: ArrayLike<number>,
  lambdas: readonly number[] = DEFAULT_LAMBDAS,
): RidgeModel {
  let best: RidgeModel | undefined;
  let bestMse = Infinity;
  for (const model of fitRidgePath(trainX, trainY, lambdas)) {
    const p = predictRidge(model, validX);
    let e = 0;
    for (let i = 0; i < p.length; i++) e += (p[i] - validY[i]) ** 2;
    e /= Math.max(1, p.length);
    if (e < bestMse) {
      bestMse = e;
      best = model;
    }
  }
  return best!;
}

/** The same model as plain weights and intercept on the raw (unstandardized) features. */
export function ridgeAsLinear(model: RidgeModel): { weights: Float64Array; intercept: number } {
  const weights = Float64Array.from(model.weights, (w, j) => w * model.featureInvStd[j]);
  let intercept = model.intercept;
  for (let j = 0; j < weights.length; j++) intercept -= weights[j] * model.featureMean[j];
  return { weights, intercept };
}
