// The speed of one full training step — forward, backward to the input embeddings and the
// head, summing the tag's gradient, the AdamW update — on a [batch, seq] input holding one
// p-vector tag, for `tagllm bench train`.
import type { LoadedModel } from '../model/description';
import { embedTokens } from '../llama/embedTokens';
import { TrainSession } from '../session/trainSession';
import { EMBEDDING_WEIGHT } from '../tags/fingerprint';
import { initLinearHead } from '../tags/head';
import { initTagValue } from '../tags/init';
import type { TagName } from '../tags/name';
import { AdamW } from './adamw';
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
}

export async function benchTrainStep(model: LoadedModel, batch: number, seq: number, minSeconds: number, p = 10): Promise<TrainStepTiming> {
  if (seq <= p) throw new RangeError(`--seq ${seq} must exceed the tag's ${p} vectors`);
  const session = await TrainSession.create(model);
  const h = model.config.hiddenSize;
  const embedding = model.weights.get(EMBEDDING_WEIGHT)!;
  const tag = '<Bench>' as TagName;
  const value = initTagValue(embedding, p);
  const head = initLinearHead(embedding, 1);
  const ids = Array.from({ length: batch * (seq - p) }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
  const tokens = embedTokens(model, ids);
  const inputsEmbeds = new Float32Array(batch * seq * h);
  const rows = Array.from({ length: batch }, () => ({ seqLength: seq, hiddenSize: h, inputsEmbeds, tokenIds: new Int32Array(seq), tagSpans: [{ tag, start: seq - p, length: p }], readSpan: { start: seq - p, length: p } }));
  const expanded = { batchSize: batch, seqLength: seq, hiddenSize: h, inputsEmbeds, attentionMask: new BigInt64Array(batch * seq).fill(1n), tokenIds: new Int32Array(batch * seq), rows };
  const params = new Map([['tag', value.data], ['w', head.weight], ['b', head.bias]]);
  const optimizer = new AdamW();
  const targets = new Float32Array(batch);
  const step = async () => {
    for (let b = 0; b < batch; b++) {
      inputsEmbeds.set(tokens.subarray(b * (seq - p) * h, (b + 1) * (seq - p) * h), b * seq * h);
      inputsEmbeds.set(value.data, (b * seq + seq - p) * h);
    }
    const r = await session.regressionStep(expanded, rows.map((r) => r.readSpan), targets, head);
    const g = sumTagGradients(expanded, r.dInputsEmbeds, new Set([tag])).get(tag)!;
    optimizer.update(params, new Map([['tag', g], ['w', r.dHeadWeight], ['b', r.dHeadBias]]), 1e-3);
  };
  await step(); // compiles and plans
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < minSeconds * 1000 && times.length < 100)) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
  }
  await session.release();
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    provider: session.provider, batch, seq, p, ms_per_step: round(ms), tokens_per_s: round((batch * seq * 1000) / ms),
    examples_per_s: round((batch * 1000) / ms), steps_timed: times.length,
  };
}
