/**
 * Training steps on onnxruntime: each step runs one ONNX model that computes the loss and its
 * exact gradients with respect to the input embeddings (and the head), built by
 * src/runtime/train/lossGraphs.ts. One compiled session per (model, loss kind, with or without
 * gradients), created on first use; batch and sequence length are free, and the head's
 * weight and bias are inputs, so nothing is rebuilt between steps.
 *
 * A batch is right- or left-padded: `inputsEmbeds` [batch, seq, hidden] and `attentionMask`
 * [batch, seq] (1 = token); `ExpandedBatch` from src/runtime/tags/expand.ts fits as it is.
 * Every gradient comes back as a Float32Array in the layout of what it differentiates:
 * `dInputsEmbeds` [batch, seq, hidden], `dHeadWeight` [outputs, hidden], `dHeadBias` [outputs].
 * The caller sums `dInputsEmbeds` over each tag's positions (src/runtime/train/tagGradients.ts).
 * With a `past` (cached keys and values of a frozen prefix), the same steps run over the
 * positions after it only, on a second compiled graph with KV inputs.
 */
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '../model/description';
import { ShapeMismatchError, UsageError } from '../errors';
import type { LinearHead } from '../tags/head';
import { readWeights, type ReadSpan } from '../tags/readout';
import type { PastBatch, SequenceKeyValues, TrainBackend } from '../train/backend';
import { addGradients, buildLossGraph, type LossKind } from '../train/lossGraphs';
import { pastKeyName, pastValueName } from '../llama/decoderGraph';
import { decoderSession, modelSession, type KvCache } from './decoderSession';
import { defaultProviderPreference, type Provider, type ProviderPreference } from './ortSession';

export interface TrainBatch {
  readonly batchSize: number;
  readonly seqLength: number;
  readonly hiddenSize: number;
  readonly inputsEmbeds: Float32Array;
  readonly attentionMask: BigInt64Array;
}

export interface NextTokenStep {
  /** Mean next-token NLL over the positions that have a target. */
  readonly loss: number;
  readonly dInputsEmbeds: Float32Array;
}

export interface HeadStep {
  /** MSE (regression, standardized units) or mean cross-entropy (classification, label words). */
  readonly loss: number;
  /** [batch, outputs]: the head's outputs (regression values or class logits). */
  readonly prediction: Float32Array;
  readonly dInputsEmbeds: Float32Array;
  readonly dHeadWeight: Float32Array;
  readonly dHeadBias: Float32Array;
}

export type LabelWordsStep = Omit<HeadStep, 'dHeadWeight' | 'dHeadBias'>;

export class TrainSession implements TrainBackend {
  private readonly compiled = new Map<string, Promise<ort.InferenceSession>>();

  private constructor(
    readonly model: LoadedModel,
    private readonly preference: ProviderPreference,
    /** The execution provider the decoder runs on ('cuda' or 'cpu'). */
    readonly provider: Provider,
    /** Why CUDA is not used, when it was asked for. */
    readonly fallbackReason: string | undefined,
  ) {}

  /** Compiles the forward decoder (which also settles the provider); loss graphs compile on first use. */
  static async create(model: LoadedModel, options: { provider?: ProviderPreference } = {}): Promise<TrainSession> {
    const preference = options.provider ?? defaultProviderPreference();
    const decoder = await decoderSession(model, { logits: 'none', kvCache: false, provider: preference });
    return new TrainSession(model, preference, decoder.provider, decoder.fallbackReason);
  }

  /** Hidden states after the final norm, [batch, seq, hidden] (the positions after `past`). */
  async hidden(batch: TrainBatch, past?: PastBatch): Promise<Float32Array> {
    this.checkBatch(batch);
    const shape = [batch.batchSize, batch.seqLength] as const;
    if (!past) {
      const decoder = await decoderSession(this.model, { logits: 'none', kvCache: false, provider: this.preference });
      return (await decoder.forward(batch.inputsEmbeds, shape, batch.attentionMask)).hidden.data;
    }
    const decoder = await decoderSession(this.model, { logits: 'none', kvCache: true, provider: this.preference });
    const cache: KvCache = { length: past.length, keys: this.pastTensors(batch, past, 'keys'), values: this.pastTensors(batch, past, 'values') };
    return (await decoder.step(batch.inputsEmbeds, shape, this.fullMask(batch, past), cache)).hidden.data;
  }

