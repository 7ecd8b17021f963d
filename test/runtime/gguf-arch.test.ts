// Architectures and format variants the shared models do not cover, on small GGUF files
// written here: Qwen2 (q/k/v bias, no q/k permutation, tied head), GGUF v2, uint64 and nested
// array metadata, linear RoPE scaling, and refusals of unknown tensors and architectures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { readGgufHeader, type GgufHeader } from '../../src/runtime/model/gguf/reader';
import { ggufConfig } from '../../src/runtime/model/gguf/config';
import { ggmlTypeLayout } from '../../src/runtime/model/gguf/tensorTypes';
import { summarizeGguf } from '../../src/runtime/model/summary';
import { ropeInverseFrequencies } from '../../src/runtime/llama/rope';
import { UnsupportedError } from '../../src/runtime/errors';

const dir = mkdtempSync(join(tmpdir(), 'gguf-arch-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

// ---- a minimal GGUF writer (little-endian, layout from ggml's docs/gguf.md) ----
type Meta = { u32: number } | { u64: bigint } | { f32: number } | { str: string } | { bool: boolean } | { strs: string[] } | { nested: number[][] };
interface TensorSpec { name: string; ne: number[]; values: Float32Array; f16?: boolean }

class Bytes {
  parts: Buffer[] = [];
  length = 0;
  push(b: Buffer) { this.parts.push(b); this.length += b.length; }
  u32(v: number) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.push(b); }
  u64(v: bigint | number) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  f32(v: number) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.push(b); }
  str(s: string) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.push(b); }
  pad(alignment: number) { this.push(Buffer.alloc((alignment - (this.length % alignment)) % alignment)); }
}

function toF16Bits(x: number): number {
  // Values written here are exact in f16 (small multiples of 1/64), so truncation is exact.
  const f = new Float32Array([x]);
  const bits = new Uint32Array(f.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  if (x === 0) return sign;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  return sign | (exp << 10) | ((bits >>> 13) & 0x3ff);
}

function writeGguf(name: string, meta: Record<string, Meta>, tensors: TensorSpec[], version = 3): string {
  const out = new Bytes();
  out.push(Buffer.from('GGUF'));
  out.u32(version);
  out.u64(tensors.length);
  out.u64(Object.keys(meta).length);
  for (const [key, v] of Object.entries(meta)) {
    out.str(key);
    if ('u32' in v) (out.u32(4), out.u32(v.u32));
    else if ('u64' in v) (out.u32(10), out.u64(v.u64));
    else if ('f32' in v) (out.u32(6), out.f32(v.f32));
    else if ('str' in v) (out.u32(8), out.str(v.str));
    else if ('bool' in v) (out.u32(7), out.push(Buffer.from([v.bool ? 1 : 0])));
    else if ('strs' in v) (out.u32(9), out.u32(8), out.u64(v.strs.length), v.strs.forEach((s) => out.str(s)));
    else {
      out.u32(9), out.u32(9), out.u64(v.nested.length);
      for (const inner of v.nested) (out.u32(4), out.u64(inner.length), inner.forEach((x) => out.u32(x)));
    }
  }
  const data: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.f16 ? Buffer.from(new Uint16Array(Array.from(t.values, toF16Bits)).buffer) : Buffer.from(t.values.buffer);
    out.str(t.name);
    out.u32(t.ne.length);
    t.ne.forEach((n) => out.u64(n));
    out.u32(t.f16 ? 1 : 0);
    out.u64(offset);
    const padded = Buffer.alloc(Math.ceil(bytes.length / 32) * 32);
    bytes.copy(padded);
    data.push(padded);
    offset += padded.length;
  }
  out.pad(32);
  data.forEach((d) => out.push(d));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(out.parts));
  return path;
}

// ---- a tiny model: hidden 8, 2 heads of 4, 1 KV head, FFN 12, vocab 6, 1 layer ----
const H = 8, HEADS = 2, KV = 1, HD = 4, FFN = 12, V = 6;
let counter = 0;
/** Distinct values per tensor, exact in f16 while fewer than 15 tensors share a counter run. */
function values(n: number): Float32Array {
  const base = ++counter;
  return Float32Array.from({ length: n }, (_, i) => (base + i / 64) * (i % 2 ? -1 : 1));
}

