// Where a head reads: the mean of the final hidden states over the read tag's p vectors.
// The paper's code reads only the last of them; in a small model that one position carries
// less about the input than the tag's p positions together (docs/RESULTS.md, "readout").
// Training graphs take the same mean as weights (src/runtime/train/lossGraphs.ts).
import { ShapeMismatchError, UsageError } from '../errors';

/** The read tag's positions in one sequence. */
export interface ReadSpan {
  readonly start: number;
  readonly length: number;
}

/** The mean of `hidden` [.., seq, hidden] rows start..start+length-1 of batch row `row`. */
export function readout(hidden: Float32Array, seqLength: number, hiddenSize: number, row: number, span: ReadSpan): Float32Array {
  const out = new Float32Array(hiddenSize);
  const base = row * seqLength;
  for (let s = span.start; s < span.start + span.length; s++) {
    const at = (base + s) * hiddenSize;
    for (let j = 0; j < hiddenSize; j++) out[j] += hidden[at + j];
  }
  for (let j = 0; j < hiddenSize; j++) out[j] /= span.length;
  return out;
}

/** [batch, seq] weights whose weighted sum of hidden states is each row's readout. */
export function readWeights(spans: readonly ReadSpan[], batchSize: number, seqLength: number): Float32Array {
  if (spans.length !== batchSize) throw new ShapeMismatchError(`${spans.length} read spans for a batch of ${batchSize}`);
  const weights = new Float32Array(batchSize * seqLength);
  spans.forEach((span, b) => {
    if (!(Number.isInteger(span.start) && span.length >= 1 && span.start >= 0 && span.start + span.length <= seqLength)) {
      throw new UsageError(`read span ${span.start}..${span.start + span.length - 1} is outside the sequence (0..${seqLength - 1})`);
    }
    weights.fill(1 / span.length, b * seqLength + span.start, b * seqLength + span.start + span.length);
  });
  return weights;
}
