// The WebGPU provider against the CPU on the same graphs: logits, greedy generation with the
// key/value cache kept in GPU buffers, and the training graphs' losses and tag gradients.
// They run wherever onnxruntime finds a WebGPU adapter: a real GPU on a lent machine, or Mesa's
// software Vulkan (llvmpipe) that scripts/setup-vulkan.sh installs for CI. Without an adapter
// each test is skipped with the reason onnxruntime gave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import { DecoderSession } from '../../src/runtime/session/decoderSession';
import { TrainSession, type TrainBatch } from '../../src/runtime/session/trainSession';
import { createOrtSession, gpuDeviceVisible } from '../../src/runtime/session/ortSession';
import { serializeModel } from '../../src/runtime/graph/serialize';
import { Graph } from '../../src/runtime/graph/graph';
import { generateGreedy } from '../../src/runtime/generate';
import type { LoadedModel } from '../../src/runtime/model/description';
import type { LinearHead } from '../../src/runtime/tags/head';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pythonExecutable } from '../helpers/python';
import { relativeMaxError } from '../helpers/compare';

/** Why WebGPU cannot run here, or undefined when it can. */
async function webgpuMissing(): Promise<string | undefined> {
  const g = new Graph();
  g.output(g.neg(g.input('x', 'float32', [2])), 'y');
  const s = await createOrtSession(serializeModel(g), 'webgpu');
  return s.provider === 'webgpu' ? undefined : (s.fallbackReason ?? 'no WebGPU provider');
}
const missing = webgpuMissing().then((reason) => {
  console.log(`  WebGPU: ${reason ?? `adapter found (${gpuDeviceVisible() ? 'a GPU device is visible' : 'no GPU device is visible: a software adapter'})`}`);
  return reason;
});

let modelPromise: Promise<LoadedModel> | undefined;
const stories = () => (modelPromise ??= loadGgufModel(dataPath('models', 'stories260K.gguf')));

const PROMPT = [1, 403, 407, 261, 378, 64, 385, 411, 261, 266, 270, 348];

test('stories260K logits on WebGPU match the CPU', async (t) => {
  const reason = await missing;
  if (reason) return t.skip(`WebGPU unavailable: ${reason}`);
  const model = await stories();
  const embeds = embedTokens(model, PROMPT);
  const mask = new BigInt64Array(PROMPT.length).fill(1n);
  const run = async (provider: 'cpu' | 'webgpu') => {
    const s = await DecoderSession.create(model, { logits: 'all', kvCache: false, provider });
    assert.equal(s.provider, provider);
    const out = await s.forward(embeds, [1, PROMPT.length], mask);
    await s.release();
    return out;
  };
  const cpu = await run('cpu');
  const gpu = await run('webgpu');
  const logitsError = relativeMaxError(gpu.logits!.data, cpu.logits!.data);
  const hiddenError = relativeMaxError(gpu.hidden.data, cpu.hidden.data);
  console.log(`  logits relative max error ${logitsError.toExponential(2)}, hidden ${hiddenError.toExponential(2)}`);
  assert.ok(logitsError < 1e-4 && hiddenError < 1e-4);
});

test('greedy generation on WebGPU, with the cache kept in GPU buffers, gives the CPU tokens', async (t) => {
  const reason = await missing;
  if (reason) return t.skip(`WebGPU unavailable: ${reason}`);
  const model = await stories();
  const cpu = await generateGreedy(model, PROMPT, { maxNewTokens: 24, provider: 'cpu', eos: null });
  const gpu = await generateGreedy(model, PROMPT, { maxNewTokens: 24, provider: 'webgpu', eos: null });
  assert.equal(gpu.provider, 'webgpu');
  assert.deepEqual(gpu.ids, cpu.ids);
  assert.equal(gpu.ids[0].length, 24);
});

test('tag-training losses and gradients on WebGPU match the CPU', async (t) => {
  const reason = await missing;
  if (reason) return t.skip(`WebGPU unavailable: ${reason}`);
  await checkTrainingSteps(await stories());
});

test('quantized weights (stories260K Q8_0, MatMulNBits and the DequantizeLinear backward) on WebGPU match the CPU', async (t) => {
  const reason = await missing;
  if (reason) return t.skip(`WebGPU unavailable: ${reason}`);
  const model = await loadGgufModel(dataPath('models', 'stories260K-Q8_0.gguf'));
  await checkLogits(model);
  await checkTrainingSteps(model);
});

