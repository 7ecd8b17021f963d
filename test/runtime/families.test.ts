// Every model family against Hugging Face transformers: a random-weight model of the family's
// real configuration (shrunk, every switch kept) loads from its Hugging Face folder and from a
// GGUF in llama.cpp's layout, and gives transformers' last-position logits for a prompt longer
// than its sliding window / original RoPE context and transformers' greedy continuation of a
// prompt that grows past them (KV cache). Fixtures: scripts/make-family-fixtures.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonExecutable } from '../helpers/python';
import { exportHfFolder } from '../../src/runtime/model/hf/export';
import { familyFixture, type FamilyFixture } from '../helpers/familyFixtures';
import { loadModel } from '../../src/runtime/model/load';
import { floatTensor } from '../../src/runtime/model/tensor';
import { parseHfConfig, toHfConfigJson } from '../../src/runtime/model/hf/config';
import type { LoadedModel } from '../../src/runtime/model/description';
import { DecoderSession } from '../../src/runtime/session/decoderSession';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import { generateGreedy } from '../../src/runtime/generate';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { seededRandom } from '../helpers/gradcheck';
import { trainSession, type TrainBatch } from '../../src/runtime/session/trainSession';
import type { LinearHead } from '../../src/runtime/tags/head';
import type { ReadSpan } from '../../src/runtime/tags/readout';
import { relativeMaxError } from '../helpers/compare';

async function checkAgainstTransformers(model: LoadedModel, fixture: FamilyFixture): Promise<void> {
  const { reference } = fixture;
  const tokenizer = Tokenizer.forModel(model);
  assert.deepEqual(tokenizer.encode(reference.long_prompt, { addBos: false }), reference.long_ids, 'prompt ids');
  assert.deepEqual(tokenizer.encode(reference.short_prompt, { addBos: false }), reference.short_ids, 'short prompt ids');

  const session = await DecoderSession.create(model, { logits: 'last', kvCache: false });
  const ids = reference.long_ids;
  const out = await session.forward(embedTokens(model, ids), [1, ids.length], new BigInt64Array(ids.length).fill(1n));
  const error = relativeMaxError(out.logits!.data, fixture.logits);
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
      assert.ok(relativeMaxError(floatTensor(other).data, floatTensor(tensor).data) <= 1e-6, name);
    }
    await checkAgainstTransformers(gguf, fixture);
    if (family === 'gemma3') {
      // Ollama's form of the same model: other key names, a per-layer pattern, vision tensors beside it.
      const ollama = await loadModel(join(fixture.dir, 'model-ollama.gguf'));
      assert.deepEqual(asFloat32(ollama.config), asFloat32(gguf.config));
      assert.deepEqual([...ollama.weights.keys()].sort(), [...gguf.weights.keys()].sort());
      await checkAgainstTransformers(ollama, fixture);
    }
    // `tagllm export-hf` writes a config.json that reads back as the same config.
    assert.deepEqual(asFloat32(parseHfConfig(toHfConfigJson(gguf.config, {}), 'config.json')), asFloat32(gguf.config));
  });
}

// The tag-training backward goes through every family switch (soft caps, GeGLU, (1 + w) norms,
// q/k norms, partial rotary, sliding windows): a tag's gradient against central differences.
for (const family of ['gemma2', 'gemma3', 'phi3', 'qwen3']) {
  test(`${family}: a tag's gradient through the family's decoder matches central differences`, async () => {
    const model = await loadModel(familyFixture(family).hfDir);
    const ids = familyFixture(family).reference.long_ids.slice(0, 12);
    const H = model.config.hiddenSize;
    const rand = seededRandom(5);
    const tag = Float32Array.from({ length: 2 * H }, () => (rand() - 0.5) * 0.5);
    const at = 3;
    const batchWith = (t: Float32Array): TrainBatch => {
      const embeds = new Float32Array((ids.length + 2) * H);
      embeds.set(embedTokens(model, ids.slice(0, at)), 0);
      embeds.set(t, at * H);
      embeds.set(embedTokens(model, ids.slice(at)), (at + 2) * H);
      return { batchSize: 1, seqLength: ids.length + 2, hiddenSize: H, inputsEmbeds: embeds, attentionMask: new BigInt64Array(ids.length + 2).fill(1n) };
    };
    const head: LinearHead = { outputs: 3, hiddenSize: H, weight: Float32Array.from({ length: 3 * H }, () => rand() - 0.5), bias: new Float32Array(3) };
    const spans: ReadSpan[] = [{ start: ids.length, length: 2 }];
    const session = await trainSession(model, { provider: 'cpu' });
    const step = (t: Float32Array) => session.classificationStep(batchWith(t), spans, Int32Array.of(1), head);
    const analytic = (await step(tag)).dInputsEmbeds.subarray(at * H, (at + 2) * H);
    const order = Array.from(analytic.keys()).sort((a, b) => Math.abs(analytic[b]!) - Math.abs(analytic[a]!));
    const eps = 1e-2;
    for (const k of order.slice(0, 3)) {
      const moved = (d: number) => Object.assign(tag.slice(), { [k]: tag[k]! + d });
      const numeric = ((await step(moved(eps))).loss - (await step(moved(-eps))).loss) / (2 * eps);
      const rel = Math.abs(numeric - analytic[k]!) / Math.abs(analytic[k]!);
      assert.ok(rel < 1e-2, `d loss / d tag[${k}]: analytic ${analytic[k]}, central difference ${numeric}`);
    }
  });
}

test('export-hf of each family GGUF gives a folder transformers loads, with the reference logits', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tagllm-family-export-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const families = ['qwen3', 'phi3', 'gemma2', 'gemma3'];
  for (const family of families) await exportHfFolder(await loadModel(familyFixture(family).ggufPath), join(out, family));
  const script = `
import json, sys, numpy as np, torch, transformers
torch.set_grad_enabled(False)
for family, folder, ids, logits in json.loads(sys.stdin.read()):
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, attn_implementation='eager').eval()
    ref = np.fromfile(logits, dtype='<f4')
    got = model(torch.tensor([ids])).logits[0, -1].numpy()
    print(family, type(model).__name__, float(np.abs(got - ref).max() / np.abs(ref).max()))
`;
  const input = families.map((f) => [f, join(out, f), familyFixture(f).reference.long_ids, join(familyFixture(f).dir, 'logits.f32')]);
  const run = spawnSync(pythonExecutable(), ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => l.split(' '));
  assert.deepEqual(lines.map((l) => l[1]), ['Qwen3ForCausalLM', 'Phi3ForCausalLM', 'Gemma2ForCausalLM', 'Gemma3ForCausalLM']);
  for (const [family, , error] of lines) assert.ok(Number(error) <= 1e-5, `${family}: transformers on the exported folder differs by ${error}`);
});
