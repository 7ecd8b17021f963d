// The table of bench/gpu.sh's run: tokens/s of tagllm on each provider beside PyTorch on CUDA,
// for the same shapes, from the JSON lines in the output folder. Prints markdown for bench/RESULTS.md.
//   node bench/gpu-summary.mjs OUT_DIR
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const dir = process.argv[2];
const lines = (file) => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) : []);
const name = (model) => basename(String(model)).replace(/^random:/, '').replace(/\.gguf$/, '');

const ours = lines('bench.jsonl');
const torch = lines('pytorch-cuda.jsonl');
const key = (r) => `${name(r.model)}|${r.mode}|${r.batch}`;
const table = new Map();
for (const r of ours) {
  const row = table.get(key(r)) ?? { model: name(r.model), mode: r.mode, batch: r.batch };
  // A run that asked for a GPU and fell back is not that GPU's figure.
  row[r.provider] = r.tokens_per_s;
  table.set(key(r), row);
}
for (const r of torch) {
  const row = table.get(key(r));
  if (row) row.torch = r.tokens_per_s;
}

const providers = ['webgpu', 'cuda', 'cpu'].filter((p) => [...table.values()].some((r) => r[p] !== undefined));
const ratio = (a, b) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}×` : '–');
const cell = (x) => (x === undefined ? '–' : String(x));
console.log(readFileSync(join(dir, 'machine.txt'), 'utf8').trim().split('\n').map((l) => `    ${l}`).join('\n'));
console.log('\ntokens/s (forward: batch × 64 tokens; generate: new tokens with the KV cache; train: batch × 64 tokens per step), higher is better:\n');
console.log(`| model | mode | batch | ${providers.map((p) => `tagllm ${p}`).join(' | ')} | PyTorch CUDA | ${providers.filter((p) => p !== 'cpu').map((p) => `${p} ÷ cpu | ${p} ÷ PyTorch`).join(' | ')} |`);
console.log(`| --- | --- | --- | ${providers.map(() => '---').join(' | ')} | --- | ${providers.filter((p) => p !== 'cpu').map(() => '--- | ---').join(' | ')} |`);
for (const r of table.values()) {
  const gpuRatios = providers.filter((p) => p !== 'cpu').map((p) => `${ratio(r[p], r.cpu)} | ${ratio(r[p], r.torch)}`);
  console.log(`| ${r.model} | ${r.mode} | ${r.batch} | ${providers.map((p) => cell(r[p])).join(' | ')} | ${cell(r.torch)} | ${gpuRatios.join(' | ')} |`);
}