  /**
   * Each row's keys and values over its tokens, per layer [kvHeads, length, headDim]; the batch
   * must be right-padded. With a `past`, the rows continue it and each result holds the row's
   * cached positions followed by its new ones.
   */
  async keyValues(batch: TrainBatch, past?: PastBatch): Promise<SequenceKeyValues[]> {
    this.checkBatch(batch);
    const lengths = Array.from({ length: batch.batchSize }, (_, b) => {
      const row = batch.attentionMask.subarray(b * batch.seqLength, (b + 1) * batch.seqLength);
      const firstPad = row.indexOf(0n);
      const length = firstPad === -1 ? batch.seqLength : firstPad;
      if (row.subarray(length).some((m) => m !== 0n)) throw new ShapeMismatchError(`row ${b} of the attention mask is not right-padded`);
      return length;
    });
    const pastLength = past?.length ?? 0;
    // left padding: a row's cached positions are the last ones of the past
    const cachedOf = (b: number) => (past ? past.mask.subarray(b * pastLength, (b + 1) * pastLength).reduce((n, m) => n + Number(m), 0) : 0);
    const decoder = await decoderSession(this.model, { logits: 'none', kvCache: true, provider: this.preference });
    const cache: KvCache | undefined = past && { length: pastLength, keys: this.pastTensors(batch, past, 'keys'), values: this.pastTensors(batch, past, 'values') };
    const mask = past ? this.fullMask(batch, past) : batch.attentionMask;
    const { present } = await decoder.step(batch.inputsEmbeds, [batch.batchSize, batch.seqLength], mask, cache);
    const { numKvHeads, headDim } = this.model.config;
    const total = pastLength + batch.seqLength;
    const rowOf = (t: ort.Tensor, b: number, from: number, length: number) => {
      const data = t.data as Float32Array;
      const out = new Float32Array(numKvHeads * length * headDim);
      for (let k = 0; k < numKvHeads; k++) {
        const start = ((b * numKvHeads + k) * total + from) * headDim;
        out.set(data.subarray(start, start + length * headDim), k * length * headDim);
      }
      return out;
    };
    return lengths.map((length, b) => {
      const cached = cachedOf(b);
      const from = pastLength - cached;
      return {
        length: cached + length,
        kvHeads: numKvHeads,
        keys: present.keys.map((t) => rowOf(t, b, from, cached + length)),
        values: present.values.map((t) => rowOf(t, b, from, cached + length)),
      };
    });
  }

  /**
   * Next-token NLL and its gradient: `targets` [batch, seq] holds the token id each position
   * should predict (the id at position s + 1), or -1 where no loss is taken.
   */
  async nextTokenStep(batch: TrainBatch, targets: Int32Array): Promise<NextTokenStep> {
    const out = await this.run('next_token', true, { ...this.batchFeeds(batch), ...this.nextTokenFeeds(batch, targets) });
    return { loss: scalar(out.loss), dInputsEmbeds: floats(out.grad_inputs_embeds) };
  }

  /** The same loss without gradients (held-out evaluation); `count` = positions with a target. */
  async nextTokenLoss(batch: TrainBatch, targets: Int32Array): Promise<{ loss: number; count: number }> {
    const feeds = this.nextTokenFeeds(batch, targets);
    const out = await this.run('next_token', false, { ...this.batchFeeds(batch), ...feeds });
    return { loss: scalar(out.loss), count: (feeds.target_weights.data as Float32Array).reduce((a, b) => a + b, 0) };
  }

  /** MSE between the head read over `readSpans[b]` and standardized `targets` [batch, outputs]. */
  async regressionStep(batch: TrainBatch, readSpans: readonly ReadSpan[], targets: Float32Array, head: LinearHead, past?: PastBatch): Promise<HeadStep> {
    if (targets.length !== batch.batchSize * head.outputs) throw new ShapeMismatchError(`targets has ${targets.length} values, [${batch.batchSize}, ${head.outputs}] needs ${batch.batchSize * head.outputs}`);
    const out = await this.run('regression', true, {
      ...this.batchFeeds(batch, past),
      ...this.headFeeds(batch, readSpans, head),
      targets: new ort.Tensor('float32', targets, [batch.batchSize, head.outputs]),
    }, past !== undefined);
    return headStep(out);
  }

  /** Cross-entropy of the head's class logits against `labels` [batch] (class indices). */
  async classificationStep(batch: TrainBatch, readSpans: readonly ReadSpan[], labels: Int32Array, head: LinearHead): Promise<HeadStep> {
    const out = await this.run('classification', true, {
      ...this.batchFeeds(batch),
      ...this.headFeeds(batch, readSpans, head),
      labels: labelTensor(labels, batch.batchSize, head.outputs),
    });
    return headStep(out);
  }

