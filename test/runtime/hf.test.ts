// Hugging Face folders: the tiny-bpe-llama folder loads to the same model as its GGUF twin;
// sharded weights load; config.json variants (transformers 4 and 5, Qwen2, llama3 RoPE) parse;
// broken folders give one-line errors naming the folder or file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { loadHfFolder } from '../../src/runtime/model/hf/loadFolder';
import { parseHfConfig } from '../../src/runtime/model/hf/config';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { writeSafetensors } from '../../src/runtime/model/safetensors/write';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { InvalidFileError, UnsupportedError } from '../../src/runtime/errors';

const FOLDER_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

/** A temporary copy of tiny-bpe-llama-hf with only the named files. */
function copyOfTinyFolder(t: { after(fn: () => void): void }, files: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-hf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of files) copyFileSync(dataPath('models', 'tiny-bpe-llama-hf', f), join(dir, f));
  return dir;
}

const oneLine = (pattern: RegExp, cls: Function = InvalidFileError) => (e: unknown) =>
  e instanceof cls && pattern.test((e as Error).message) && !(e as Error).message.includes('\n');

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('tiny-bpe-llama-hf loads with the config, special tokens and tokenizer the reference describes', async () => {
  const model = await loadHfFolder(dataPath('models', 'tiny-bpe-llama-hf'));
  assert.deepEqual(model.config, {
    architecture: 'llama',
    hiddenSize: 64,
    intermediateSize: 160,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    vocabSize: 1024,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositionEmbeddings: 512,
    tieWordEmbeddings: false,
    attentionBias: false,
  });
  assert.deepEqual(model.specialTokens, { bos: 0, eos: 0, addBos: false });
  assert.equal(model.source.format, 'hf');
  assert.equal(model.weights.size, 1 + 1 + 1 + 2 * 9);
  const reference = JSON.parse(readFileSync(dataPath('models', 'tiny-bpe-llama.reference.json'), 'utf8'));
  assert.deepEqual(Tokenizer.forModel(model).encode(reference.prompt), reference.prompt_ids);
});

test('the Hugging Face folder and its GGUF twin give identical weights', async () => {
  const hf = await loadHfFolder(dataPath('models', 'tiny-bpe-llama-hf'));
  const gguf = await loadGgufModel(dataPath('models', 'tiny-bpe-llama.gguf'));
  assert.deepEqual([...hf.weights.keys()].sort(), [...gguf.weights.keys()].sort());
  for (const [name, tensor] of hf.weights) {
    assert.deepEqual(tensor.shape, gguf.weights.get(name)!.shape, name);
    assert.equal(maxAbsDiff(tensor.data, gguf.weights.get(name)!.data), 0, name);
  }
});

test('sharded weights with model.safetensors.index.json load the same tensors', async (t) => {
  const original = await loadHfFolder(dataPath('models', 'tiny-bpe-llama-hf'));
  const dir = copyOfTinyFolder(t, ['config.json', 'tokenizer.json', 'tokenizer_config.json']);
  const names = [...original.weights.keys()];
  const halves = [names.slice(0, 9), names.slice(9)];
  const weightMap: Record<string, string> = {};
  for (const [i, half] of halves.entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    await writeSafetensors(join(dir, file), new Map(half.map((n) => [n, original.weights.get(n)!])), { format: 'pt' });
    for (const n of half) weightMap[n] = file;
  }
  const index = join(dir, 'model.safetensors.index.json');
  writeFileSync(index, JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const progress: number[] = [];
  const sharded = await loadHfFolder(dir, { onProgress: (done, total) => progress.push(done / total) });
  for (const [name, tensor] of original.weights) assert.deepEqual(sharded.weights.get(name)!.data, tensor.data, name);
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.every((p, i) => i === 0 || p >= progress[i - 1]!));

  // An index that promises a tensor its shard lacks.
  writeFileSync(index, JSON.stringify({ weight_map: { ...weightMap, 'model.extra.weight': 'model-00001-of-00002.safetensors' } }));
  await assert.rejects(loadHfFolder(dir), oneLine(/model\.extra\.weight/));
  writeFileSync(index, JSON.stringify({ weight_map: { ...weightMap, 'model.norm.weight': '../elsewhere.safetensors' } }));
  await assert.rejects(loadHfFolder(dir), oneLine(/outside the model folder/));
});

test('a folder without tokenizer.json is a one-line error naming the folder', async (t) => {
  const dir = copyOfTinyFolder(t, FOLDER_FILES.filter((f) => f !== 'tokenizer.json'));
  await assert.rejects(loadHfFolder(dir), (e: unknown) => e instanceof InvalidFileError && e.message === `${dir}: missing tokenizer.json`);
});

