// One start of a (large, quantized) GGUF model, as a scientist's first prediction and first
// tag-training step meet it: load, compile the decoder, one forward (16 tokens, last logits),
// then one regression tag step (a 10-vector tag and a head, 32 positions, exact gradients),
// with the peak RSS of the process. Prints one JSON object. Not part of `npm test`; see
// bench/RESULTS.md ("Quantized weights end to end") for the commands and figures.
// --train-only skips the forward and runs the step on the regression loss graph's session
// alone, without the decoder session a TrainSession also holds (the least memory a step needs).
//
//   npx tsx bench/quantized-scale-run.ts MODEL.gguf [--no-train | --train-only]
import { statSync } from 'node:fs';
import { loadGgufModel } from '../src/runtime/model/gguf/toModel';
import { TrainSession } from '../src/runtime/session/trainSession';
import { embedTokens } from '../src/runtime/llama/embedTokens';
import { initTagValue } from '../src/runtime/tags/init';
import { initLinearHead } from '../src/runtime/tags/head';
import { EMBEDDING_WEIGHT } from '../src/runtime/tags/fingerprint';
import * as ort from 'onnxruntime-node';
import { DecoderSession, modelSession } from '../src/runtime/session/decoderSession';
import { addGradients, buildLossGraph } from '../src/runtime/train/lossGraphs';
import type { LoadedModel } from '../src/runtime/model/description';

const peakRssGb = () => process.resourceUsage().maxRSS / 2 ** 20;

async function main(): Promise<void> {
  const [path, flag] = process.argv.slice(2);
  if (!path) throw new Error('usage: quantized-scale-run.ts MODEL.gguf [--no-train]');
  const result: Record<string, number | string | boolean> = { model: path, file_gb: statSync(path).size / 2 ** 30 };
  const start = performance.now();
  let t = start;
  let cpu = process.cpuUsage();
  const lap = (name: string) => {
    const now = performance.now();
    result[`${name}_ms`] = Math.round(now - t);
    // CPU time of this process (all its threads): on a shared, loaded machine wall time is mostly waiting.
    const used = process.cpuUsage(cpu);
    result[`${name}_cpu_ms`] = Math.round((used.user + used.system) / 1000);
    cpu = process.cpuUsage();
    result[`${name}_peak_rss_gb`] = Number(peakRssGb().toFixed(2));
    t = now;
  };
  const model = await loadGgufModel(path);
  lap('load');
  if (flag === '--train-only') {
    await lossGraphStep(model, lap, result);
    result.peak_rss_gb = Number(peakRssGb().toFixed(2));
    console.log(JSON.stringify(result));
    return;
  }
  const decoder = await DecoderSession.create(model, { logits: 'last', kvCache: false });
  lap('decoder_session');
  const ids = Array.from({ length: 16 }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
  await decoder.forward(embedTokens(model, ids), [1, ids.length], new BigInt64Array(ids.length).fill(1n));
  lap('first_forward');
  result.first_prediction_ms = Math.round(performance.now() - start);
  await decoder.release();
  if (flag !== '--no-train') {
    const session = await TrainSession.create(model);
    const h = model.config.hiddenSize;
    const embedding = model.weights.get(EMBEDDING_WEIGHT)!;
    const p = 10;
    const seq = 32;
    const inputsEmbeds = new Float32Array(seq * h);
    inputsEmbeds.set(embedTokens(model, ids.concat(ids).slice(0, seq - p)), 0);
    inputsEmbeds.set(initTagValue(embedding, p).data, (seq - p) * h);
    lap('train_setup');
    const batch = { batchSize: 1, seqLength: seq, hiddenSize: h, inputsEmbeds, attentionMask: new BigInt64Array(seq).fill(1n) };
    const step = await session.regressionStep(batch, [{ start: seq - p, length: p }], Float32Array.of(0.5), initLinearHead(embedding, 1));
    lap('first_train_step');
    result.loss = step.loss;
    await session.regressionStep(batch, [{ start: seq - p, length: p }], Float32Array.of(0.5), initLinearHead(embedding, 1));
    lap('second_train_step');
  }
  result.peak_rss_gb = Number(peakRssGb().toFixed(2));
  console.log(JSON.stringify(result));
}

/** Two regression steps on the loss graph's session, fed as TrainSession feeds them. */
async function lossGraphStep(model: LoadedModel, lap: (name: string) => void, result: Record<string, number | string | boolean>): Promise<void> {
  const h = model.config.hiddenSize;
  const seq = 32;
  const p = 10;
  const build = () => addGradients(buildLossGraph(model.config, model.weights, 'regression')).graph;
  const { session } = await modelSession(model, 'loss kind=regression gradients=true past=false', build, 'cpu');
  lap('loss_session');
  const embedding = model.weights.get(EMBEDDING_WEIGHT)!;
  const ids = Array.from({ length: seq - p }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
  const embeds = new Float32Array(seq * h);
  embeds.set(embedTokens(model, ids), 0);
  embeds.set(initTagValue(embedding, p).data, (seq - p) * h);
  const head = initLinearHead(embedding, 1);
  const read = new Float32Array(seq).fill(1 / p, seq - p);
  const feeds = {
    inputs_embeds: new ort.Tensor('float32', embeds, [1, seq, h]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(seq).fill(1n), [1, seq]),
    read_weights: new ort.Tensor('float32', read, [1, seq]),
    head_weight: new ort.Tensor('float32', head.weight, [1, h]),
    head_bias: new ort.Tensor('float32', head.bias, [1]),
    targets: new ort.Tensor('float32', Float32Array.of(0.5), [1, 1]),
  };
  lap('train_setup');
  const out = await session.run(feeds);
  lap('first_train_step');
  result.loss = (out.loss!.data as Float32Array)[0]!;
  await session.run(feeds);
  lap('second_train_step');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
