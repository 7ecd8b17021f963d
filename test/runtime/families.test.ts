// Every model family against Hugging Face transformers: a random-weight model of the family's
// real configuration (shrunk, every switch kept) loads from its Hugging Face folder and from a
// GGUF in llama.cpp's layout, and gives transformers' last-position logits for a prompt longer
// than its sliding window / original RoPE context and transformers' greedy continuation of a
// prompt that grows past them (KV cache). Fixtures: scripts/make-family-fixtures.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familyFixture, type FamilyFixture } from '../helpers/familyFixtures';
import { loadModel } from '../../src/runtime/model/load';
import type { LoadedModel } from '../../src/runtime/model/description';
import { DecoderSession } from '../../src/runtime/session/decoderSession';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import { generateGreedy } from '../../src/runtime/generate';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';

/** max |a - b| / max |b|: logits compared relative to their scale. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

async function checkAgainstTransformers(model: LoadedModel, fixture: FamilyFixture): Promise<void> {
  const { reference } = fixture;
  const tokenizer = Tokenizer.forModel(model);
  assert.deepEqual(tokenizer.encode(reference.long_prompt, { addBos: false }), reference.long_ids, 'prompt ids');
  assert.deepEqual(tokenizer.encode(reference.short_prompt, { addBos: false }), reference.short_ids, 'short prompt ids');

  const session = await DecoderSession.create(model, { logits: 'last', kvCache: false });
  const ids = reference.long_ids;
  const out = await session.forward(embedTokens(model, ids), [1, ids.length], new BigInt64Array(ids.length).fill(1n));
  const error = relativeError(out.logits!.data, fixture.logits);
  assert.ok(error <= 1e-4, `last-position logits differ from transformers by ${error} (relative)`);

  const generated = await generateGreedy(model, reference.short_ids, { maxNewTokens: reference.greedy_ids.length, eos: null });
  assert.deepEqual(generated.ids[0], reference.greedy_ids, 'greedy continuation');
}

/** A copy with every number rounded to float32. */
function asFloat32(value: unknown): unknown {
  if (typeof value === 'number') return Math.fround(value);
  if (Array.isArray(value)) return value.map(asFloat32);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asFloat32(v)]));
  return value;
}

for (const family of ['qwen3', 'phi3', 'gemma2', 'gemma3', 'mistral']) {
  test(`${family}: Hugging Face folder and GGUF match transformers (logits, greedy tokens)`, async () => {
    const fixture = familyFixture(family);
    const hf = await loadModel(fixture.hfDir);
    assert.equal(hf.config.architecture, family);
    await checkAgainstTransformers(hf, fixture);
    if (!fixture.reference.gguf) return;
    const gguf = await loadModel(fixture.ggufPath);
    // The two forms describe the same model: one config (GGUF stores its floats as float32), the same weights.
    assert.deepEqual(asFloat32(gguf.config), asFloat32(hf.config));
    for (const [name, tensor] of hf.weights) {
      const other = gguf.weights.get(name);
      assert.ok(other, `GGUF lacks ${name}`);
      assert.ok(relativeError(other.data, tensor.data) <= 1e-6, name);
    }
    await checkAgainstTransformers(gguf, fixture);
  });
}
