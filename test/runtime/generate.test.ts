// Greedy generation with the KV cache against transformers' greedy continuations, and a
// left-padded batch against the same prompts one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { spawnSync } from 'node:child_process';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { loadModel } from '../../src/runtime/model/load';
import { generateFromEmbeddings, generateGreedy } from '../../src/runtime/generate';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import { Tokenizer, asTokenIds } from '../../src/runtime/tokenizer/tokenizer';

interface StoriesReference {
  cases: { text: string; input_ids_with_bos: number[]; greedy_continuation_ids: number[]; greedy_continuation_text: string }[];
}

for (const file of ['stories260K', 'stories260K-Q8_0']) {
  test(`${file}: 24 greedy tokens with the KV cache equal transformers' ids and text`, async () => {
    const ref = JSON.parse(readFileSync(dataPath('models', `${file}.reference.json`), 'utf8')) as StoriesReference;
    const model = await loadGgufModel(dataPath('models', `${file}.gguf`));
    const tokenizer = Tokenizer.forModel(model);
    for (const c of ref.cases) {
      const { ids } = await generateGreedy(model, c.input_ids_with_bos, { maxNewTokens: 24 });
      assert.deepEqual(ids[0], c.greedy_continuation_ids, c.text);
      assert.equal(tokenizer.decode(asTokenIds(ids[0]), { skipSpecialTokens: true }), c.greedy_continuation_text);
    }
  });
}

for (const file of ['tiny-bpe-llama.gguf', 'tiny-bpe-llama-hf']) {
  test(`${file}: 12 greedy tokens equal transformers`, async () => {
    const ref = JSON.parse(readFileSync(dataPath('models', 'tiny-bpe-llama.reference.json'), 'utf8')) as { prompt_ids: number[]; greedy_ids_12: number[] };
    const model = await loadModel(dataPath('models', file));
    const { ids } = await generateGreedy(model, ref.prompt_ids, { maxNewTokens: 12, eos: null });
    assert.deepEqual(ids[0], ref.greedy_ids_12);
  });
}

test('tagllm generate prints the reference continuation on the last stdout line', () => {
  const ref = JSON.parse(readFileSync(dataPath('models', 'stories260K.reference.json'), 'utf8')) as StoriesReference;
  // One prompt through the CLI (each run starts a process); the library test above covers all three.
  for (const c of ref.cases.slice(0, 1)) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'generate', '--model', dataPath('models', 'stories260K.gguf'), '--prompt', c.text, '--max-new-tokens', '24'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trimEnd().split('\n').at(-1), c.greedy_continuation_text);
    assert.match(run.stderr, /provider cpu|provider cuda/);
  }
});

test('a left-padded batch generates what each prompt generates alone', async () => {
  const ref = JSON.parse(readFileSync(dataPath('models', 'stories260K.reference.json'), 'utf8')) as StoriesReference;
  const model = await loadGgufModel(dataPath('models', 'stories260K.gguf'));
  const prompts = ref.cases.map((c) => c.input_ids_with_bos);
  const seq = Math.max(...prompts.map((p) => p.length));
  const H = model.config.hiddenSize;
  const embeds = new Float32Array(prompts.length * seq * H);
  const mask = new BigInt64Array(prompts.length * seq);
  prompts.forEach((ids, r) => {
    const pad = seq - ids.length;
    embeds.set(embedTokens(model, ids), (r * seq + pad) * H);
    mask.fill(1n, r * seq + pad, (r + 1) * seq);
  });
  const { ids } = await generateFromEmbeddings(model, { embeds, batch: prompts.length, seq, mask }, { maxNewTokens: 24 });
  assert.deepEqual(ids, ref.cases.map((c) => c.greedy_continuation_ids));
});