test('a quantized Llama-3.2-1B-shaped model (Q4_0) on a GPU: logits and tag gradients match the CPU', { timeout: 1_800_000 }, async (t) => {
  const reason = await missing;
  if (reason) return t.skip(`WebGPU unavailable: ${reason}`);
  // On a software adapter a 1B model takes far too long; it runs where a GPU device is visible.
  if (!gpuDeviceVisible()) return t.skip('no GPU device is visible (the WebGPU adapter here is a software one)');
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-gpu-1b-'));
  try {
    const file = join(dir, 'llama-3.2-1b-q4_0.gguf');
    const tokenizer = dataPath('tokenizers', 'llama3-bpe', 'tokenizer.json');
    const run = spawnSync(pythonExecutable(), [resolve(__dirname, '../../scripts/write-random-gguf.py'), '--shape', 'llama-3.2-1b', '--type', 'Q4_0', '--tokenizer', tokenizer, '--out', file], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const model = await loadGgufModel(file);
    await checkLogits(model);
    await checkTrainingSteps(model);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Last-position logits of the same prompt on both providers, quantized products exact on the CPU. */
async function checkLogits(model: LoadedModel): Promise<void> {
  const ids = PROMPT.map((id) => id % model.config.vocabSize);
  const embeds = embedTokens(model, ids);
  const mask = new BigInt64Array(ids.length).fill(1n);
  const logits: Record<string, Float32Array> = {};
  for (const provider of ['cpu', 'webgpu'] as const) {
    const s = await DecoderSession.create(model, { logits: 'last', kvCache: false, provider, quantizedMatMul: 'exact' });
    assert.equal(s.provider, provider);
    logits[provider] = (await s.forward(embeds, [1, ids.length], mask)).logits!.data;
    await s.release();
  }
  const error = relativeMaxError(logits.webgpu, logits.cpu);
  console.log(`  ${model.source.path}: last logits relative max error ${error.toExponential(2)}`);
  assert.ok(error < 1e-3, `${error}`);
}

/** A regression step and a next-token step on both providers: losses and gradients agree. */
async function checkTrainingSteps(model: LoadedModel): Promise<void> {
  const h = model.config.hiddenSize;
  const p = 4;
  const prompt = PROMPT.map((id) => id % model.config.vocabSize);
  const seq = prompt.length + p;
  const embeds = new Float32Array(seq * h);
  embeds.set(embedTokens(model, prompt), 0);
  for (let i = 0; i < p * h; i++) embeds[prompt.length * h + i] = Math.sin(i) * 0.05;
  const batch: TrainBatch = { batchSize: 1, seqLength: seq, hiddenSize: h, inputsEmbeds: embeds, attentionMask: new BigInt64Array(seq).fill(1n) };
  const head: LinearHead = { outputs: 1, hiddenSize: h, weight: Float32Array.from({ length: h }, (_, i) => Math.cos(i) / h), bias: Float32Array.of(0.1) };
  const readSpans = [{ start: prompt.length, length: p }];
  const targets = new Int32Array(seq).fill(-1);
  prompt.slice(1).forEach((id, i) => (targets[i] = id));

  const steps = async (provider: 'cpu' | 'webgpu') => {
    const session = await TrainSession.create(model, { provider });
    assert.equal(session.provider, provider);
    return {
      regression: await session.regressionStep(batch, readSpans, Float32Array.of(0.7), head),
      nextToken: await session.nextTokenStep(batch, targets),
    };
  };
  const cpu = await steps('cpu');
  const gpu = await steps('webgpu');
  const checks: Array<[string, ArrayLike<number>, ArrayLike<number>]> = [
    ['regression loss', [gpu.regression.loss], [cpu.regression.loss]],
    ['regression d inputs_embeds', gpu.regression.dInputsEmbeds, cpu.regression.dInputsEmbeds],
    ['regression d head weight', gpu.regression.dHeadWeight, cpu.regression.dHeadWeight],
    ['next-token loss', [gpu.nextToken.loss], [cpu.nextToken.loss]],
    ['next-token d inputs_embeds', gpu.nextToken.dInputsEmbeds, cpu.nextToken.dInputsEmbeds],
  ];
  for (const [name, a, b] of checks) {
    const error = relativeMaxError(a, b);
    console.log(`  ${name}: relative max error ${error.toExponential(2)}`);
    assert.ok(error < 1e-3, `${name}: ${error}`);
  }
}
