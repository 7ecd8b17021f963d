// Baselines computed in the same run, on the same split, so a reader can judge the tags:
// the training-set mean; ridge linear probes on the frozen model's hidden states for the
// untagged input (last token, and mean over tokens); and ridge on Morgan fingerprints
// (molecules) or amino-acid composition (proteins).
import type { TrainBackend } from './backend';
import { lengthSortedBatches, type ExpandedExamples } from './objectives';
import { designMatrix, fitRidgeValidated, predictRidge, type DesignMatrix } from './ridge';
import { regressionMetrics, type RegressionMetrics } from './metrics';
import type { InputKind } from '../data/examples';
import { morganBits } from '../chem/morgan';
import { aminoAcidComposition } from '../chem/protein';
import { loadRDKit } from '../chem/rdkit';

export interface SplitRows {
  readonly train: readonly number[];
  readonly valid: readonly number[];
  readonly test: readonly number[];
}

const pick = (y: ArrayLike<number>, idx: readonly number[]) => idx.map((i) => y[i]);

export function meanBaseline(y: ArrayLike<number>, split: SplitRows, withCi: boolean): RegressionMetrics {
  const train = pick(y, split.train);
  const mean = train.reduce((a, b) => a + b, 0) / train.length;
  return regressionMetrics(pick(y, split.test), split.test.map(() => mean), withCi);
}

function rowsOf(features: readonly ArrayLike<number>[], idx: readonly number[]): DesignMatrix {
  return designMatrix(idx.map((i) => features[i]));
}

/** Ridge on `features` (one vector per example), λ chosen on the validation rows, scored on test. */
export function ridgeBaseline(features: readonly ArrayLike<number>[], y: ArrayLike<number>, split: SplitRows, withCi: boolean): RegressionMetrics {
  // without validation rows, λ is chosen on the training rows themselves (weakest regularisation wins, which is honest about overfitting)
  const valid = split.valid.length > 0 ? split.valid : split.train;
  const model = fitRidgeValidated(rowsOf(features, split.train), pick(y, split.train), rowsOf(features, valid), pick(y, valid));
  return regressionMetrics(pick(y, split.test), predictRidge(model, rowsOf(features, split.test)), withCi);
}

/** Last-token and mean-pooled hidden states of every example (untagged inputs). */
export async function hiddenFeatures(backend: TrainBackend, examples: ExpandedExamples, batchSize: number, signal?: AbortSignal): Promise<{ last: Float32Array[]; mean: Float32Array[] }> {
  const last: Float32Array[] = new Array(examples.length);
  const mean: Float32Array[] = new Array(examples.length);
  const all = Array.from({ length: examples.length }, (_, i) => i);
  for (const batch of lengthSortedBatches(examples, all, batchSize)) {
    signal?.throwIfAborted();
    const b = examples.batch(batch);
    const hidden = await backend.hidden(b);
    const h = b.hiddenSize;
    batch.forEach((ex, r) => {
      const len = b.rows[r].seqLength;
      const base = r * b.seqLength * h;
      last[ex] = hidden.slice(base + (len - 1) * h, base + len * h);
      const m = new Float32Array(h);
      for (let s = 0; s < len; s++) for (let j = 0; j < h; j++) m[j] += hidden[base + s * h + j] / len;
      mean[ex] = m;
    });
  }
  return { last, mean };
}

/**
 * Structure features of the raw inputs: Morgan bits for SMILES inputs, composition for
 * proteins, concatenated across inputs. Undefined when no input is a molecule or protein.
 */
export async function structureFeatures(inputs: readonly (readonly string[])[], kinds: readonly InputKind[]): Promise<{ name: 'fingerprint_ridge' | 'composition_ridge'; features: Float64Array[] } | undefined> {
  if (!kinds.some((k) => k === 'smiles' || k === 'protein')) return undefined;
  const rdkit = kinds.includes('smiles') ? await loadRDKit() : undefined;
  const cache = new Map<string, ArrayLike<number>>();
  const features = inputs.map((row) => {
    const parts: ArrayLike<number>[] = [];
    kinds.forEach((kind, k) => {
      if (kind === 'text') return;
      const key = `${kind}:${row[k]}`;
      let f = cache.get(key);
      if (!f) cache.set(key, (f = kind === 'smiles' ? morganBits(rdkit!, row[k])! : aminoAcidComposition(row[k])));
      parts.push(f);
    });
    const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  });
  return { name: kinds.includes('smiles') ? 'fingerprint_ridge' : 'composition_ridge', features };
}
