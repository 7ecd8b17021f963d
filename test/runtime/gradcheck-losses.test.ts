// The head losses the reference file does not cover (classification, LM-head label words) and
// padded batches, on the real stories260K model: loss values against the same math done in
// float64 TypeScript on the model's hidden states, gradients against central differences of
// the float32 graph (eps 1e-2, relative tolerance 1e-2 on the largest coordinates), and a
// padded batch against its rows run one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath } from '../helpers/data';
import { seededRandom } from '../helpers/gradcheck';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import type { LoadedModel } from '../../src/runtime/model/description';
import type { LinearHead } from '../../src/runtime/tags/head';
import type { ReadSpan } from '../../src/runtime/tags/readout';
import { trainSession, type TrainBatch, type TrainSession } from '../../src/runtime/session/trainSession';
import { floatWeights } from '../helpers/weights';

const HIDDEN = 64;
let modelPromise: Promise<LoadedModel> | undefined;
const model = () => (modelPromise ??= loadGgufModel(dataPath('models', 'stories260K.gguf')));

/** Right-padded rows of token embeddings, with a random 3-vector "tag" spliced in at `tagAt`. */
function makeBatch(m: LoadedModel, rows: readonly number[][], tag: Float32Array, tagAt: number): TrainBatch {
  const seq = Math.max(...rows.map((r) => r.length + tag.length / HIDDEN));
  const embeds = new Float32Array(rows.length * seq * HIDDEN);
  const mask = new BigInt64Array(rows.length * seq);
  rows.forEach((ids, b) => {
    const row = new Float32Array((ids.length + tag.length / HIDDEN) * HIDDEN);
    row.set(embedTokens(m, ids.slice(0, tagAt)), 0);
    row.set(tag, tagAt * HIDDEN);
    row.set(embedTokens(m, ids.slice(tagAt)), tagAt * HIDDEN + tag.length);
    embeds.set(row, b * seq * HIDDEN);
    mask.fill(1n, b * seq, b * seq + row.length / HIDDEN);
  });
  return { batchSize: rows.length, seqLength: seq, hiddenSize: HIDDEN, inputsEmbeds: embeds, attentionMask: mask };
}

const rand = seededRandom(11);
const tag = Float32Array.from({ length: 3 * HIDDEN }, () => (rand() - 0.5) * 0.8);
const rows = [
  [1, 291, 284, 414, 305, 429, 425],
  [1, 410, 457, 441, 293],
];
const tagAt = 2;
const lengths = rows.map((r) => r.length + 3);
// the head reads the mean over each row's last two positions, as it reads a tag's p vectors
const readSpans: ReadSpan[] = lengths.map((l) => ({ start: l - 2, length: 2 }));
const head: LinearHead = {
  outputs: 3,
  hiddenSize: HIDDEN,
  weight: Float32Array.from({ length: 3 * HIDDEN }, () => (rand() - 0.5) * 0.5),
  bias: Float32Array.of(0.1, -0.2, 0.05),
};
const labels = Int32Array.of(2, 0);
const labelTokenIds = Int32Array.of(291, 410, 305);

/** Mean cross-entropy of `logits` rows [batch, k] against `labels`, in float64. */
function crossEntropy(logits: ArrayLike<number>, k: number, y: Int32Array): number {
  let total = 0;
  y.forEach((label, b) => {
    const row = Array.from({ length: k }, (_, j) => logits[b * k + j]);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
    total += logSum - row[label];
  });
  return total / y.length;
}

/** Logits h W^T + b in float64, h the mean of each row's read span. */
function headLogits(hidden: Float32Array, seq: number, weight: ArrayLike<number>, bias: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(readSpans.length * k);
  readSpans.forEach(({ start, length }, b) => {
    const h = new Float64Array(HIDDEN);
    for (let s = start; s < start + length; s++) for (let i = 0; i < HIDDEN; i++) h[i] += hidden[(b * seq + s) * HIDDEN + i] / length;
    for (let j = 0; j < k; j++) {
      let s = bias[j];
      for (let i = 0; i < HIDDEN; i++) s += weight[j * HIDDEN + i] * h[i];
      out[b * k + j] = s;
    }
  });
  return out;
}

