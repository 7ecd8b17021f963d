// Evaluation metrics, with the lowercase keys the CLI prints. Regression: mse, rmse, mae,
// pearson, spearman, and ci (concordance index, the binding-affinity metric of DeepDTA).
// Classification, on probabilities in [0, 1] against 0/1 labels: auroc (ROC-AUC), auprc (PR-AUC
// as average precision, sklearn's definition), accuracy at 0.5 and the Brier score.

export interface RegressionMetrics {
  readonly mse: number;
  readonly rmse: number;
  readonly mae: number;
  readonly pearson: number;
  readonly spearman: number;
  readonly ci?: number;
}

export interface ClassificationMetrics {
  readonly auroc: number;
  readonly auprc: number;
  readonly accuracy: number;
  readonly brier: number;
}

function checkLengths(y: ArrayLike<number>, pred: ArrayLike<number>): void {
  if (y.length !== pred.length) throw new Error(`metrics: ${y.length} labels but ${pred.length} predictions`);
  if (y.length === 0) throw new Error('metrics: no examples');
}

export function mse(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLengths(y, pred);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - pred[i]) ** 2;
  return s / y.length;
}

export function mae(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLengths(y, pred);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += Math.abs(y[i] - pred[i]);
  return s / y.length;
}

/** Pearson correlation; NaN when either side is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a, b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  // a constant side has no correlation (tested exactly: its centred values are rounding noise)
  return isConstant(a) || isConstant(b) ? NaN : sab / Math.sqrt(saa * sbb);
}

function isConstant(v: ArrayLike<number>): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

/** 1-based ranks, ties sharing their average rank. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a, b);
  return pearson(averageRanks(a), averageRanks(b));
}

/**
 * Concordance index: over pairs with different labels, the fraction whose predictions are
 * ordered the same way (tied predictions count one half). O(n log n) by counting, with a
 * Fenwick tree over prediction ranks, so Davis' 5,000-pair test set is instant.
 */
export function concordanceIndex(y: ArrayLike<number>, pred: ArrayLike<number>): number {
  checkLengths(y, pred);
  const n = y.length;
  const predRank = denseRanks(pred);
  const levels = Math.max(...predRank) + 1;
  const below = new Float64Array(levels + 1); // Fenwick tree: counts of predictions seen, by rank
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => y[i] - y[j]);
  let concordant = 0;
  let pairs = 0;
  let seen = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && y[order[end]] === y[order[start]]) end++;
    // every item in this label group is above every item already in the tree
    for (let k = start; k < end; k++) {
      const r = predRank[order[k]];
      const less = prefix(below, r);
      const lessOrEqual = prefix(below, r + 1);
      concordant += less + 0.5 * (lessOrEqual - less);
      pairs += seen;
    }
    for (let k = start; k < end; k++) {
      for (let i = predRank[order[k]] + 1; i <= levels; i += i & -i) below[i]++;
      seen++;
    }
    start = end;
  }
  return pairs === 0 ? NaN : concordant / pairs;
}

function prefix(tree: Float64Array, count: number): number {
  let s = 0;
  for (let i = count; i > 0; i -= i & -i) s += tree[i];
  return s;
}

function denseRanks(values: ArrayLike<number>): Int32Array {
  const sorted = Array.from(new Set(Array.from(values))).sort((a, b) => a - b);
  const index = new Map(sorted.map((v, i) => [v, i]));
  return Int32Array.from(Array.from(values), (v) => index.get(v)!);
}

/** Area under the ROC curve (Mann–Whitney U with ties counting one half). */
export function auroc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkLengths(labels, scores);
  const ranks = averageRanks(scores);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1) {
      nPos++;
      rankSum += ranks[i];
    }
  }
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function accuracy(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): number {
  checkLengths(labels, scores);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if ((scores[i] >= threshold ? 1 : 0) === labels[i]) right++;
  return right / labels.length;
}

/**
 * Average precision: the sum over distinct score thresholds, highest first, of (recall gained)
 * × precision at that threshold. Tied scores form one threshold, so their order cannot change
 * the result (a plain sorted sweep would credit whichever tied item came first). NaN without positives.
 */
export function auprc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkLengths(labels, scores);
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((i, j) => scores[j] - scores[i]);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === 1) nPos++;
  if (nPos === 0) return NaN;
  let truePos = 0;
  let ap = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    let gained = 0;
    while (end < order.length && scores[order[end]] === scores[order[start]]) {
      if (labels[order[end]] === 1) gained++;
      end++;
    }
    truePos += gained;
    ap += (gained / nPos) * (truePos / end);
    start = end;
  }
  return ap;
}

/** Mean squared difference between the probabilities and the 0/1 labels. */
export function brier(labels: ArrayLike<number>, probabilities: ArrayLike<number>): number {
  return mse(labels, probabilities);
}

export function regressionMetrics(y: ArrayLike<number>, pred: ArrayLike<number>, withCi = false): RegressionMetrics {
  const m = mse(y, pred);
  const base = { mse: m, rmse: Math.sqrt(m), mae: mae(y, pred), pearson: pearson(y, pred), spearman: spearman(y, pred) };
  return withCi ? { ...base, ci: concordanceIndex(y, pred) } : base;
}

export function classificationMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>): ClassificationMetrics {
  return { auroc: auroc(labels, scores), auprc: auprc(labels, scores), accuracy: accuracy(labels, scores), brier: brier(labels, scores) };
}
