// export-hf: a GGUF model written as a Hugging Face folder loads back (loadHfFolder) with the
// same config, bit-identical float32 weights, the same special tokens and the same token ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { loadHfFolder } from '../../src/runtime/model/hf/loadFolder';
import { exportHfFolder } from '../../src/runtime/model/hf/export';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { UsageError } from '../../src/runtime/errors';
import type { LoadedModel } from '../../src/runtime/model/description';
import { floatWeights } from '../helpers/weights';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function assertSameWeights(a: LoadedModel, b: LoadedModel): void {
  assert.deepEqual([...floatWeights(a).keys()].sort(), [...floatWeights(b).keys()].sort());
  for (const [name, tensor] of floatWeights(a)) {
    const other = floatWeights(b).get(name)!;
    assert.deepEqual(other.shape, tensor.shape, name);
    assert.ok(Buffer.from(other.data.buffer, other.data.byteOffset, other.data.byteLength)
      .equals(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)), `${name} bit-identical`);
  }
}

const readJson = (...parts: string[]) => JSON.parse(readFileSync(join(...parts), 'utf8'));

test('stories260K.gguf exports to a folder that loads back with identical config, weights and token ids', async (t) => {
  const out = join(tempDir(t), 'stories260K-hf');
  const gguf = await loadGgufModel(dataPath('models', 'stories260K.gguf'));
  await exportHfFolder(gguf, out);
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);

  const hf = await loadHfFolder(out);
  assert.deepEqual(hf.config, gguf.config);
  assert.deepEqual(hf.specialTokens, gguf.specialTokens);
  assertSameWeights(gguf, hf);

  const cases = JSON.parse(readFileSync(dataPath('models', 'stories260K.reference.json'), 'utf8')).cases as { text: string; input_ids_with_bos: number[] }[];
  const tokenizer = Tokenizer.forModel(hf);
  for (const c of cases) assert.deepEqual(tokenizer.encode(c.text), c.input_ids_with_bos, c.text);

  // What transformers reads besides the weights.
  const config = readJson(out, 'config.json');
  assert.equal(config.architectures[0], 'LlamaForCausalLM');
  assert.equal(config.tie_word_embeddings, gguf.config.tieWordEmbeddings);
  assert.deepEqual(readJson(out, 'tokenizer_config.json').add_bos_token, true);
  assert.equal(readJson(out, 'tokenizer_config.json').bos_token, '<s>');
  assert.deepEqual(readJson(out, 'generation_config.json'), { bos_token_id: 1, eos_token_id: 2 });
});

test('a Q8_0 GGUF exports its dequantized weights as float32', async (t) => {
  const out = join(tempDir(t), 'q8-hf');
  const gguf = await loadGgufModel(dataPath('models', 'stories260K-Q8_0.gguf'));
  await exportHfFolder(gguf, out);
  assertSameWeights(gguf, await loadHfFolder(out));
});

test('the byte-level BPE tiny-bpe-llama.gguf exports a tokenizer.json that reproduces the reference ids', async (t) => {
  const out = join(tempDir(t), 'tiny-hf');
  const gguf = await loadGgufModel(dataPath('models', 'tiny-bpe-llama.gguf'));
  await exportHfFolder(gguf, out);
  const hf = await loadHfFolder(out);
  assert.deepEqual(hf.specialTokens, { bos: 0, eos: 0, addBos: false });
  const reference = JSON.parse(readFileSync(dataPath('models', 'tiny-bpe-llama.reference.json'), 'utf8'));
  const tokenizer = Tokenizer.forModel(hf);
  for (const c of reference.tokenization) assert.deepEqual(tokenizer.encode(c.text), c.ids, c.text);
  assertSameWeights(gguf, hf);
});

test('exporting into a non-empty folder is refused and leaves nothing behind', async (t) => {
  const parent = tempDir(t);
  const out = join(parent, 'taken');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const gguf = await loadGgufModel(dataPath('models', 'stories260K.gguf'));
  await assert.rejects(exportHfFolder(gguf, out), (e: unknown) => e instanceof UsageError && e.message.startsWith(out));
  assert.deepEqual(readdirSync(parent), ['taken']);
  assert.deepEqual(readdirSync(out), ['keep.txt']);
});

test('tagllm export-hf writes the folder from the command line', (t) => {
  const out = join(tempDir(t), 'cli-hf');
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  const help = run('export-hf', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--out DIR/);
  const result = run('export-hf', '--model', dataPath('models', 'stories260K.gguf'), '--out', out);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim().split('\n').at(-1), out);
  assert.ok(readdirSync(out).includes('model.safetensors'));
  const missing = run('export-hf', '--model', dataPath('models', 'stories260K.gguf'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing --out/);
});
