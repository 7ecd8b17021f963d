// What the trainer needs from the model, as one narrow interface: a forward pass to hidden
// states, and training steps that return the loss with its gradient with respect to the
// input embeddings (and the head). trainSession.ts implements it on onnxruntime; tests
// implement it with small models whose gradients are known in closed form.
//
// A batch may continue cached positions (`past`): the keys and values of a frozen prefix that
// many rows share, or of the positions before the first trainable tag
// (src/runtime/train/prefixCache.ts), so steps differentiate through the rest only.
import type { ExpandedBatch } from '../tags/expand';
import type { LinearHead } from '../tags/head';
import type { ReadSpan } from '../tags/readout';

export interface HeadStepResult {
  /** Mean squared error in standardized units (regression), or weighted binary cross-entropy (logistic). */
  readonly loss: number;
  /** d loss / d inputs_embeds, [batch, seq, hidden]. */
  readonly dInputsEmbeds: Float32Array;
  /** d loss / d head weight [outputs, hidden] and bias [outputs]. */
  readonly dHeadWeight: Float32Array;
  readonly dHeadBias: Float32Array;
}

export interface NextTokenStepResult {
  /** Mean next-token negative log-likelihood over the target positions. */
  readonly loss: number;
  readonly dInputsEmbeds: Float32Array;
}

/** Keys and values of one sequence, per layer [kvHeads, length, headDim]. */
export interface SequenceKeyValues {
  readonly length: number;
  readonly kvHeads: number;
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
}

/** Positions a batch continues: per layer [batch, kvHeads, length, headDim], rows left-padded. */
export interface PastBatch {
  readonly length: number;
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
  /** [batch, length]: 1 for a cached position, 0 for left padding. */
  readonly mask: BigInt64Array;
}

export interface TrainBackend {
  /** Which execution provider ran (for reports). */
  readonly provider: string;
  /** Hidden states after the final norm, [batch, seq, hidden]. */
  hidden(batch: ExpandedBatch, past?: PastBatch): Promise<Float32Array>;
  /**
   * Each row's keys and values, for reuse as `past`; with a `past`, the row's cached positions
   * come first. Backends without it differentiate every position and cache nothing.
   */
  keyValues?(batch: ExpandedBatch, past?: PastBatch): Promise<SequenceKeyValues[]>;
  /**
   * MSE between the head's output read over `readSpans[b]` (src/runtime/tags/readout.ts) and
   * `targets` [batch, outputs], standardized.
   */
  regressionStep(batch: ExpandedBatch, readSpans: readonly ReadSpan[], targets: Float32Array, head: LinearHead, past?: PastBatch): Promise<HeadStepResult>;
  /**
   * sum(w · binary cross-entropy) / sum(w) of the head's logits read over `readSpans[b]`
   * against `labels` [batch, outputs] (0/1), `weights` [batch, outputs] being 0 where a label is missing.
   */
  logisticStep(batch: ExpandedBatch, readSpans: readonly ReadSpan[], labels: Float32Array, weights: Float32Array, head: LinearHead, past?: PastBatch): Promise<HeadStepResult>;
  /**
   * Next-token NLL: `targets` [batch, seq] holds the token id to predict at each position
   * (the id at position s+1), or -1 where no loss is taken.
   */
  nextTokenStep(batch: ExpandedBatch, targets: Int32Array): Promise<NextTokenStepResult>;
  /** Mean next-token NLL without gradients (held-out evaluation). */
  nextTokenLoss(batch: ExpandedBatch, targets: Int32Array): Promise<{ loss: number; count: number }>;
}