test('missing weights and weights that do not fit the config name the problem', async (t) => {
  const noWeights = copyOfTinyFolder(t, ['config.json', 'tokenizer.json']);
  await assert.rejects(loadHfFolder(noWeights), oneLine(/missing model\.safetensors/));

  const wrongShape = copyOfTinyFolder(t, FOLDER_FILES);
  const config = JSON.parse(readFileSync(join(wrongShape, 'config.json'), 'utf8'));
  writeFileSync(join(wrongShape, 'config.json'), JSON.stringify({ ...config, intermediate_size: 128 }));
  await assert.rejects(loadHfFolder(wrongShape), oneLine(/model\.layers\.0\.mlp\.gate_proj\.weight has shape \[160, 64\], expected \[128, 64\]/));

  const tied = copyOfTinyFolder(t, FOLDER_FILES);
  writeFileSync(join(tied, 'config.json'), JSON.stringify({ ...config, tie_word_embeddings: true }));
  const model = await loadHfFolder(tied);
  assert.equal(model.weights.has('lm_head.weight'), false, 'a tied model drops the stored copy of the head');
});

test('config.json: transformers 4 keys, Qwen2 biases, llama3 and linear RoPE scaling, unsupported models', () => {
  const base = {
    architectures: ['LlamaForCausalLM'],
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    vocab_size: 49152,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
    max_position_embeddings: 8192,
  };
  const smollm = parseHfConfig(base, 'config.json');
  assert.equal(smollm.headDim, 64);
  assert.equal(smollm.ropeTheta, 100000);
  assert.equal(smollm.tieWordEmbeddings, true);
  assert.equal(smollm.ropeScaling, undefined);

  const qwen = parseHfConfig({ ...base, architectures: ['Qwen2ForCausalLM'], rope_theta: 1e6 }, 'config.json');
  assert.equal(qwen.architecture, 'qwen2');
  assert.equal(qwen.attentionBias, true);

  const llama3 = parseHfConfig({
    ...base,
    rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
  }, 'config.json');
  assert.deepEqual(llama3.ropeScaling, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  const linear = parseHfConfig({ ...base, rope_theta: undefined, rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 5e5 } }, 'config.json');
  assert.deepEqual(linear.ropeScaling, { type: 'linear', factor: 2 });
  assert.equal(linear.ropeTheta, 5e5);

  assert.throws(() => parseHfConfig({ ...base, architectures: ['GPT2LMHeadModel'] }, 'c.json'), oneLine(/c\.json: architecture "GPT2LMHeadModel"/, UnsupportedError));
  // Class names are file content: Object.prototype's keys are unknown classes like any other.
  for (const name of ['toString', 'constructor', '__proto__', 'valueOf']) {
    assert.throws(
      () => parseHfConfig({ ...base, architectures: [name] }, 'c.json'),
      oneLine(new RegExp(`architecture "${name}" is not supported \\(supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Phi3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM\\)`), UnsupportedError),
    );
  }
  assert.throws(() => parseHfConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } }, 'c.json'), oneLine(/"yarn"/, UnsupportedError));
  assert.throws(() => parseHfConfig({ ...base, hidden_size: '576' }, 'c.json'), oneLine(/hidden_size must be a positive integer, got "576"/));
  assert.throws(() => parseHfConfig({ ...base, num_key_value_heads: 4 }, 'c.json'), oneLine(/not a multiple/));
});

test('special tokens follow tokenizer_config.json, else the post-processor and config.json', async (t) => {
  const dir = copyOfTinyFolder(t, FOLDER_FILES);
  const tokenizerJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  // No tokenizer_config.json: a TemplateProcessing that starts with <|im_start|> (id 1) means add BOS,
  // when config.json says BOS is id 1.
  rmSync(join(dir, 'tokenizer_config.json'));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, bos_token_id: 1, eos_token_id: [2, 0] }));
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    ...tokenizerJson,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|im_start|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<|im_start|>': { id: '<|im_start|>', ids: [1], tokens: ['<|im_start|>'] } },
    },
  }));
  const model = await loadHfFolder(dir);
  assert.deepEqual(model.specialTokens, { bos: 1, eos: 2, addBos: true });
  // The reference tokenizes "<|im_start|>user<|im_end|>" as [1, 414, 280, 2].
  assert.deepEqual(Tokenizer.forModel(model).encode('user'), [1, 414, 280]);
});

