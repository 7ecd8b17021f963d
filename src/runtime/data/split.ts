// Train / validation / test splits: either named by a column of the data (values like
// train, valid, test; Davis' train0..train4 folds) or drawn at random with a seed.
import { SeededRng } from '../train/rng';
import { UsageError } from '../errors';

export type SplitName = 'train' | 'valid' | 'test';

export interface SplitIndices {
  readonly train: number[];
  readonly valid: number[];
  readonly test: number[];
}

/** Maps a split column's value to a split; anything not test- or validation-like trains. */
export function splitOfLabel(value: string): SplitName {
  const v = value.trim().toLowerCase();
  if (v.startsWith('test')) return 'test';
  if (v.startsWith('val') || v === 'dev') return 'valid';
  return 'train';
}

/**
 * Random split: `fraction` of the rows go to test and the same fraction to validation.
 * The same seed and row count always give the same split.
 */
export function randomSplit(n: number, fraction: number, seed: number): SplitIndices {
  if (!(fraction > 0 && fraction < 0.5)) throw new UsageError(`split fraction must be in (0, 0.5), got ${fraction}`);
  const order = new SeededRng(seed).permutation(n);
  const nTest = Math.max(1, Math.round(n * fraction));
  const nValid = Math.max(1, Math.round(n * fraction));
  return {
    test: order.slice(0, nTest).sort((a, b) => a - b),
    valid: order.slice(nTest, nTest + nValid).sort((a, b) => a - b),
    train: order.slice(nTest + nValid).sort((a, b) => a - b),
  };
}

/**
 * Split by labels. When the column names no validation rows, `validFraction` of the
 * training rows are held out for validation (seeded), so early stopping never looks at test.
 * For Davis' folds, `validFold` names the training fold that validates (e.g. "train4").
 */
export function labelledSplit(labels: readonly string[], seed: number, validFraction = 0.1, validFold?: string): SplitIndices {
  const out: SplitIndices = { train: [], valid: [], test: [] };
  labels.forEach((l, i) => {
    const s = validFold !== undefined && l.trim() === validFold ? 'valid' : splitOfLabel(l);
    out[s].push(i);
  });
  if (out.valid.length > 0 || out.train.length < 2) return out;
  const order = new SeededRng(seed).shuffle([...out.train]);
  const nValid = Math.max(1, Math.round(out.train.length * validFraction));
  return {
    train: order.slice(nValid).sort((a, b) => a - b),
    valid: order.slice(0, nValid).sort((a, b) => a - b),
    test: out.test,
  };
}
