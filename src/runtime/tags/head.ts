// Linear regression heads: H -> k, read over a function tag's vectors (src/runtime/tags/readout.ts). Heads are
// trained on standardized targets, so a prediction is mapped back to the target's units
// with the mean and std recorded beside the head.
import { ShapeMismatchError } from '../errors';
import type { ModelTensor } from '../model/description';
import { embeddingShape } from './expand';
import { meanEmbeddingRow } from './init';

export interface LinearHead {
  readonly outputs: number;
  readonly hiddenSize: number;
  /** [outputs, hidden] row-major, as torch.nn.Linear stores it. */
  readonly weight: Float32Array;
  /** [outputs]. */
  readonly bias: Float32Array;
}

/** How one head output maps to the target: value = standardized * std + mean. */
export interface TargetScale {
  readonly mean: number;
  readonly std: number;
}

/** The head's output on one hidden state, in standardized units. */
export function applyHead(head: LinearHead, hidden: Float32Array): Float32Array {
  if (hidden.length !== head.hiddenSize) throw new ShapeMismatchError(`head expects a hidden state of ${head.hiddenSize} values, got ${hidden.length}`);
  const out = new Float32Array(head.outputs);
  for (let k = 0; k < head.outputs; k++) {
    let sum = head.bias[k];
    const row = k * head.hiddenSize;
    for (let h = 0; h < head.hiddenSize; h++) sum += head.weight[row + h] * hidden[h];
    out[k] = sum;
  }
  return out;
}

export function toTargetUnits(standardized: number, scale: TargetScale): number {
  return standardized * scale.std + scale.mean;
}

/** Mean and population std of training targets; a constant column gets std 1 so it stays finite. */
export function targetScale(values: ArrayLike<number>): TargetScale {
  const n = values.length;
  if (n === 0) throw new RangeError('no target values to standardize');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  const std = Math.sqrt(sq / n);
  return { mean, std: std > 0 ? std : 1 };
}

/**
 * The paper's code starts every head row at the (unscaled) mean embedding row, with no bias;
 * we keep a bias, started at zero, so the head can absorb the target's offset.
 */
export function initLinearHead(embedding: ModelTensor, outputs: number): LinearHead {
  const [, hidden] = embeddingShape(embedding);
  const row = Float32Array.from(meanEmbeddingRow(embedding));
  const weight = new Float32Array(outputs * hidden);
  for (let k = 0; k < outputs; k++) weight.set(row, k * hidden);
  return { outputs, hiddenSize: hidden, weight, bias: new Float32Array(outputs) };
}