  /**
   * Weighted binary cross-entropy of the head's logits (one binary task per output) against
   * `labels` [batch, outputs] (0 or 1) with `weights` [batch, outputs] (0 where a label is missing).
   */
  async logisticStep(batch: TrainBatch, readSpans: readonly ReadSpan[], labels: Float32Array, weights: Float32Array, head: LinearHead, past?: PastBatch): Promise<HeadStep> {
    const n = batch.batchSize * head.outputs;
    if (labels.length !== n || weights.length !== n) throw new ShapeMismatchError(`labels and weights have ${labels.length} and ${weights.length} values, [${batch.batchSize}, ${head.outputs}] needs ${n}`);
    if (!weights.some((w) => w > 0)) throw new UsageError('no label in the batch has a positive weight');
    const out = await this.run('logistic', true, {
      ...this.batchFeeds(batch, past),
      ...this.headFeeds(batch, readSpans, head),
      labels: new ort.Tensor('float32', labels, [batch.batchSize, head.outputs]),
      label_weights: new ort.Tensor('float32', weights, [batch.batchSize, head.outputs]),
    }, past !== undefined);
    return headStep(out);
  }

  /**
   * Cross-entropy over the LM head's logits of `labelTokenIds` only (one token per class),
   * against `labels` [batch] (indices into `labelTokenIds`).
   */
  async labelWordsStep(batch: TrainBatch, readSpans: readonly ReadSpan[], labels: Int32Array, labelTokenIds: Int32Array): Promise<LabelWordsStep> {
    const vocab = this.model.config.vocabSize;
    for (const id of labelTokenIds) if (!(id >= 0 && id < vocab)) throw new UsageError(`label token id ${id} is outside the vocabulary (0..${vocab - 1})`, this.model.source.path);
    const out = await this.run('label_words', true, {
      ...this.batchFeeds(batch),
      read_weights: this.readWeights(batch, readSpans),
      labels: labelTensor(labels, batch.batchSize, labelTokenIds.length),
      label_token_ids: int64Tensor(labelTokenIds, [labelTokenIds.length]),
    });
    return { loss: scalar(out.loss), prediction: floats(out.prediction), dInputsEmbeds: floats(out.grad_inputs_embeds) };
  }

  async release(): Promise<void> {
    for (const session of this.compiled.values()) await (await session).release();
    this.compiled.clear();
  }

  private async run(kind: LossKind, gradients: boolean, feeds: Record<string, ort.Tensor>, withPast = false): Promise<ort.InferenceSession.ReturnType> {
    const key = `${kind}/${gradients}/${withPast}`;
    let session = this.compiled.get(key);
    if (!session) {
      session = this.compile(kind, gradients, withPast);
      this.compiled.set(key, session);
      session.catch(() => this.compiled.delete(key));
    }
    return (await session).run(feeds);
  }

  private async compile(kind: LossKind, gradients: boolean, withPast: boolean): Promise<ort.InferenceSession> {
    const build = () => {
      const lossGraph = buildLossGraph(this.model.config, this.model.weights, kind, { past: withPast });
      return (gradients ? addGradients(lossGraph) : lossGraph).graph;
    };
    return (await modelSession(this.model, `loss kind=${kind} gradients=${gradients} past=${withPast}`, build, this.preference)).session;
  }

  private checkBatch(batch: TrainBatch): void {
    const { batchSize: b, seqLength: s, hiddenSize: h } = batch;
    if (h !== this.model.config.hiddenSize) throw new ShapeMismatchError(`batch has hidden size ${h}, the model ${this.model.config.hiddenSize}`, this.model.source.path);
    if (batch.inputsEmbeds.length !== b * s * h) throw new ShapeMismatchError(`inputs_embeds has ${batch.inputsEmbeds.length} values, [${b}, ${s}, ${h}] needs ${b * s * h}`);
    if (batch.attentionMask.length !== b * s) throw new ShapeMismatchError(`attention_mask has ${batch.attentionMask.length} values, [${b}, ${s}] needs ${b * s}`);
  }