test('config.json of each family as the Hub has it (transformers 4 keys): Qwen3, Phi-4-mini, Gemma 2, Gemma 3', () => {
  const qwen3 = parseHfConfig({
    architectures: ['Qwen3ForCausalLM'], attention_bias: false, head_dim: 128, hidden_act: 'silu', hidden_size: 1024, intermediate_size: 3072,
    max_position_embeddings: 40960, num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8, rms_norm_eps: 1e-6,
    rope_scaling: null, rope_theta: 1000000, sliding_window: null, tie_word_embeddings: true, use_sliding_window: false, vocab_size: 151936,
  }, 'c.json');
  assert.equal(qwen3.headDim, 128);
  assert.equal(qwen3.qkNorm, true);
  assert.equal(qwen3.slidingWindow, undefined);
  assert.throws(() => parseHfConfig({ architectures: ['Qwen3ForCausalLM'], use_sliding_window: true }, 'c.json'), oneLine(/use_sliding_window/, UnsupportedError));

  const factors = (k: number) => Array.from({ length: 48 }, (_, i) => 1 + k * i);
  const phi4 = parseHfConfig({
    architectures: ['Phi3ForCausalLM'], hidden_act: 'silu', hidden_size: 3072, intermediate_size: 8192, max_position_embeddings: 131072,
    num_attention_heads: 24, num_hidden_layers: 32, num_key_value_heads: 8, original_max_position_embeddings: 4096, partial_rotary_factor: 0.75,
    rms_norm_eps: 1e-5, rope_scaling: { long_factor: factors(0.5), short_factor: factors(0.01), type: 'longrope' }, rope_theta: 10000,
    sliding_window: 262144, tie_word_embeddings: true, vocab_size: 200064,
  }, 'c.json');
  assert.equal(phi4.headDim, 128);
  assert.equal(phi4.rotaryDim, 96);
  assert.equal(phi4.fusedProjections, true);
  assert.equal(phi4.slidingWindow, 262144);
  assert.equal(phi4.ropeScaling?.type, 'longrope');
  assert.equal(phi4.ropeScaling?.originalMaxPositionEmbeddings, 4096);
  // transformers' default attention factor: sqrt(1 + ln(131072 / 4096) / ln(4096)).
  assert.ok(Math.abs(phi4.ropeScaling!.attentionFactor! - Math.sqrt(1 + Math.log(32) / Math.log(4096))) < 1e-12);
  assert.deepEqual(phi4.ropeScaling?.longFactor, factors(0.5));
  assert.throws(() => parseHfConfig({ architectures: ['Phi3ForCausalLM'], hidden_size: 3072, num_attention_heads: 24, partial_rotary_factor: 0.75,
    rope_scaling: { long_factor: [1], short_factor: [1], type: 'su' }, original_max_position_embeddings: 4096, intermediate_size: 1, num_hidden_layers: 1, vocab_size: 1 }, 'c.json'),
  oneLine(/longrope shortFactor has 1 values, expected 48/));

  const gemma2 = parseHfConfig({
    architectures: ['Gemma2ForCausalLM'], attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0, head_dim: 256, hidden_act: 'gelu_pytorch_tanh',
    hidden_activation: 'gelu_pytorch_tanh', hidden_size: 2304, intermediate_size: 9216, max_position_embeddings: 8192, num_attention_heads: 8,
    num_hidden_layers: 26, num_key_value_heads: 4, query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_theta: 10000.0, sliding_window: 4096, vocab_size: 256000,
  }, 'c.json');
  assert.deepEqual(
    { ...gemma2, layerTypes: gemma2.layerTypes!.slice(0, 4) },
    {
      architecture: 'gemma2', hiddenSize: 2304, intermediateSize: 9216, numLayers: 26, numHeads: 8, numKvHeads: 4, headDim: 256, vocabSize: 256000,
      rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, attentionBias: false, slidingWindow: 4096,
      normWeightOffset: true, hiddenActivation: 'gelu_tanh', embeddingMultiplier: Math.sqrt(2304), sandwichNorms: true, queryPreAttnScalar: 256,
      attnLogitSoftcap: 50, finalLogitSoftcap: 30, layerTypes: ['sliding', 'full', 'sliding', 'full'],
    },
  );

  const gemma3 = parseHfConfig({
    architectures: ['Gemma3ForCausalLM'], attn_logit_softcapping: null, final_logit_softcapping: null, head_dim: 256, hidden_activation: 'gelu_pytorch_tanh',
    hidden_size: 1152, intermediate_size: 6912, max_position_embeddings: 32768, num_attention_heads: 4, num_hidden_layers: 26, num_key_value_heads: 1,
    query_pre_attn_scalar: 256, rms_norm_eps: 1e-6, rope_local_base_freq: 10000, rope_scaling: { rope_type: 'linear', factor: 8.0 }, rope_theta: 1000000,
    sliding_window: 512, sliding_window_pattern: 6, vocab_size: 262144,
  }, 'c.json');
  assert.equal(gemma3.attnLogitSoftcap, undefined);
  assert.equal(gemma3.finalLogitSoftcap, undefined);
  assert.equal(gemma3.localRopeTheta, 10000);
  assert.equal(gemma3.ropeTheta, 1000000);
  assert.deepEqual(gemma3.ropeScaling, { type: 'linear', factor: 8 });
  assert.equal(gemma3.qkNorm, true);
  assert.deepEqual(gemma3.layerTypes!.slice(0, 12).join(' '), 'sliding sliding sliding sliding sliding full sliding sliding sliding sliding sliding full');
});