/** llama.cpp's q/k row order for a [heads*HD, cols] matrix in Hugging Face order. */
function permuteLikeLlamaCpp(hf: Float32Array, heads: number, cols: number): Float32Array {
  const out = new Float32Array(hf.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < HD / 2; i++)
      for (let j = 0; j < 2; j++) out.set(hf.subarray((h * HD + j * (HD / 2) + i) * cols, (h * HD + j * (HD / 2) + i + 1) * cols), (h * HD + 2 * i + j) * cols);
  return out;
}

const tokenizerMeta: Record<string, Meta> = {
  'tokenizer.ggml.model': { str: 'gpt2' },
  'tokenizer.ggml.pre': { str: 'gpt-2' },
  'tokenizer.ggml.tokens': { strs: ['a', 'b', 'c', 'ab', 'bc', '<|endoftext|>'] },
  'tokenizer.ggml.merges': { strs: ['a b', 'b c'] },
  'tokenizer.ggml.eos_token_id': { u32: 5 },
};

function archMeta(arch: string, extra: Record<string, Meta> = {}): Record<string, Meta> {
  return {
    'general.architecture': { str: arch },
    [`${arch}.embedding_length`]: { u32: H },
    [`${arch}.block_count`]: { u32: 1 },
    [`${arch}.feed_forward_length`]: { u32: FFN },
    [`${arch}.attention.head_count`]: { u32: HEADS },
    [`${arch}.attention.head_count_kv`]: { u32: KV },
    [`${arch}.attention.layer_norm_rms_epsilon`]: { f32: 1e-6 },
    [`${arch}.rope.freq_base`]: { f32: 1000000 },
    [`${arch}.context_length`]: { u32: 4096 },
    ...tokenizerMeta,
    ...extra,
  };
}

/** Hugging Face weights of the tiny model, keyed by GGUF name, each with its ggml shape. */
function layerTensors(withBias: boolean): { gguf: string; hf: string; ne: number[]; values: Float32Array }[] {
  counter = 0;
  const t = (gguf: string, hf: string, ne: number[]) => ({ gguf, hf, ne, values: values(ne.reduce((a, b) => a * b, 1)) });
  return [
    t('token_embd.weight', 'model.embed_tokens.weight', [H, V]),
    t('output_norm.weight', 'model.norm.weight', [H]),
    t('blk.0.attn_norm.weight', 'model.layers.0.input_layernorm.weight', [H]),
    t('blk.0.attn_q.weight', 'model.layers.0.self_attn.q_proj.weight', [H, HEADS * HD]),
    t('blk.0.attn_k.weight', 'model.layers.0.self_attn.k_proj.weight', [H, KV * HD]),
    t('blk.0.attn_v.weight', 'model.layers.0.self_attn.v_proj.weight', [H, KV * HD]),
    ...(withBias
      ? [
          t('blk.0.attn_q.bias', 'model.layers.0.self_attn.q_proj.bias', [HEADS * HD]),
          t('blk.0.attn_k.bias', 'model.layers.0.self_attn.k_proj.bias', [KV * HD]),
          t('blk.0.attn_v.bias', 'model.layers.0.self_attn.v_proj.bias', [KV * HD]),
        ]
      : []),
    t('blk.0.attn_output.weight', 'model.layers.0.self_attn.o_proj.weight', [HEADS * HD, H]),
    t('blk.0.ffn_norm.weight', 'model.layers.0.post_attention_layernorm.weight', [H]),
    t('blk.0.ffn_gate.weight', 'model.layers.0.mlp.gate_proj.weight', [H, FFN]),
    t('blk.0.ffn_up.weight', 'model.layers.0.mlp.up_proj.weight', [H, FFN]),
    t('blk.0.ffn_down.weight', 'model.layers.0.mlp.down_proj.weight', [FFN, H]),
  ];
}

