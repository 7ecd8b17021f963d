// loadModel dispatch, parameter counting, and the in-memory random model used by benchmarks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath } from '../helpers/data';
import { countParameters, loadModel } from '../../src/runtime/model/load';
import { summarizeGguf, summarizeLoaded, tokenizerKind } from '../../src/runtime/model/summary';
import { RANDOM_MODEL_PRESETS, randomLlamaModel } from '../../src/runtime/model/random';
import { expectedWeightShapes } from '../../src/runtime/model/weightShapes';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { UsageError } from '../../src/runtime/errors';
import type { ModelFetcher } from '../../src/runtime/model/sources/fetcher';
import { floatWeights } from '../helpers/weights';

test('stories260K has 292800 stored parameters, loaded or summarized from the header', async () => {
  const path = dataPath('models', 'stories260K.gguf');
  const progress: number[] = [];
  const model = await loadModel(path, { onProgress: (p) => p.phase === 'read' && progress.push(p.bytesDone / p.bytesTotal) });
  assert.equal(countParameters(model), 292800);
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.every((f, i) => i === 0 || f >= progress[i - 1]!));
  const fromHeader = summarizeGguf(path);
  assert.equal(fromHeader.parameters, 292800);
  assert.deepEqual(fromHeader.config, model.config);
  assert.equal(fromHeader.tokenizer, 'llama');
  assert.equal(summarizeLoaded(model).tokenizer, 'llama');
});

test('the tokenizer kind of a GGUF-built tokenizer.json matches the GGUF tokenizer model', async () => {
  const model = await loadModel(dataPath('models', 'tiny-bpe-llama.gguf'));
  assert.equal(tokenizerKind(model.tokenizerJson), 'gpt2');
  assert.equal(summarizeGguf(dataPath('models', 'tiny-bpe-llama.gguf')).tokenizer, 'gpt2');
});

test('loadModel stops at an aborted signal', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(loadModel(dataPath('models', 'stories260K.gguf'), { signal: controller.signal }), { name: 'AbortError' });
});

test('a missing local path is a usage error naming it', async () => {
  await assert.rejects(loadModel('/no/such/model.gguf'), (err: unknown) => err instanceof UsageError && /\/no\/such\/model\.gguf/.test((err as Error).message));
});

test('a Hugging Face repo id is fetched into the cache, with download progress, then loaded', async () => {
  const local = dataPath('models', 'stories260K.gguf');
  const asked: unknown[] = [];
  const fetcher: ModelFetcher = {
    async fetch(spec, cacheDir, onProgress) {
      asked.push({ spec, cacheDir });
      onProgress?.({ file: 'stories260K.gguf', bytesDone: 100, bytesTotal: 100 });
      return local;
    },
  };
  const phases: string[] = [];
  const model = await loadModel('someone/stories/stories260K.gguf', { remote: { fetcher, cacheDir: '/cache' }, onProgress: (p) => phases.push(p.phase) });
  assert.deepEqual(asked, [{ spec: { kind: 'hf-file', repo: 'someone/stories', file: 'stories260K.gguf', revision: 'main' }, cacheDir: '/cache' }]);
  assert.equal(model.source.path, local);
  assert.equal(phases[0], 'download');
  assert.equal(phases.at(-1), 'read');
});

test('randomLlamaModel: every weight of the config, deterministic per seed, norms 1, std about 0.02', () => {
  const config = { ...RANDOM_MODEL_PRESETS['smollm2-135m'], numLayers: 2, vocabSize: 1000 };
  const a = randomLlamaModel(config, 7);
  const b = randomLlamaModel(config, 7);
  const c = randomLlamaModel(config, 8);
  const shapes = expectedWeightShapes(config);
  assert.deepEqual([...floatWeights(a).keys()], [...shapes.keys()]);
  assert.ok(!floatWeights(a).has('lm_head.weight'), 'tied head');
  const q = floatWeights(a).get('model.layers.1.self_attn.q_proj.weight')!;
  assert.deepEqual(q.shape, [576, 576]);
  assert.deepEqual(q.data, floatWeights(b).get('model.layers.1.self_attn.q_proj.weight')!.data);
  assert.notDeepEqual(q.data.subarray(0, 16), floatWeights(c).get('model.layers.1.self_attn.q_proj.weight')!.data.subarray(0, 16));
  let sum = 0;
  let sumSq = 0;
  for (const x of q.data) (sum += x), (sumSq += x * x);
  const mean = sum / q.data.length;
  assert.ok(Math.abs(mean) < 1e-3, `mean ${mean}`);
  assert.ok(Math.abs(Math.sqrt(sumSq / q.data.length - mean * mean) - 0.02) < 1e-3);
  assert.ok(floatWeights(a).get('model.norm.weight')!.data.every((x) => x === 1));
  assert.equal(a.source.format, 'random');
  // The placeholder tokenizer is a valid tokenizer.json.
  assert.equal(Tokenizer.forModel(a).vocabSize, 1);
});

test('smollm2-135m preset has the SmolLM2-135M parameter count', () => {
  const config = RANDOM_MODEL_PRESETS['smollm2-135m'];
  let total = 0;
  for (const shape of expectedWeightShapes(config).values()) total += shape.reduce((x, y) => x * y, 1);
  // SmolLM2-135M: 134,515,008 parameters (tied embeddings).
  assert.equal(total, 134515008);
});
