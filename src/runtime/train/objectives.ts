// The training objectives over expanded, tagged examples: regression or (multi-label) binary
// classification through a linear head read at the function tag (stages 2–3), and next-token
// likelihood after a domain tag (stage 1). Each turns the backend's d loss / d inputs_embeds into per-tag gradients.
import type { PastBatch, TrainBackend } from './backend';
import { splitBeforeTrainable, type PrefixCache } from './prefixCache';
import { sumTagGradients } from './tagGradients';
import type { TrainObjective } from './trainer';
import { batchInputs, expandInput, expandPlainText, type ExpandedBatch, type ExpandedInput, type ExpansionContext } from '../tags/expand';
import { applyHead, type LinearHead } from '../tags/head';
import { readout } from '../tags/readout';
import type { TagName, TagValue } from '../tags/name';
import type { SlotValues, Template } from '../tags/template';

export const tagParameter = (tag: TagName) => `tag.${tag}`;
export const headWeightParameter = (tag: TagName) => `head.${tag}.weight`;
export const headBiasParameter = (tag: TagName) => `head.${tag}.bias`;

/**
 * Examples expanded once (tokenization is the slow part) and refreshed with the tags'
 * current vectors whenever they are batched.
 */
export class ExpandedExamples {
  private readonly cache: (ExpandedInput | undefined)[];

  constructor(
    readonly length: number,
    private readonly expand: (i: number) => ExpandedInput,
    private readonly tags: ReadonlyMap<TagName, TagValue>,
  ) {
    this.cache = new Array(length);
  }

  row(i: number): ExpandedInput {
    let row = this.cache[i];
    if (!row) this.cache[i] = row = this.expand(i);
    const h = row.hiddenSize;
    for (const span of row.tagSpans) row.inputsEmbeds.set(this.tags.get(span.tag)!.data, span.start * h);
    return row;
  }

  batch(indices: readonly number[]): ExpandedBatch {
    return batchInputs(indices.map((i) => this.row(i)));
  }
}

/** Inputs through a template, with the tags' vectors where the template has tags. */
export function templateExamples(
  template: Template,
  context: ExpansionContext,
  inputs: readonly SlotValues[],
  tags: ReadonlyMap<TagName, TagValue>,
  readTag?: TagName,
): ExpandedExamples {
  return new ExpandedExamples(inputs.length, (i) => expandInput(template, inputs[i], context, readTag), tags);
}

/** Plain text with no tags (the untagged baselines): BOS when the model wants it, then the tokens. */
export function plainTextExamples(texts: readonly string[], context: ExpansionContext): ExpandedExamples {
  return new ExpandedExamples(texts.length, (i) => expandPlainText(texts[i], context), new Map());
}

/** Splits indices into batches of similar length (less padding), keeping each batch's order. */
export function lengthSortedBatches(examples: ExpandedExamples, indices: readonly number[], batchSize: number): number[][] {
  const sorted = [...indices].sort((a, b) => examples.row(a).seqLength - examples.row(b).seqLength);
  const out: number[][] = [];
  for (let i = 0; i < sorted.length; i += batchSize) out.push(sorted.slice(i, i + batchSize));
  return out;
}

export interface RegressionSetup {
  readonly backend: TrainBackend;
  readonly examples: ExpandedExamples;
  /** Standardized target of every example (indexed like `examples`). */
  readonly targets: Float64Array;
  readonly train: readonly number[];
  readonly valid: readonly number[];
  readonly functionTag: TagName;
  readonly head: LinearHead;
  readonly trainableTags: ReadonlySet<TagName>;
  readonly trainHead: boolean;
  readonly evalBatch: number;
  /** Cached keys and values of shared frozen prefixes, when the run has them. */
  readonly prefixes?: PrefixCache;
  /** Whether steps run the positions before the first trainable tag forward only (backwardCutPays). */
  readonly cutBeforeTrainable: boolean;
}

/** Rows `indices` as one batch: after their cached prefixes when there is a cache. */
function batchOf(examples: ExpandedExamples, indices: readonly number[], prefixes?: PrefixCache): Promise<{ batch: ExpandedBatch; past?: PastBatch }> {
  return prefixes ? prefixes.batch(indices) : Promise.resolve({ batch: examples.batch(indices) });
}

