// A stand-in for the onnxruntime training session in trainer tests: hidden state s is the
// running mean of the input embeddings up to s (causal, linear), logits are hidden · Eᵀ with
// the model's embedding table. Its gradients are exact in closed form, so the stage logic
// can be tested apart from the graph code.
import type { TrainBackend } from '../../src/runtime/train/backend';
import type { ExpandedBatch } from '../../src/runtime/tags/expand';
import type { LinearHead } from '../../src/runtime/tags/head';
import { readout, type ReadSpan } from '../../src/runtime/tags/readout';

export function runningMeanBackend(embedding: Float32Array, vocab: number): TrainBackend {
  const hiddenOf = (b: ExpandedBatch): Float32Array => {
    const { batchSize, seqLength: S, hiddenSize: H, inputsEmbeds } = b;
    const out = new Float32Array(batchSize * S * H);
    for (let r = 0; r < batchSize; r++) {
      const acc = new Float64Array(H);
      for (let s = 0; s < S; s++) {
        const o = (r * S + s) * H;
        for (let j = 0; j < H; j++) {
          acc[j] += inputsEmbeds[o + j];
          out[o + j] = acc[j] / (s + 1);
        }
      }
    }
    return out;
  };
  const nll = (b: ExpandedBatch, targets: Int32Array, withGrad: boolean) => {
    const { batchSize, seqLength: S, hiddenSize: H } = b;
    const hidden = hiddenOf(b);
    const dHidden = new Float32Array(hidden.length);
    let total = 0;
    let count = 0;
    for (let i = 0; i < targets.length; i++) if (targets[i] >= 0) count++;
    for (let r = 0; r < batchSize; r++)
      for (let s = 0; s < S; s++) {
        const t = targets[r * S + s];
        if (t < 0) continue;
        const o = (r * S + s) * H;
        const logits = new Float64Array(vocab);
        let max = -Infinity;
        for (let v = 0; v < vocab; v++) {
          let z = 0;
          for (let j = 0; j < H; j++) z += hidden[o + j] * embedding[v * H + j];
          logits[v] = z;
          max = Math.max(max, z);
        }
        let sum = 0;
        for (let v = 0; v < vocab; v++) sum += Math.exp(logits[v] - max);
        total += -(logits[t] - max - Math.log(sum));
        if (!withGrad) continue;
        for (let v = 0; v < vocab; v++) {
          const g = (Math.exp(logits[v] - max) / sum - (v === t ? 1 : 0)) / count;
          for (let j = 0; j < H; j++) dHidden[o + j] += g * embedding[v * H + j];
        }
      }
    return { loss: total / count, count, dInputsEmbeds: withGrad ? backThroughMean(b, dHidden) : new Float32Array(0) };
  };
  /** A linear head over each row's readout; `term` gives each prediction's loss share and its derivative. */
  const headStep = (b: ExpandedBatch, readSpans: readonly ReadSpan[], head: LinearHead, term: (prediction: number, i: number) => { loss: number; dPred: number }) => {
    const { batchSize, seqLength: S, hiddenSize: H } = b;
    const K = head.outputs;
    const hidden = hiddenOf(b);
    const dHidden = new Float32Array(hidden.length);
    const dW = new Float32Array(K * H);
    const dB = new Float32Array(K);
    let loss = 0;
    for (let r = 0; r < batchSize; r++) {
      const { start, length } = readSpans[r];
      const read = readout(hidden, S, H, r, readSpans[r]);
      for (let k = 0; k < K; k++) {
        let pred = head.bias[k];
        for (let j = 0; j < H; j++) pred += head.weight[k * H + j] * read[j];
        const t = term(pred, r * K + k);
        loss += t.loss;
        dB[k] += t.dPred;
        for (let j = 0; j < H; j++) dW[k * H + j] += t.dPred * read[j];
        for (let s = start; s < start + length; s++) for (let j = 0; j < H; j++) dHidden[(r * S + s) * H + j] += (t.dPred * head.weight[k * H + j]) / length;
      }
    }
    return { loss, dInputsEmbeds: backThroughMean(b, dHidden), dHeadWeight: dW, dHeadBias: dB };
  };
  return {
    provider: 'fake',
    async hidden(b) {
      return hiddenOf(b);
    },
    async regressionStep(b, readSpans, targets, head: LinearHead) {
      // d (mean squared error) / d prediction = 2 e / (batch · outputs)
      return headStep(b, readSpans, head, (pred, i) => {
        const e = pred - targets[i];
        return { loss: (e * e) / targets.length, dPred: (2 * e) / targets.length };
      });
    },
    async logisticStep(b, readSpans, labels, weights, head: LinearHead) {
      const total = weights.reduce((a, w) => a + w, 0);
      return headStep(b, readSpans, head, (z, i) => {
        const margin = labels[i] === 1 ? z : -z;
        const nll = Math.max(-margin, 0) + Math.log1p(Math.exp(-Math.abs(margin)));
        return { loss: (weights[i] * nll) / total, dPred: (weights[i] * (1 / (1 + Math.exp(-z)) - labels[i])) / total };
      });
    },
    async nextTokenStep(b, targets) {
      const r = nll(b, targets, true);
      return { loss: r.loss, dInputsEmbeds: r.dInputsEmbeds };
    },
    async nextTokenLoss(b, targets) {
      const r = nll(b, targets, false);
      return { loss: r.loss, count: r.count };
    },
  };
}

/** hidden[s] = mean(emb[0..s]) ⇒ d emb[j] = Σ_{s ≥ j} d hidden[s] / (s + 1). */
function backThroughMean(b: ExpandedBatch, dHidden: Float32Array): Float32Array {
  const { batchSize, seqLength: S, hiddenSize: H } = b;
  const out = new Float32Array(dHidden.length);
  for (let r = 0; r < batchSize; r++) {
    const acc = new Float64Array(H);
    for (let s = S - 1; s >= 0; s--) {
      const o = (r * S + s) * H;
      for (let j = 0; j < H; j++) {
        acc[j] += dHidden[o + j] / (s + 1);
        out[o + j] = acc[j];
      }
    }
  }
  return out;
}