  private batchFeeds(batch: TrainBatch, past?: PastBatch): Record<string, ort.Tensor> {
    this.checkBatch(batch);
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: new ort.Tensor('float32', batch.inputsEmbeds, [batch.batchSize, batch.seqLength, batch.hiddenSize]),
      attention_mask: new ort.Tensor('int64', past ? this.fullMask(batch, past) : batch.attentionMask, [batch.batchSize, (past?.length ?? 0) + batch.seqLength]),
    };
    if (past) {
      const keys = this.pastTensors(batch, past, 'keys');
      const values = this.pastTensors(batch, past, 'values');
      keys.forEach((t, i) => (feeds[pastKeyName(i)] = t));
      values.forEach((t, i) => (feeds[pastValueName(i)] = t));
    }
    return feeds;
  }

  /** [batch, past + seq]: the past's mask, then the batch's. */
  private fullMask(batch: TrainBatch, past: PastBatch): BigInt64Array {
    if (past.mask.length !== batch.batchSize * past.length) throw new ShapeMismatchError(`past mask has ${past.mask.length} values, [${batch.batchSize}, ${past.length}] needs ${batch.batchSize * past.length}`);
    const total = past.length + batch.seqLength;
    const mask = new BigInt64Array(batch.batchSize * total);
    for (let b = 0; b < batch.batchSize; b++) {
      mask.set(past.mask.subarray(b * past.length, (b + 1) * past.length), b * total);
      mask.set(batch.attentionMask.subarray(b * batch.seqLength, (b + 1) * batch.seqLength), b * total + past.length);
    }
    return mask;
  }

  private pastTensors(batch: TrainBatch, past: PastBatch, which: 'keys' | 'values'): ort.Tensor[] {
    const { numLayers, numKvHeads, headDim } = this.model.config;
    const dims = [batch.batchSize, numKvHeads, past.length, headDim];
    const size = dims.reduce((a, b) => a * b, 1);
    if (past[which].length !== numLayers || past[which].some((t) => t.length !== size)) {
      throw new ShapeMismatchError(`past ${which} need ${numLayers} layers of [${dims.join(', ')}]`, this.model.source.path);
    }
    return past[which].map((t) => new ort.Tensor('float32', t, dims));
  }

  private nextTokenFeeds(batch: TrainBatch, targets: Int32Array): Record<string, ort.Tensor> {
    const n = batch.batchSize * batch.seqLength;
    if (targets.length !== n) throw new ShapeMismatchError(`next-token targets have ${targets.length} values, [${batch.batchSize}, ${batch.seqLength}] needs ${n}`);
    const vocab = this.model.config.vocabSize;
    const ids = new BigInt64Array(n);
    const weights = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const t = targets[i];
      if (t === -1) continue;
      if (!(t >= 0 && t < vocab)) throw new UsageError(`next-token target ${t} at position ${i} is outside the vocabulary (0..${vocab - 1})`, this.model.source.path);
      ids[i] = BigInt(t);
      weights[i] = 1;
    }
    if (!weights.includes(1)) throw new UsageError('no position in the batch has a next-token target');
    return { target_ids: new ort.Tensor('int64', ids, [batch.batchSize, batch.seqLength]), target_weights: new ort.Tensor('float32', weights, [batch.batchSize, batch.seqLength]) };
  }

  private headFeeds(batch: TrainBatch, readSpans: readonly ReadSpan[], head: LinearHead): Record<string, ort.Tensor> {
    const h = this.model.config.hiddenSize;
    if (head.hiddenSize !== h || head.weight.length !== head.outputs * h || head.bias.length !== head.outputs) {
      throw new ShapeMismatchError(`head has ${head.weight.length} weights and ${head.bias.length} biases for [${head.outputs}, ${head.hiddenSize}]; the model's hidden size is ${h}`);
    }
    return {
      read_weights: this.readWeights(batch, readSpans),
      head_weight: new ort.Tensor('float32', head.weight, [head.outputs, h]),
      head_bias: new ort.Tensor('float32', head.bias, [head.outputs]),
    };
  }

  private readWeights(batch: TrainBatch, readSpans: readonly ReadSpan[]): ort.Tensor {
    return new ort.Tensor('float32', readWeights(readSpans, batch.batchSize, batch.seqLength), [batch.batchSize, batch.seqLength]);
  }
}

const sessions = new WeakMap<LoadedModel, Map<string, Promise<TrainSession>>>();

/** The cached training session for this model and provider preference. */
export function trainSession(model: LoadedModel, options: { provider?: ProviderPreference } = {}): Promise<TrainSession> {
  let byProvider = sessions.get(model);
  if (!byProvider) sessions.set(model, (byProvider = new Map()));
  const key = options.provider ?? defaultProviderPreference();
  let session = byProvider.get(key);
  if (!session) {
    session = TrainSession.create(model, { provider: key });
    byProvider.set(key, session);
    session.catch(() => byProvider.delete(key));
  }
  return session;
}

function headStep(out: ort.InferenceSession.ReturnType): HeadStep {
  return {
    loss: scalar(out.loss),
    prediction: floats(out.prediction),
    dInputsEmbeds: floats(out.grad_inputs_embeds),
    dHeadWeight: floats(out.grad_head_weight),
    dHeadBias: floats(out.grad_head_bias),
  };
}

function labelTensor(labels: Int32Array, batchSize: number, classes: number): ort.Tensor {
  if (labels.length !== batchSize) throw new ShapeMismatchError(`${labels.length} labels for a batch of ${batchSize}`);
  for (const l of labels) if (!(l >= 0 && l < classes)) throw new UsageError(`label ${l} is not a class index (0..${classes - 1})`);
  return int64Tensor(labels, [batchSize]);
}

function int64Tensor(values: Int32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

function scalar(t: ort.Tensor): number {
  return Number((t.data as Float32Array)[0]);
}

function floats(t: ort.Tensor): Float32Array {
  return t.data as Float32Array;
}