type HeadSetup = Omit<RegressionSetup, 'targets'>;

/** A head step's batch of rows `indices`: cut before the first trainable tag when the setup says so. */
async function headStepBatch(s: HeadSetup, indices: readonly number[]): Promise<{ batch: ExpandedBatch; past?: PastBatch }> {
  const whole = await batchOf(s.examples, indices, s.prefixes);
  return s.cutBeforeTrainable ? splitBeforeTrainable(s.backend, whole, s.trainableTags) : whole;
}

/** A head step's gradients by parameter: each trainable tag's (summed over its positions), and the head's when it trains. */
function headStepGradients(s: HeadSetup, batch: ExpandedBatch, step: { dInputsEmbeds: Float32Array; dHeadWeight: Float32Array; dHeadBias: Float32Array }): Map<string, Float32Array> {
  const gradients = new Map<string, Float32Array>();
  for (const [tag, g] of sumTagGradients(batch, step.dInputsEmbeds, s.trainableTags)) gradients.set(tagParameter(tag), g);
  if (s.trainHead) {
    gradients.set(headWeightParameter(s.functionTag), step.dHeadWeight);
    gradients.set(headBiasParameter(s.functionTag), step.dHeadBias);
  }
  return gradients;
}

/** Each example's readout (src/runtime/tags/readout.ts), in the order of `indices`. */
export async function readHidden(backend: TrainBackend, examples: ExpandedExamples, indices: readonly number[], batchSize: number, prefixes?: PrefixCache): Promise<Float32Array[]> {
  const out: Float32Array[] = new Array(indices.length);
  const position = new Map(indices.map((ex, k) => [ex, k]));
  for (const rows of lengthSortedBatches(examples, indices, batchSize)) {
    const { batch, past } = await batchOf(examples, rows, prefixes);
    const hidden = await backend.hidden(batch, past);
    rows.forEach((ex, r) => (out[position.get(ex)!] = readout(hidden, batch.seqLength, batch.hiddenSize, r, batch.rows[r].readSpan)));
  }
  return out;
}

/** The head's standardized predictions for `indices`, in that order. */
export async function predictStandardized(
  backend: TrainBackend, examples: ExpandedExamples, indices: readonly number[], head: LinearHead, batchSize: number, prefixes?: PrefixCache,
): Promise<Float64Array> {
  const readouts = await readHidden(backend, examples, indices, batchSize, prefixes);
  return Float64Array.from(readouts, (h) => applyHead(head, h)[0]);
}

export function regressionObjective(s: RegressionSetup): TrainObjective {
  return {
    nTrain: s.train.length,
    async lossAndGradients(picks) {
      const indices = picks.map((k) => s.train[k]);
      const { batch, past } = await headStepBatch(s, indices);
      const targets = Float32Array.from(indices, (i) => s.targets[i]);
      const res = await s.backend.regressionStep(batch, batch.rows.map((r) => r.readSpan), targets, s.head, past);
      return { loss: res.loss, gradients: headStepGradients(s, batch, res) };
    },
    async validationLoss() {
      if (s.valid.length === 0) return undefined;
      const pred = await predictStandardized(s.backend, s.examples, s.valid, s.head, s.evalBatch, s.prefixes);
      let e = 0;
      s.valid.forEach((i, k) => (e += (pred[k] - s.targets[i]) ** 2));
      return e / s.valid.length;
    },
  };
}

export interface LogisticSetup extends HeadSetup {
  /** [examples, outputs]: 0/1 labels, and their class weights (0 where a label is missing). */
  readonly labels: Float32Array;
  readonly weights: Float32Array;
}

/** The head's outputs (logits for a logistic head) for `indices`, in that order. */
export async function headOutputs(
  backend: TrainBackend, examples: ExpandedExamples, indices: readonly number[], head: LinearHead, batchSize: number, prefixes?: PrefixCache,
): Promise<Float32Array[]> {
  return (await readHidden(backend, examples, indices, batchSize, prefixes)).map((h) => applyHead(head, h));
}