test('qwen2: q/k/v biases, rows kept in Hugging Face order, tied head, F16 weights', async () => {
  const weights = layerTensors(true);
  const path = writeGguf('qwen2.gguf', archMeta('qwen2'), weights.map((w) => ({ name: w.gguf, ne: w.ne, values: w.values, f16: w.ne.length === 2 })));
  const model = await loadGgufModel(path);
  assert.equal(model.config.architecture, 'qwen2');
  assert.equal(model.config.attentionBias, true);
  assert.equal(model.config.tieWordEmbeddings, true);
  assert.equal(model.config.ropeTheta, 1000000);
  assert.equal(model.config.headDim, HD);
  assert.equal(model.config.vocabSize, V);
  assert.ok(!model.weights.has('lm_head.weight'));
  for (const w of weights) {
    const loaded = model.weights.get(w.hf)!;
    assert.deepEqual(loaded.shape, [...w.ne].reverse(), w.hf);
    assert.deepEqual(loaded.data, w.values, w.hf);
  }
  assert.equal(model.specialTokens.eos, 5);
  assert.equal(model.specialTokens.bos, undefined);
  assert.equal(model.specialTokens.addBos, false);
});

test('llama GGUF v2: q/k rows and biases un-permuted, uint64 and nested-array metadata, linear RoPE scaling', async () => {
  const weights = layerTensors(true);
  const stored = weights.map((w) => {
    const heads = w.gguf.includes('attn_q') ? HEADS : w.gguf.includes('attn_k') ? KV : 0;
    return { name: w.gguf, ne: w.ne, values: heads ? permuteLikeLlamaCpp(w.values, heads, w.ne.length === 2 ? H : 1) : w.values };
  });
  stored.push({ name: 'output.weight', ne: [H, V], values: values(H * V) });
  const meta = archMeta('llama', {
    'llama.context_length': { u64: 4096n },
    'llama.rope.scaling.type': { str: 'linear' },
    'llama.rope.scaling.factor': { f32: 4 },
    'general.nested': { nested: [[1, 2], [3]] },
    'general.note': { str: 'a \ufffd b' },
  });
  const path = writeGguf('llama-v2.gguf', meta, stored, 2);
  const header = readGgufHeader(path);
  assert.equal(header.version, 2);
  assert.equal(header.metadata.get('llama.context_length'), 4096n);
  assert.deepEqual(header.metadata.get('general.nested'), [[1, 2], [3]]);
  assert.equal(header.metadata.get('general.note'), 'a \ufffd b');
  const model = await loadGgufModel(path);
  assert.equal(model.config.maxPositionEmbeddings, 4096);
  assert.deepEqual(model.config.ropeScaling, { type: 'linear', factor: 4 });
  assert.equal(model.config.tieWordEmbeddings, false);
  for (const w of weights) assert.deepEqual(model.weights.get(w.hf)!.data, w.values, w.hf);
  assert.notDeepEqual(stored[3]!.values, weights[3]!.values, 'q rows really were permuted on disk');
});

test('an unknown tensor or architecture is refused, naming it', async () => {
  const extra = [...layerTensors(false).map((w) => ({ name: w.gguf, ne: w.ne, values: w.values })), { name: 'blk.0.attn_rot_embd', ne: [4], values: values(4) }];
  const path = writeGguf('extra.gguf', archMeta('llama'), extra);
  await assert.rejects(loadGgufModel(path), (err: unknown) => err instanceof UnsupportedError && /unexpected tensor blk\.0\.attn_rot_embd/.test((err as Error).message));
  const gptj = writeGguf('gptj.gguf', archMeta('gptj'), layerTensors(false).map((w) => ({ name: w.gguf, ne: w.ne, values: w.values })));
  await assert.rejects(loadGgufModel(gptj), (err: unknown) => err instanceof UnsupportedError && /architecture "gptj" is not supported/.test((err as Error).message));
});

test('architecture and tensor names that are Object.prototype keys are refused, and the refusal lists what is supported', async () => {
  const tensors = layerTensors(false).map((w) => ({ name: w.gguf, ne: w.ne, values: w.values }));
  for (const arch of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const path = writeGguf(`arch-${arch}.gguf`, archMeta(arch), tensors);
    await assert.rejects(loadGgufModel(path), (err: unknown) =>
      err instanceof UnsupportedError &&
      err.message.includes(`architecture "${arch}" is not supported (supported: llama, mistral, qwen2, qwen3, phi3, gemma2, gemma3)`));
  }
  const odd = writeGguf('odd-tensor.gguf', archMeta('llama'), [...tensors, { name: 'blk.0.constructor', ne: [4], values: values(4) }]);
  await assert.rejects(loadGgufModel(odd), (err: unknown) => err instanceof UnsupportedError && /unexpected tensor blk\.0\.constructor/.test((err as Error).message));
});

