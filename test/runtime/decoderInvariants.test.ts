// Properties of the decoder graph that hold for any weights: a KV-cache step equals the full
// recomputation, and a padded batch gives each row what it gives alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LlamaConfig, LoadedModel, F32Tensor } from '../../src/runtime/model/description';
import { DecoderSession } from '../../src/runtime/session/decoderSession';
import { embedTokens } from '../../src/runtime/llama/embedTokens';

function tinyModel(config: Partial<LlamaConfig> = {}): LoadedModel {
  const c: LlamaConfig = {
    architecture: 'llama', hiddenSize: 16, intermediateSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 4,
    vocabSize: 32, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, attentionBias: false, ...config,
  };
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.8;
  const t = (...shape: number[]): F32Tensor => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, rand) });
  const w = new Map<string, F32Tensor>([['model.embed_tokens.weight', t(c.vocabSize, c.hiddenSize)], ['model.norm.weight', t(c.hiddenSize)]]);
  if (!c.tieWordEmbeddings) w.set('lm_head.weight', t(c.vocabSize, c.hiddenSize));
  const q = c.numHeads * c.headDim, kv = c.numKvHeads * c.headDim;
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    w.set(`${p}.input_layernorm.weight`, t(c.hiddenSize));
    w.set(`${p}.post_attention_layernorm.weight`, t(c.hiddenSize));
    w.set(`${p}.self_attn.q_proj.weight`, t(q, c.hiddenSize));
    w.set(`${p}.self_attn.k_proj.weight`, t(kv, c.hiddenSize));
    w.set(`${p}.self_attn.v_proj.weight`, t(kv, c.hiddenSize));
    w.set(`${p}.self_attn.o_proj.weight`, t(c.hiddenSize, q));
    if (c.attentionBias) for (const [n, d] of [['q', q], ['k', kv], ['v', kv]] as const) w.set(`${p}.self_attn.${n}_proj.bias`, t(d));
    w.set(`${p}.mlp.gate_proj.weight`, t(c.intermediateSize, c.hiddenSize));
    w.set(`${p}.mlp.up_proj.weight`, t(c.intermediateSize, c.hiddenSize));
    w.set(`${p}.mlp.down_proj.weight`, t(c.hiddenSize, c.intermediateSize));
  }
  return { config: c, weights: w, tokenizerJson: {}, specialTokens: { addBos: false }, source: { format: 'hf', path: 'tiny' } };
}

const ones = (n: number) => new BigInt64Array(n).fill(1n);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const VARIANTS: Partial<LlamaConfig>[] = [
  {},
  { attentionBias: true, tieWordEmbeddings: true, architecture: 'qwen2' },
  // Sliding windows shorter than the 7 tokens: every layer (Mistral), and alternating (Gemma).
  { slidingWindow: 3, architecture: 'mistral' },
  { slidingWindow: 2, layerTypes: ['sliding', 'full'] },
];
for (const variant of VARIANTS) {
  test(`KV-cache steps equal full recomputation ${JSON.stringify(variant)}`, async () => {
    const model = tinyModel(variant);
    const ids = [3, 17, 5, 9, 30, 2, 11];
    const full = await DecoderSession.create(model, { logits: 'all', kvCache: false });
    const cached = await DecoderSession.create(model, { logits: 'all', kvCache: true });
    const ref = await full.forward(embedTokens(model, ids), [1, ids.length], ones(ids.length));
    // prompt of 4, then three single-token steps
    let out = await cached.step(embedTokens(model, ids.slice(0, 4)), [1, 4], ones(4));
    const logits = [...out.logits!.data];
    for (let i = 4; i < ids.length; i++) {
      out = await cached.step(embedTokens(model, [ids[i]]), [1, 1], ones(i + 1), out.present);
      logits.push(...out.logits!.data);
    }
    assert.equal(out.present.length, ids.length);
    assert.ok(maxDiff(logits, ref.logits!.data) < 1e-5, `max diff ${maxDiff(logits, ref.logits!.data)}`);
  });
}

test('a left-padded batch gives each row what it gives alone', async () => {
  const model = tinyModel();
  const session = await DecoderSession.create(model, { logits: 'last', kvCache: false });
  const rows = [[4, 8, 15, 16, 23], [7, 1]];
  const seq = 5;
  const H = model.config.hiddenSize;
  const embeds = new Float32Array(2 * seq * H);
  const mask = new BigInt64Array(2 * seq);
  rows.forEach((ids, r) => {
    const pad = seq - ids.length;
    embeds.set(embedTokens(model, ids), (r * seq + pad) * H);
    for (let j = pad; j < seq; j++) mask[r * seq + j] = 1n;
  });
  const batch = await session.forward(embeds, [2, seq], mask);
  const V = model.config.vocabSize;
  for (const [r, ids] of rows.entries()) {
    const alone = await session.forward(embedTokens(model, ids), [1, ids.length], ones(ids.length));
    const d = maxDiff(batch.logits!.data.subarray(r * V, (r + 1) * V), alone.logits!.data);
    assert.ok(d < 1e-5, `row ${r}: max diff ${d}`);
  }
});

test('a right-padded batch gives each real position the hidden state it has alone', async () => {
  const model = tinyModel();
  const session = await DecoderSession.create(model, { logits: 'none', kvCache: false });
  const rows = [[4, 8, 15, 16, 23], [7, 1, 9]];
  const seq = 5;
  const H = model.config.hiddenSize;
  const embeds = new Float32Array(2 * seq * H);
  const mask = new BigInt64Array(2 * seq);
  rows.forEach((ids, r) => {
    embeds.set(embedTokens(model, ids), r * seq * H);
    mask.fill(1n, r * seq, r * seq + ids.length);
  });
  const batch = await session.forward(embeds, [2, seq], mask);
  for (const [r, ids] of rows.entries()) {
    const alone = await session.forward(embedTokens(model, ids), [1, ids.length], ones(ids.length));
    const d = maxDiff(batch.hidden.data.subarray(r * seq * H, (r * seq + ids.length) * H), alone.hidden.data);
    assert.ok(d < 1e-5, `row ${r}: max diff ${d}`);
  }
});

test('one sliding layer: the last position sees exactly the last `window` tokens (RoPE is relative)', async () => {
  const window = 3;
  const model = tinyModel({ numLayers: 1, slidingWindow: window, architecture: 'mistral' });
  const session = await DecoderSession.create(model, { logits: 'last', kvCache: false });
  const ids = [3, 17, 5, 9, 30, 2, 11];
  const whole = await session.forward(embedTokens(model, ids), [1, ids.length], ones(ids.length));
  const tail = await session.forward(embedTokens(model, ids.slice(-window)), [1, window], ones(window));
  assert.ok(maxDiff(whole.logits!.data, tail.logits!.data) < 1e-5, `max diff ${maxDiff(whole.logits!.data, tail.logits!.data)}`);
  const longer = await session.forward(embedTokens(model, ids.slice(-window - 1)), [1, window + 1], ones(window + 1));
  // A window one wider would see one more token: the window is what makes the two agree.
  const unwindowed = await DecoderSession.create(tinyModel({ numLayers: 1, architecture: 'mistral' }), { logits: 'last', kvCache: false });
  const full = await unwindowed.forward(embedTokens(model, ids), [1, ids.length], ones(ids.length));
  assert.ok(maxDiff(full.logits!.data, tail.logits!.data) > 1e-3, 'without the window the last position sees more');
  assert.ok(maxDiff(longer.logits!.data, tail.logits!.data) < 1e-5, 'a token beyond the window changes nothing');
});