export function logisticObjective(s: LogisticSetup): TrainObjective {
  const k = s.head.outputs;
  const rowsOf = (data: Float32Array, indices: readonly number[]) => {
    const out = new Float32Array(indices.length * k);
    indices.forEach((i, r) => out.set(data.subarray(i * k, (i + 1) * k), r * k));
    return out;
  };
  return {
    nTrain: s.train.length,
    async lossAndGradients(picks) {
      const indices = picks.map((p) => s.train[p]);
      const weights = rowsOf(s.weights, indices);
      // a batch whose labels are all missing carries no signal (possible with sparse multi-label data)
      if (!weights.some((w) => w > 0)) return { loss: 0, gradients: new Map() };
      const { batch, past } = await headStepBatch(s, indices);
      const res = await s.backend.logisticStep(batch, batch.rows.map((r) => r.readSpan), rowsOf(s.labels, indices), weights, s.head, past);
      return { loss: res.loss, gradients: headStepGradients(s, batch, res) };
    },
    async validationLoss() {
      if (s.valid.length === 0) return undefined;
      const logits = await headOutputs(s.backend, s.examples, s.valid, s.head, s.evalBatch, s.prefixes);
      let total = 0;
      let weight = 0;
      s.valid.forEach((i, r) => {
        for (let j = 0; j < k; j++) {
          const w = s.weights[i * k + j];
          if (w === 0) continue;
          const z = logits[r][j];
          // -log σ(±z), computed without overflow
          const margin = s.labels[i * k + j] === 1 ? z : -z;
          total += w * (Math.max(-margin, 0) + Math.log1p(Math.exp(-Math.abs(margin))));
          weight += w;
        }
      });
      return weight > 0 ? total / weight : undefined;
    },
  };
}

/**
 * Next-token targets: at position s the id at s+1, for every text token after the row's
 * last tag vector (every token after the first when the row has no tag), -1 elsewhere.
 */
export function nextTokenTargets(batch: ExpandedBatch): Int32Array {
  const { batchSize, seqLength } = batch;
  const targets = new Int32Array(batchSize * seqLength).fill(-1);
  batch.rows.forEach((row, b) => {
    const lastTag = row.tagSpans.length > 0 ? Math.max(...row.tagSpans.map((t) => t.start + t.length - 1)) : 0;
    for (let s = lastTag; s + 1 < row.seqLength; s++) {
      const next = row.tokenIds[s + 1];
      if (next >= 0) targets[b * seqLength + s] = next;
    }
  });
  return targets;
}

export interface NextTokenSetup {
  readonly backend: TrainBackend;
  readonly examples: ExpandedExamples;
  readonly train: readonly number[];
  readonly valid: readonly number[];
  readonly trainableTags: ReadonlySet<TagName>;
  readonly evalBatch: number;
}

/** Mean next-token NLL over every target token of `indices`. */
export async function nextTokenNll(backend: TrainBackend, examples: ExpandedExamples, indices: readonly number[], batchSize: number): Promise<number> {
  let total = 0;
  let count = 0;
  for (const batch of lengthSortedBatches(examples, indices, batchSize)) {
    const b = examples.batch(batch);
    const r = await backend.nextTokenLoss(b, nextTokenTargets(b));
    total += r.loss * r.count;
    count += r.count;
  }
  return count > 0 ? total / count : NaN;
}

export function nextTokenObjective(s: NextTokenSetup): TrainObjective {
  return {
    nTrain: s.train.length,
    async lossAndGradients(picks) {
      const batch = s.examples.batch(picks.map((k) => s.train[k]));
      const res = await s.backend.nextTokenStep(batch, nextTokenTargets(batch));
      const gradients = new Map<string, Float32Array>();
      for (const [tag, g] of sumTagGradients(batch, res.dInputsEmbeds, s.trainableTags)) gradients.set(tagParameter(tag), g);
      return { loss: res.loss, gradients };
    },
    async validationLoss() {
      return s.valid.length === 0 ? undefined : nextTokenNll(s.backend, s.examples, s.valid, s.evalBatch);
    },
  };
}
