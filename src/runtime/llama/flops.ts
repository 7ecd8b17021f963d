// Floating-point operations of one decoder forward, counted as 2 per multiply-add of the
// matrix products (projections, attention scores and context, output head). Norms, rotary
// and softmax are O(hidden) per token and left out, as benchmark papers usually do.
import type { LlamaConfig } from '../model/description';

export interface ForwardShape {
  readonly batch: number;
  /** New positions this forward computes. */
  readonly seq: number;
  /** Cached positions before them. */
  readonly past: number;
  /** Positions that get logits: 0, 1 (last) or seq (all). */
  readonly logitPositions: number;
}

export function decoderForwardFlops(c: LlamaConfig, s: ForwardShape): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const projectionMacs = c.hiddenSize * (q + 2 * kv) + q * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  // Query t attends to past + t + 1 keys; scores and context each cost headDim per head and key.
  const keysSeen = s.seq * s.past + (s.seq * (s.seq + 1)) / 2;
  const attentionMacs = 2 * c.numHeads * c.headDim * keysSeen;
  const perRow = c.numLayers * (s.seq * projectionMacs + attentionMacs) + s.logitPositions * c.hiddenSize * c.vocabSize;
  return 2 * s.batch * perRow;
}
