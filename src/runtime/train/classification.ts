// Classification function tags: binary and multi-label tasks with missing labels (Tox21's 12
// assays), each output one logistic task. This module turns label columns into the logistic
// objective's labels and class weights, scores probabilities (each output on its known labels,
// then the mean over outputs, as MoleculeNet reports Tox21), and runs the classification
// baselines on the same split: majority class, logistic probes on the untagged model's
// last-token and mean-pooled hidden states, and logistic regression on structure features.
import { classificationMetrics, type ClassificationMetrics } from './metrics';
import { balancedClassWeights, fitLogisticValidated, predictLogistic } from './logistic';
import { designMatrix } from './ridge';
import type { SplitRows } from './baselines';

/** Labels [examples][outputs]: 0, 1 or NaN (missing). */
export type LabelRows = readonly (readonly number[])[];

/** Whether every known label is 0 or 1: a label column that `tagllm train` treats as classification. */
export function isBinaryLabelSet(rows: LabelRows): boolean {
  let any = false;
  for (const row of rows)
    for (const v of row) {
      if (Number.isNaN(v)) continue;
      if (v !== 0 && v !== 1) return false;
      any = true;
    }
  return any;
}

export interface LogisticTargets {
  readonly outputs: number;
  /** [examples, outputs] 0/1 (0 where missing). */
  readonly labels: Float32Array;
  /** [examples, outputs]: the output's balanced class weight on the training rows, 0 where the label is missing. */
  readonly weights: Float32Array;
}

export function logisticTargets(rows: LabelRows, train: readonly number[]): LogisticTargets {
  const outputs = rows[0].length;
  const labels = new Float32Array(rows.length * outputs);
  const weights = new Float32Array(rows.length * outputs);
  for (let j = 0; j < outputs; j++) {
    const known = train.map((i) => rows[i][j]).filter((v) => !Number.isNaN(v));
    const w = balancedClassWeights(known);
    rows.forEach((row, i) => {
      const v = row[j];
      if (Number.isNaN(v)) return;
      labels[i * outputs + j] = v;
      weights[i * outputs + j] = v === 1 ? w.positive : w.negative;
    });
  }
  return { outputs, labels, weights };
}

/**
 * Each output's metrics over the rows where its label is known, averaged over the outputs
 * that have both classes in `indices` (ROC-AUC is undefined otherwise); `probabilities[r]`
 * belongs to `indices[r]`.
 */
export function classificationRecord(rows: LabelRows, indices: readonly number[], probabilities: readonly ArrayLike<number>[]): ClassificationMetrics {
  const outputs = rows[0].length;
  const sums = { auroc: 0, auprc: 0, accuracy: 0, brier: 0 };
  let counted = 0;
  for (let j = 0; j < outputs; j++) {
    const y: number[] = [];
    const p: number[] = [];
    indices.forEach((i, r) => {
      if (!Number.isNaN(rows[i][j])) {
        y.push(rows[i][j]);
        p.push(probabilities[r][j]);
      }
    });
    if (!y.includes(0) || !y.includes(1)) continue;
    const m = classificationMetrics(y, p);
    for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] += m[key];
    counted++;
  }
  const mean = (v: number) => (counted > 0 ? v / counted : NaN);
  return { auroc: mean(sums.auroc), auprc: mean(sums.auprc), accuracy: mean(sums.accuracy), brier: mean(sums.brier) };
}

/** The training rows' positive rate of each output, as every test row's probability. */
export function majorityBaseline(rows: LabelRows, split: SplitRows): ClassificationMetrics {
  const outputs = rows[0].length;
  const rate = Array.from({ length: outputs }, (_, j) => {
    const known = split.train.map((i) => rows[i][j]).filter((v) => !Number.isNaN(v));
    return known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : 0.5;
  });
  return classificationRecord(rows, split.test, split.test.map(() => rate));
}

/**
 * One class-weighted logistic regression per output on `features`, λ chosen on the
 * validation rows (the training rows when there are none), scored on test.
 */
export function logisticBaseline(features: readonly ArrayLike<number>[], rows: LabelRows, split: SplitRows): ClassificationMetrics {
  const outputs = rows[0].length;
  const valid = split.valid.length > 0 ? split.valid : split.train;
  const probabilities = split.test.map(() => new Float64Array(outputs));
  const testX = designMatrix(split.test.map((i) => features[i]));
  for (let j = 0; j < outputs; j++) {
    const known = (idx: readonly number[]) => idx.filter((i) => !Number.isNaN(rows[i][j]));
    const train = known(split.train);
    const val = known(valid);
    const y = (idx: number[]) => idx.map((i) => rows[i][j]);
    const w = balancedClassWeights(y(train));
    const weightsOf = (idx: number[]) => idx.map((i) => (rows[i][j] === 1 ? w.positive : w.negative));
    const model = fitLogisticValidated(
      designMatrix(train.map((i) => features[i])), y(train), weightsOf(train),
      designMatrix(val.map((i) => features[i])), y(val), weightsOf(val),
    );
    predictLogistic(model, testX).forEach((p, r) => (probabilities[r][j] = p));
  }
  return classificationRecord(rows, split.test, probabilities);
}