test('a RoPE scaling factor without a type is linear scaling, as llama.cpp reads it', async () => {
  const tensors = layerTensors(false).map((w) => ({ name: w.gguf, ne: w.ne, values: w.values }));
  const scaled = writeGguf('factor-only.gguf', archMeta('llama', { 'llama.rope.scaling.factor': { f32: 8 } }), tensors);
  assert.deepEqual((await loadGgufModel(scaled)).config.ropeScaling, { type: 'linear', factor: 8 });
  const unit = writeGguf('factor-one.gguf', archMeta('llama', { 'llama.rope.scaling.factor': { f32: 1 } }), tensors);
  assert.equal((await loadGgufModel(unit)).config.ropeScaling, undefined);
});

/** llama.cpp's converter: one divisor per rotary frequency for Llama 3.1 scaling. */
function llamaCppRopeFactors(headDim: number, theta: number, factor: number, low = 1, high = 4, oldContext = 8192): Float32Array {
  return Float32Array.from({ length: headDim / 2 }, (_, i) => {
    const wavelen = (2 * Math.PI) / (1 / theta ** ((2 * i) / headDim));
    if (wavelen < oldContext / high) return 1;
    if (wavelen > oldContext / low) return factor;
    const smooth = (oldContext / wavelen - low) / (high - low);
    return 1 / ((1 - smooth) / factor + smooth);
  });
}

test('Llama 3.1 RoPE scaling stored as rope_freqs.weight becomes llama3 scaling with the same frequencies', () => {
  // Llama-3.2-1B's shape: head size 64, theta 500000, factor 32.
  const f32 = ggmlTypeLayout(0)!;
  const tensor = (name: string, ne: number[]) => ({ name, ne, type: f32, fileOffset: 0, byteLength: 0, elementCount: ne.reduce((a, b) => a * b, 1) });
  const header: GgufHeader = {
    path: 'llama32.gguf', version: 3, fileSize: 0, alignment: 32, dataStart: 0,
    tensors: [tensor('token_embd.weight', [2048, 128256]), tensor('rope_freqs.weight', [32])],
    metadata: new Map<string, string | number>([
      ['general.architecture', 'llama'], ['llama.embedding_length', 2048], ['llama.block_count', 16],
      ['llama.feed_forward_length', 8192], ['llama.attention.head_count', 32], ['llama.attention.head_count_kv', 8],
      ['llama.attention.layer_norm_rms_epsilon', 1e-5], ['llama.rope.freq_base', 500000], ['llama.context_length', 131072],
    ]),
  };
  const divisors = llamaCppRopeFactors(64, 500000, 32);
  const config = ggufConfig(header, () => divisors);
  assert.deepEqual(config.ropeScaling, { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  // The graph's frequencies are llama.cpp's base frequencies divided by the stored factors.
  const inv = ropeInverseFrequencies(config);
  for (let i = 0; i < 32; i++) {
    const expected = 1 / 500000 ** ((2 * i) / 64) / divisors[i]!;
    assert.ok(Math.abs(inv[i]! - expected) <= 1e-6 * expected, `frequency ${i}: ${inv[i]} vs ${expected}`);
  }
  const other = llamaCppRopeFactors(64, 500000, 32, 2, 4);
  assert.throws(() => ggufConfig(header, () => other), (err: unknown) => err instanceof UnsupportedError && /rope_freqs\.weight is not Llama 3 RoPE scaling/.test((err as Error).message));
});

test('a file with rope_freqs.weight loads without it as a weight and summarizes without counting it', async () => {
  const tensors = layerTensors(false).map((w) => ({ name: w.gguf, ne: w.ne, values: w.values }));
  tensors.push({ name: 'rope_freqs.weight', ne: [HD / 2], values: llamaCppRopeFactors(HD, 1e8, 8) });
  const path = writeGguf('llama31.gguf', archMeta('llama', { 'llama.rope.freq_base': { f32: 1e8 } }), tensors);
  const model = await loadGgufModel(path);
  assert.equal(model.config.ropeScaling?.type, 'llama3');
  assert.equal(model.config.ropeScaling?.factor, 8);
  assert.ok(![...model.weights.keys()].some((k) => k.includes('rope')));
  let stored = 0;
  for (const w of model.weights.values()) stored += w.data.length;
  assert.equal(summarizeGguf(path).parameters, stored);
});
