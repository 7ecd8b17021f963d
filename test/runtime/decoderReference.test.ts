// The decoder graph against transformers' outputs for the same files (shared reference JSON):
// last-position logits, final hidden state, mean next-token NLL and greedy ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { loadModel } from '../../src/runtime/model/load';
import { exportHfFolder } from '../../src/runtime/model/hf/export';
import { DecoderSession } from '../../src/runtime/session/decoderSession';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import type { LoadedModel } from '../../src/runtime/model/description';

interface StoriesCase {
  text: string;
  input_ids_with_bos: number[];
  last_logits: number[];
  /** Absent from the Q8_0 reference. */
  last_hidden_after_norm?: number[];
  mean_nll_next_token: number;
  greedy_continuation_ids: number[];
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Mean over positions t of -log softmax(logits[t])[ids[t+1]]. */
function meanNextTokenNll(logits: Float32Array, ids: number[], vocab: number): number {
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let z = 0;
    for (const x of row) z += Math.exp(x - max);
    sum += max + Math.log(z) - row[ids[t + 1]];
  }
  return sum / (ids.length - 1);
}

async function greedyIdsByRecomputation(model: LoadedModel, session: DecoderSession, prompt: number[], n: number): Promise<number[]> {
  const ids = [...prompt];
  const vocab = model.config.vocabSize;
  for (let i = 0; i < n; i++) {
    const { logits } = await session.forward(embedTokens(model, ids), [1, ids.length], new BigInt64Array(ids.length).fill(1n));
    const last = logits!.data.subarray((ids.length - 1) * vocab);
    let best = 0;
    for (let v = 1; v < vocab; v++) if (last[v] > last[best]) best = v;
    ids.push(best);
  }
  return ids.slice(prompt.length);
}

for (const file of ['stories260K', 'stories260K-Q8_0']) {
  test(`${file}: logits, hidden state, NLL and greedy ids match transformers`, async () => {
    const ref = JSON.parse(readFileSync(dataPath('models', `${file}.reference.json`), 'utf8')) as { cases: StoriesCase[] };
    const model = await loadGgufModel(dataPath('models', `${file}.gguf`));
    // Exact quantized products (accuracy_level 0): the reference is transformers in float32 on
    // the dequantized weights.
    const session = await DecoderSession.create(model, { logits: 'all', kvCache: false, quantizedMatMul: 'exact' });
    const vocab = model.config.vocabSize;
    for (const c of ref.cases) {
      const ids = c.input_ids_with_bos;
      const { hidden, logits } = await session.forward(embedTokens(model, ids), [1, ids.length], new BigInt64Array(ids.length).fill(1n));
      const lastLogits = logits!.data.subarray((ids.length - 1) * vocab);
      const H = model.config.hiddenSize;
      const lastHidden = hidden.data.subarray((ids.length - 1) * H);
      assert.ok(maxAbsDiff(lastLogits, c.last_logits) < 1e-4, `${c.text}: logits max diff ${maxAbsDiff(lastLogits, c.last_logits)}`);
      if (c.last_hidden_after_norm) {
        assert.ok(maxAbsDiff(lastHidden, c.last_hidden_after_norm) < 1e-4, `${c.text}: hidden max diff ${maxAbsDiff(lastHidden, c.last_hidden_after_norm)}`);
      }
      assert.ok(Math.abs(meanNextTokenNll(logits!.data, ids, vocab) - c.mean_nll_next_token) < 1e-4);
      assert.deepEqual(await greedyIdsByRecomputation(model, session, ids, 6), c.greedy_continuation_ids.slice(0, 6));
    }
  });
}

async function lastLogits(model: LoadedModel, ids: number[]): Promise<Float32Array> {
  const session = await DecoderSession.create(model, { logits: 'last', kvCache: false });
  const { logits } = await session.forward(embedTokens(model, ids), [1, ids.length], new BigInt64Array(ids.length).fill(1n));
  return logits!.data;
}

for (const file of ['tiny-bpe-llama.gguf', 'tiny-bpe-llama-hf']) {
  test(`${file}: last logits match transformers`, async () => {
    const ref = JSON.parse(readFileSync(dataPath('models', 'tiny-bpe-llama.reference.json'), 'utf8')) as { prompt_ids: number[]; last_logits: number[] };
    const logits = await lastLogits(await loadModel(dataPath('models', file)), ref.prompt_ids);
    assert.ok(maxAbsDiff(logits, ref.last_logits) < 1e-4, `max diff ${maxAbsDiff(logits, ref.last_logits)}`);
  });
}

test('stories260K exported to a Hugging Face folder and loaded back gives the GGUF logits', async () => {
  const ref = JSON.parse(readFileSync(dataPath('models', 'stories260K.reference.json'), 'utf8')) as { cases: StoriesCase[] };
  const gguf = await loadModel(dataPath('models', 'stories260K.gguf'));
  const dir = join(mkdtempSync(join(tmpdir(), 'tagllm-export-')), 'stories260K-hf');
  try {
    await exportHfFolder(gguf, dir);
    const hf = await loadModel(dir);
    for (const c of ref.cases) {
      const fromHf = await lastLogits(hf, c.input_ids_with_bos);
      assert.ok(maxAbsDiff(fromHf, await lastLogits(gguf, c.input_ids_with_bos)) < 1e-6);
      assert.ok(maxAbsDiff(fromHf, c.last_logits) < 1e-4);
    }
  } finally {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
});
