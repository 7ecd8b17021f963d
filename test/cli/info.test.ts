// `tagllm info` through the built CLI (dist/cli.js, made by `npm run build`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { dataPath } from '../helpers/data';

const cli = resolve(__dirname, '../../dist/cli.js');

function tagllm(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

test('info --json reports stories260K: 292800 parameters and its shapes', () => {
  const run = tagllm('info', '--model', dataPath('models', 'stories260K.gguf'), '--json');
  assert.equal(run.status, 0, run.stderr);
  const info = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.equal(info.parameters, 292800);
  assert.equal(info.architecture, 'llama');
  assert.equal(info.layers, 5);
  assert.equal(info.hiddenSize, 64);
  assert.equal(info.heads, 8);
  assert.equal(info.kvHeads, 4);
  assert.equal(info.vocabSize, 512);
  assert.equal(info.tokenizer, 'llama');
  assert.equal(info.format, 'gguf');
  // 292800 float32 values x 4.5 copies at peak + KV cache (2 x 5 layers x 4 KV heads x 8 x 2048 x 4 bytes) + 300 MiB
  assert.equal(info.memoryEstimateBytes, 292800 * 4 * 4.5 + 2 * 5 * 4 * 8 * 2048 * 4 + 300 * 2 ** 20);
});

test('info prints readable text by default', () => {
  const run = tagllm('info', '--model', dataPath('models', 'tiny-bpe-llama.gguf'));
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^parameters\s+217,408$/m);
  assert.match(run.stdout, /^tokenizer\s+gpt2$/m);
  assert.match(run.stdout, /^heads\s+4 \(2 KV heads, head size 16\)$/m);
  assert.match(run.stdout, /^memory\s+about 0\.\d\d GB at peak \(weights 0\.00 GB, KV cache of 2048 tokens 0\.0\d GB, runtime 0\.31 GB\)$/m);
});

test('info on a file that is not a model fails with one line naming it', () => {
  const notModel = dataPath('models', 'stories260K.reference.json');
  const run = tagllm('info', '--model', notModel);
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.ok(run.stderr.includes(notModel) && run.stderr.includes('not a GGUF file'), run.stderr);
});

test('info on a Hugging Face folder agrees with its GGUF twin', () => {
  const folder = JSON.parse(tagllm('info', '--model', dataPath('models', 'tiny-bpe-llama-hf'), '--json').stdout);
  const gguf = JSON.parse(tagllm('info', '--model', dataPath('models', 'tiny-bpe-llama.gguf'), '--json').stdout);
  assert.equal(folder.format, 'hf');
  for (const key of ['architecture', 'parameters', 'layers', 'hiddenSize', 'heads', 'kvHeads', 'headDim', 'vocabSize', 'tokenizer', 'tiedEmbeddings']) {
    assert.deepEqual(folder[key], gguf[key], key);
  }
  assert.equal(folder.parameters, 217408);
});
