// The speed of one full training step as the trainer runs it — forward, backward to the input
// embeddings and the head, summing the tag's gradient, the AdamW update — on a [batch, seq]
// input that ends in one p-vector tag, for `tagllm bench train`. Timed in the same process:
// the step differentiated through every position (what autograd does), the step that runs the
// positions before the tag forward only (the trainer's choice where backwardCutPays), and with
// a prefix, the trainer's step when the first positions come from the prefix cache.
import { UsageError } from '../errors';
import type { LoadedModel } from '../model/description';
import { embedTokens } from '../llama/embedTokens';
import { TrainSession } from '../session/trainSession';
import { EMBEDDING_WEIGHT } from '../tags/fingerprint';
import { initLinearHead } from '../tags/head';
import { initTagValue } from '../tags/init';
import type { TagName } from '../tags/name';
import { batchInputs, type ExpandedInput } from '../tags/expand';
import { AdamW } from './adamw';
import type { PastBatch } from './backend';
import { backwardCutPays, leftPaddedPast, splitBeforeTrainable } from './prefixCache';
import { DEFAULT_P } from './stages';
import { sumTagGradients } from './tagGradients';

export interface TrainStepTiming {
  readonly provider: string;
  readonly batch: number;
  readonly seq: number;
  readonly p: number;
  readonly ms_per_step: number;
  readonly tokens_per_s: number;
  readonly examples_per_s: number;
  readonly steps_timed: number;
  /** Whether the trainer runs the positions before the tag forward only at this shape (backwardCutPays). */
  readonly backward_cut: boolean;
  /** The step with backward through every position, and with backward from the tag on. */
  readonly ms_per_step_every_position: number;
  readonly ms_per_step_cut_before_tag: number;
  /** ms_per_step_every_position / ms_per_step_cut_before_tag. */
  readonly backward_cut_speedup: number;
  /** With a prefix: the same step when the first `prefix` positions are cached keys and values (src/runtime/train/prefixCache.ts). */
  readonly prefix?: number;
  readonly ms_per_step_prefix_cached?: number;
  /** ms_per_step / ms_per_step_prefix_cached. */
  readonly prefix_cache_speedup?: number;
}

/** Median milliseconds of `step` over at least 3 runs and about `minSeconds`, after one untimed run (compiling and planning). */
async function medianStepMs(step: () => Promise<void>, minSeconds: number): Promise<{ ms: number; count: number }> {
  await step();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < minSeconds * 1000 && times.length < 100)) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], count: times.length };
}

export async function benchTrainStep(model: LoadedModel, batch: number, seq: number, minSeconds: number, prefix = 0): Promise<TrainStepTiming> {
  const p = DEFAULT_P;
  if (seq <= p) throw new UsageError(`--seq ${seq} must exceed the tag's ${p} vectors`);
  if (!(Number.isInteger(prefix) && prefix >= 0 && prefix < seq - p)) throw new UsageError(`--prefix ${prefix} must leave the tag's ${p} vectors and at least one more position of --seq ${seq}`);
  const session = await TrainSession.create(model);
  const h = model.config.hiddenSize;
  const embedding = model.weights.get(EMBEDDING_WEIGHT)!;
  const tag = '<Bench>' as TagName;
  const value = initTagValue(embedding, p);
  const head = initLinearHead(embedding, 1);
  const ids = Array.from({ length: batch * (seq - p) }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
  const tokens = embedTokens(model, ids);
  const rowsOf = (length: number): ExpandedInput[] =>
    Array.from({ length: batch }, () => ({ seqLength: length, hiddenSize: h, inputsEmbeds: new Float32Array(length * h), tokenIds: new Int32Array(length), tagSpans: [{ tag, start: length - p, length: p }], readSpan: { start: length - p, length: p } }));
  const params = new Map([['tag', value.data], ['w', head.weight], ['b', head.bias]]);
  const optimizer = new AdamW();
  const targets = new Float32Array(batch);
  const trainable = new Set([tag]);
  /** One step over the positions from `from` on, the ones before it given as `past`; `cut`: as the trainer runs it. */
  const stepFrom = (from: number, past: PastBatch | undefined, cut: boolean) => {
    const expanded = batchInputs(rowsOf(seq - from));
    return async () => {
      for (let b = 0; b < batch; b++) {
        const row = b * (seq - from) * h;
        expanded.inputsEmbeds.set(tokens.subarray((b * (seq - p) + from) * h, (b + 1) * (seq - p) * h), row);
        expanded.inputsEmbeds.set(value.data, row + (seq - from - p) * h);
      }
      const step = cut ? await splitBeforeTrainable(session, { batch: expanded, past }, trainable) : { batch: expanded, past };
      const r = await session.regressionStep(step.batch, step.batch.rows.map((r) => r.readSpan), targets, head, step.past);
      const g = sumTagGradients(step.batch, r.dInputsEmbeds, trainable).get(tag)!;
      optimizer.update(params, new Map([['tag', g], ['w', r.dHeadWeight], ['b', r.dHeadBias]]), 1e-3);
    };
  };
  const everyPosition = await medianStepMs(stepFrom(0, undefined, false), minSeconds);
  const cutBeforeTag = await medianStepMs(stepFrom(0, undefined, true), minSeconds);
  const backwardCut = backwardCutPays(batch, seq - p);
  const trainer = backwardCut ? cutBeforeTag : everyPosition;
  let cached: { ms: number } | undefined;
  if (prefix > 0) {
    const prefixes = batchInputs(rowsOf(prefix).map((r, b) => ({ ...r, inputsEmbeds: tokens.slice(b * (seq - p) * h, (b * (seq - p) + prefix) * h), tagSpans: [] })));
    cached = await medianStepMs(stepFrom(prefix, leftPaddedPast(await session.keyValues(prefixes)), backwardCutPays(batch, seq - p - prefix)), minSeconds);
  }
  await session.release();
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    provider: session.provider, batch, seq, p, ms_per_step: round(trainer.ms), tokens_per_s: round((batch * seq * 1000) / trainer.ms),
    examples_per_s: round((batch * 1000) / trainer.ms), steps_timed: trainer.count,
    backward_cut: backwardCut, ms_per_step_every_position: round(everyPosition.ms), ms_per_step_cut_before_tag: round(cutBeforeTag.ms),
    backward_cut_speedup: round(everyPosition.ms / cutBeforeTag.ms),
    ...(cached && { prefix, ms_per_step_prefix_cached: round(cached.ms), prefix_cache_speedup: round(trainer.ms / cached.ms) }),
  };
}
