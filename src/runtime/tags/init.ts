// Starting values for new tags and heads, as in the paper (§3.1) and its released code.
import { InvalidFileError } from '../errors';
import type { ModelTensor } from '../model/description';
import { rowChunks } from '../model/tensor';
import { embeddingShape } from './expand';
import type { TagValue } from './name';

/** The mean of the embedding rows, in float64 for a stable sum over large vocabularies. */
export function meanEmbeddingRow(embedding: ModelTensor): Float64Array {
  const [vocab, hidden] = embeddingShape(embedding);
  const mean = new Float64Array(hidden);
  for (const table of rowChunks(embedding)) {
    for (let row = 0; row < table.length; row += hidden) {
      for (let h = 0; h < hidden; h++) mean[h] += table[row + h];
    }
  }
  for (let h = 0; h < hidden; h++) mean[h] /= vocab;
  return mean;
}

/** The mean L2 norm of the embedding rows. */
export function meanEmbeddingNorm(embedding: ModelTensor): number {
  const [vocab, hidden] = embeddingShape(embedding);
  let total = 0;
  for (const table of rowChunks(embedding)) {
    for (let row = 0; row < table.length; row += hidden) {
      let sq = 0;
      for (let h = row; h < row + hidden; h++) sq += table[h] * table[h];
      total += Math.sqrt(sq);
    }
  }
  return total / vocab;
}

/**
 * Every one of the p vectors is the mean embedding row rescaled to the mean row norm, so a
 * fresh tag looks like a typical token in size without resembling any one of them. (The
 * paper's code used a constant ratio of 7.8 measured on LLaMA-7B; we measure it per model.)
 */
export function initTagValue(embedding: ModelTensor, p: number): TagValue {
  const [, hidden] = embeddingShape(embedding);
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`a tag needs p >= 1 vectors, got ${p}`);
  const mean = meanEmbeddingRow(embedding);
  const meanNorm = Math.hypot(...mean);
  if (!(meanNorm > 0)) throw new InvalidFileError('the embedding rows average to the zero vector; cannot initialise a tag from them');
  const scale = meanEmbeddingNorm(embedding) / meanNorm;
  const row = Float32Array.from(mean, (x) => x * scale);
  const data = new Float32Array(p * hidden);
  for (let i = 0; i < p; i++) data.set(row, i * hidden);
  return { p, hiddenSize: hidden, data };
}
