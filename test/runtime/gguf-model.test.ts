// GGUF -> LoadedModel on the shared real and tiny models: config from metadata, Hugging Face
// names and shapes, q/k un-permutation (checked against the same weights saved by
// transformers as safetensors), and a Q8_0 file close to its F32 original.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { readSafetensors } from '../../src/runtime/model/safetensors/read';
import { floatWeights } from '../helpers/weights';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

test('stories260K.gguf: config from metadata', async () => {
  const model = await loadGgufModel(dataPath('models', 'stories260K.gguf'));
  const c = model.config;
  assert.equal(c.architecture, 'llama');
  assert.equal(c.hiddenSize, 64);
  assert.equal(c.numLayers, 5);
  assert.equal(c.numHeads, 8);
  assert.equal(c.numKvHeads, 4);
  assert.equal(c.headDim, 8);
  assert.equal(c.intermediateSize, 172);
  assert.equal(c.vocabSize, 512);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.maxPositionEmbeddings, 2048);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.attentionBias, false);
  assert.ok(Math.abs(c.rmsNormEps - 1e-5) < 1e-12);
  assert.deepEqual(floatWeights(model).get('model.layers.4.mlp.down_proj.weight')?.shape, [64, 172]);
  assert.deepEqual(floatWeights(model).get('lm_head.weight')?.shape, [512, 64]);
  assert.deepEqual(model.specialTokens, { bos: 1, eos: 2, addBos: true });
  assert.deepEqual(model.source, { format: 'gguf', path: dataPath('models', 'stories260K.gguf') });
});

test('tiny-bpe-llama.gguf: every weight equals the transformers safetensors copy after q/k un-permutation', async () => {
  const gguf = await loadGgufModel(dataPath('models', 'tiny-bpe-llama.gguf'));
  const hf = (await readSafetensors(dataPath('models', 'tiny-bpe-llama-hf', 'model.safetensors'))).tensors;
  assert.deepEqual([...floatWeights(gguf).keys()].sort(), [...hf.keys()].sort());
  for (const [name, expected] of hf) {
    const actual = floatWeights(gguf).get(name)!;
    assert.deepEqual(actual.shape, expected.shape, name);
    assert.equal(maxAbsDiff(actual.data, expected.data), 0, name);
  }
  assert.equal(gguf.config.tieWordEmbeddings, false);
  assert.equal(gguf.config.headDim, 16);
  assert.equal(gguf.config.numKvHeads, 2);
});

test('stories260K-Q8_0.gguf loads and its weights are within Q8_0 rounding of the F32 file', async () => {
  const f32 = await loadGgufModel(dataPath('models', 'stories260K.gguf'));
  const q8 = await loadGgufModel(dataPath('models', 'stories260K-Q8_0.gguf'));
  assert.deepEqual(q8.config, f32.config);
  for (const [name, reference] of floatWeights(f32)) {
    const quantized = floatWeights(q8).get(name)!;
    assert.deepEqual(quantized.shape, reference.shape, name);
    if (quantized.data.every((x, i) => x === reference.data[i])) continue; // stored as F32
    // Q8_0 keeps each value of a 32-value block within half a step (max|x| / 127) plus the
    // f16 rounding of the block scale (relative 2^-11 of max|x|).
    for (let block = 0; block < reference.data.length; block += 32) {
      const ref = reference.data.subarray(block, block + 32);
      const blockMax = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const diff = maxAbsDiff(quantized.data.subarray(block, block + 32), ref);
      assert.ok(diff <= blockMax / 254 + blockMax * 2 ** -11 + 1e-7, `${name} block ${block}: max abs diff ${diff}`);
    }
  }
  const q = floatWeights(q8).get('model.layers.0.self_attn.q_proj.weight')!.data;
  assert.ok(maxAbsDiff(q, floatWeights(f32).get('model.layers.0.self_attn.q_proj.weight')!.data) > 0, 'q_proj really is quantized');
});
