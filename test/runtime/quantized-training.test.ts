// Tag training through quantized weights: the loss graphs of stories260K-Q8_0 (projections and
// the LM head as MatMulNBits, gradients through run-time DequantizeLinear) against the same
// model with its weights dequantized to float32 (plain MatMul, the gradient path the
// stories260K grad-reference checks). In exact mode they agree to float32 rounding, for the
// next-token loss, a regression head and the quantized LM head's label words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { dataPath } from '../helpers/data';
import { seededRandom } from '../helpers/gradcheck';
import { floatWeights } from '../helpers/weights';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { isQuantized } from '../../src/runtime/model/tensor';
import { serializeModel } from '../../src/runtime/graph/serialize';
import { addGradients, buildLossGraph, type LossKind } from '../../src/runtime/train/lossGraphs';
import type { QuantizedMatMulMode } from '../../src/runtime/llama/quantizedLinear';
import type { LlamaConfig, WeightMap } from '../../src/runtime/model/description';
import { relativeMaxError } from '../helpers/compare';

const B = 2;
const S = 7;
const H = 64;
const rand = seededRandom(5);
const values = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rand() - 0.5) * scale);
const mask = BigInt64Array.from({ length: B * S }, (_, i) => (i >= S + 5 ? 0n : 1n)); // row 1 right-padded
const common = { inputs_embeds: new ort.Tensor('float32', values(B * S * H, 0.2), [B, S, H]), attention_mask: new ort.Tensor('int64', mask, [B, S]) };
const readWeights = new ort.Tensor('float32', Float32Array.from({ length: B * S }, (_, i) => (i % S === 3 ? 1 : 0)), [B, S]);
const FEEDS: Record<Exclude<LossKind, 'classification'>, Record<string, ort.Tensor>> = {
  next_token: {
    ...common,
    target_ids: new ort.Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt((i * 37) % 512)), [B, S]),
    target_weights: new ort.Tensor('float32', Float32Array.from(mask, Number), [B, S]),
  },
  regression: {
    ...common,
    read_weights: readWeights,
    head_weight: new ort.Tensor('float32', values(2 * H, 0.5), [2, H]),
    head_bias: new ort.Tensor('float32', Float32Array.of(0.1, -0.1), [2]),
    targets: new ort.Tensor('float32', Float32Array.of(0.5, -1, 2, 0), [B, 2]),
  },
  logistic: {
    ...common,
    read_weights: readWeights,
    head_weight: new ort.Tensor('float32', values(2 * H, 0.5), [2, H]),
    head_bias: new ort.Tensor('float32', Float32Array.of(0.1, -0.1), [2]),
    labels: new ort.Tensor('float32', Float32Array.of(1, 0, 0, 1), [B, 2]),
    // the second row's first label is missing
    label_weights: new ort.Tensor('float32', Float32Array.of(1, 2, 0, 1), [B, 2]),
  },
  label_words: {
    ...common,
    read_weights: readWeights,
    label_token_ids: new ort.Tensor('int64', BigInt64Array.of(291n, 410n, 305n), [3]),
    labels: new ort.Tensor('int64', BigInt64Array.of(2n, 0n), [B]),
  },
};

async function lossAndGradient(config: LlamaConfig, weights: WeightMap, kind: Exclude<LossKind, 'classification'>, mode: QuantizedMatMulMode) {
  const lg = addGradients(buildLossGraph(config, weights, kind, { past: false, quantizedMatMul: mode }));
  const session = await ort.InferenceSession.create(serializeModel(lg.graph), { executionProviders: ['cpu'] });
  try {
    const out = await session.run(FEEDS[kind]);
    return { loss: (out.loss!.data as Float32Array)[0]!, grad: out.grad_inputs_embeds!.data as Float32Array };
  } finally {
    await session.release();
  }
}

const modelPromise = loadGgufModel(dataPath('models', 'stories260K-Q8_0.gguf'));

for (const kind of ['next_token', 'regression', 'logistic', 'label_words'] as const) {
  test(`stories260K-Q8_0 ${kind}: loss and tag gradient through quantized weights match the dequantized float32 model`, async () => {
    const model = await modelPromise;
    assert.ok(isQuantized(model.weights.get('model.layers.0.self_attn.q_proj.weight')!), 'projections stay quantized');
    assert.ok(isQuantized(model.weights.get('lm_head.weight')!), 'the LM head stays quantized');
    const reference = await lossAndGradient(model.config, floatWeights(model), kind, 'exact');
    const exact = await lossAndGradient(model.config, model.weights, kind, 'exact');
    const fast = await lossAndGradient(model.config, model.weights, kind, 'fast');
    const gradError = relativeMaxError(exact.grad, reference.grad);
    console.log(`${kind}: loss ${reference.loss} (float32) ${exact.loss} (exact) ${fast.loss} (fast); gradient relative error exact ${gradError.toExponential(1)}, fast ${relativeMaxError(fast.grad, reference.grad).toExponential(1)}`);
    assert.ok(Math.abs(exact.loss - reference.loss) <= 1e-5 * Math.max(1, Math.abs(reference.loss)), `loss ${exact.loss} vs ${reference.loss}`);
    assert.ok(gradError < 1e-4, `gradient relative error ${gradError}`);
    assert.ok(Math.abs(fast.loss - reference.loss) <= 0.05 * Math.max(1, Math.abs(reference.loss)), `fast loss ${fast.loss} vs ${reference.loss}`);
  });
}