/** Central differences of `loss` along the 3 largest coordinates of `analytic`, where float32 has signal. */
async function checkAgainstDifferences(name: string, analytic: ArrayLike<number>, loss: (k: number, delta: number) => Promise<number>) {
  const order = Array.from({ length: analytic.length }, (_, i) => i).sort((a, b) => Math.abs(analytic[b]) - Math.abs(analytic[a]));
  const eps = 1e-2;
  for (const k of order.slice(0, 3)) {
    const numeric = ((await loss(k, eps)) - (await loss(k, -eps))) / (2 * eps);
    const rel = Math.abs(numeric - analytic[k]) / Math.abs(analytic[k]);
    console.log(`  ${name}[${k}]: analytic ${analytic[k].toExponential(4)}, central difference ${numeric.toExponential(4)} (relative ${rel.toExponential(1)})`);
    assert.ok(rel < 1e-2, `${name}[${k}]: analytic ${analytic[k]}, numeric ${numeric}`);
  }
}

const tagGradient = (batch: TrainBatch, d: Float32Array) => {
  const g = new Float32Array(tag.length);
  for (let b = 0; b < batch.batchSize; b++) {
    const base = (b * batch.seqLength + tagAt) * HIDDEN;
    for (let i = 0; i < tag.length; i++) g[i] += d[base + i];
  }
  return g;
};

const withTag = (m: LoadedModel, k: number, delta: number) => {
  const moved = tag.slice();
  moved[k] += delta;
  return makeBatch(m, rows, moved, tagAt);
};

test('classification head: cross-entropy and prediction match float64 math on the hidden states; gradients match central differences', async () => {
  const m = await model();
  const session: TrainSession = await trainSession(m, { provider: 'cpu' });
  const batch = makeBatch(m, rows, tag, tagAt);
  const r = await session.classificationStep(batch, readSpans, labels, head);
  const logits = headLogits(await session.hidden(batch), batch.seqLength, head.weight, head.bias, 3);
  const expected = crossEntropy(logits, 3, labels);
  assert.ok(Math.abs(r.loss - expected) < 1e-5 * expected, `loss ${r.loss} vs ${expected}`);
  logits.forEach((v, i) => assert.ok(Math.abs(r.prediction[i] - v) < 1e-5, `logit ${i}: ${r.prediction[i]} vs ${v}`));

  const lossWith = async (b: TrainBatch, h: LinearHead) => (await session.classificationStep(b, readSpans, labels, h)).loss;
  await checkAgainstDifferences('classification d/d tag', tagGradient(batch, r.dInputsEmbeds), (k, d) => lossWith(withTag(m, k, d), head));
  await checkAgainstDifferences('classification d/d head weight', r.dHeadWeight, (k, d) => {
    const weight = head.weight.slice();
    weight[k] += d;
    return lossWith(batch, { ...head, weight });
  });
  // The loss is linear in the bias before the softmax: its gradient is softmax - onehot, averaged.
  const bias = Array.from({ length: 3 }, (_, j) =>
    Array.from(labels).reduce((s, label, b) => {
      const row = Array.from({ length: 3 }, (_, c) => logits[b * 3 + c]);
      const z = row.reduce((t, v) => t + Math.exp(v), 0);
      return s + (Math.exp(row[j]) / z - (label === j ? 1 : 0)) / labels.length;
    }, 0),
  );
  bias.forEach((v, j) => assert.ok(Math.abs(r.dHeadBias[j] - v) < 1e-5, `bias grad ${j}: ${r.dHeadBias[j]} vs ${v}`));
});

test('logistic head (multi-label, a missing label, class weights): weighted binary cross-entropy matches float64 math; gradients match central differences', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const batch = makeBatch(m, rows, tag, tagAt);
  // row 0: labels 1, 0, (missing); row 1: 0, 1, 1; positives weighted 3×, as class weights do
  const y = Float32Array.of(1, 0, 0, 0, 1, 1);
  const w = Float32Array.of(3, 1, 0, 1, 3, 3);
  const r = await session.logisticStep(batch, readSpans, y, w, head);
  const logits = headLogits(await session.hidden(batch), batch.seqLength, head.weight, head.bias, 3);
  const logSigmoid = (z: number) => -Math.log1p(Math.exp(-z));
  let total = 0;
  let weights = 0;
  logits.forEach((z, i) => {
    total += -w[i] * (y[i] * logSigmoid(z) + (1 - y[i]) * logSigmoid(-z));
    weights += w[i];
  });
  const expected = total / weights;
  assert.ok(Math.abs(r.loss - expected) < 1e-5 * expected, `loss ${r.loss} vs ${expected}`);
  logits.forEach((v, i) => assert.ok(Math.abs(r.prediction[i] - v) < 1e-5, `logit ${i}: ${r.prediction[i]} vs ${v}`));
  const lossWith = async (b: TrainBatch, h: LinearHead) => (await session.logisticStep(b, readSpans, y, w, h)).loss;
  await checkAgainstDifferences('logistic d/d tag', tagGradient(batch, r.dInputsEmbeds), (k, d) => lossWith(withTag(m, k, d), head));
  await checkAgainstDifferences('logistic d/d head weight', r.dHeadWeight, (k, d) => {
    const weight = head.weight.slice();
    weight[k] += d;
    return lossWith(batch, { ...head, weight });
  });
  // d loss / d bias_j = sum over rows of w (σ(z) - y) / sum(w): the missing label adds nothing
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  for (let j = 0; j < 3; j++) {
    let g = 0;
    for (let b = 0; b < 2; b++) g += (w[b * 3 + j] * (sigmoid(logits[b * 3 + j]) - y[b * 3 + j])) / weights;
    assert.ok(Math.abs(r.dHeadBias[j] - g) < 1e-5, `bias grad ${j}: ${r.dHeadBias[j]} vs ${g}`);
  }
  // a huge logit stays finite
  const big = await session.logisticStep(batch, readSpans, y, w, { ...head, bias: Float32Array.of(200, -200, 0) });
  assert.ok(Number.isFinite(big.loss) && big.dInputsEmbeds.every(Number.isFinite), `loss ${big.loss}`);
});

test('label words: cross-entropy over the LM head restricted to label tokens matches float64 math; tag gradient matches central differences', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const batch = makeBatch(m, rows, tag, tagAt);
  const r = await session.labelWordsStep(batch, readSpans, labels, labelTokenIds);
  // stories260K ties its LM head to the embedding matrix.
  const table = floatWeights(m).get(m.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')!.data;
  const rowsOfHead = new Float32Array(3 * HIDDEN);
  labelTokenIds.forEach((id, j) => rowsOfHead.set(table.subarray(id * HIDDEN, (id + 1) * HIDDEN), j * HIDDEN));
  const logits = headLogits(await session.hidden(batch), batch.seqLength, rowsOfHead, [0, 0, 0], 3);
  const expected = crossEntropy(logits, 3, labels);
  assert.ok(Math.abs(r.loss - expected) < 1e-5 * expected, `loss ${r.loss} vs ${expected}`);
  logits.forEach((v, i) => assert.ok(Math.abs(r.prediction[i] - v) < 1e-4, `logit ${i}: ${r.prediction[i]} vs ${v}`));
  await checkAgainstDifferences('label words d/d tag', tagGradient(batch, r.dInputsEmbeds), async (k, d) => (await session.labelWordsStep(withTag(m, k, d), readSpans, labels, labelTokenIds)).loss);
});

test('a right-padded batch gives each row the gradient it gets alone, scaled by the batch mean', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const batch = makeBatch(m, rows, tag, tagAt);
  const targets = Float32Array.of(0.5, -1, 2, 1.5, 0, -0.5);
  const together = await session.regressionStep(batch, readSpans, targets, head);
  let lossSum = 0;
  for (let b = 0; b < rows.length; b++) {
    const alone = makeBatch(m, [rows[b]], tag, tagAt);
    const r = await session.regressionStep(alone, readSpans.slice(b, b + 1), targets.subarray(b * 3, b * 3 + 3), head);
    lossSum += r.loss;
    const mine = together.dInputsEmbeds.subarray(b * batch.seqLength * HIDDEN, (b * batch.seqLength + lengths[b]) * HIDDEN);
    let worst = 0;
    let scale = 0;
    mine.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - r.dInputsEmbeds[i] / rows.length));
      scale = Math.max(scale, Math.abs(r.dInputsEmbeds[i]));
    });
    assert.ok(worst < 1e-5 * scale, `row ${b}: worst difference ${worst} (scale ${scale})`);
    // Padding positions take no gradient.
    const padding = together.dInputsEmbeds.subarray((b * batch.seqLength + lengths[b]) * HIDDEN, (b + 1) * batch.seqLength * HIDDEN);
    assert.ok(padding.every((v) => v === 0));
  }
  assert.ok(Math.abs(together.loss - lossSum / rows.length) < 1e-5 * together.loss);
});

test('next-token targets outside the vocabulary, or none at all, are refused with a clear error', async () => {
  const m = await model();
  const session = await trainSession(m, { provider: 'cpu' });
  const batch = makeBatch(m, [rows[0]], tag, tagAt);
  await assert.rejects(session.nextTokenStep(batch, new Int32Array(batch.seqLength).fill(-1)), /no position in the batch has a next-token target/);
  await assert.rejects(session.nextTokenStep(batch, new Int32Array(batch.seqLength).fill(512)), /outside the vocabulary/);
  await assert.rejects(session.regressionStep(batch, [{ start: batch.seqLength - 1, length: 2 }], Float32Array.of(0, 0, 0), head), /read span/);
});
