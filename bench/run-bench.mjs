// `npm run bench`: decoder speed on this machine through `tagllm bench`, each configuration in
// its own process (so one model's memory does not slow the next), with the MatMul ceiling
// measured in the same run. Prints a markdown table for bench/RESULTS.md.
//   TAGLLM_DATA_DIR  shared data folder (default /work/shared/data)
//   TAGLLM_MODEL     the real model to measure (default $TAGLLM_DATA_DIR/models/stories260K.gguf)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cpus } from 'node:os';

const dataDir = process.env.TAGLLM_DATA_DIR ?? '/work/shared/data';
const realModel = process.env.TAGLLM_MODEL ?? join(dataDir, 'models', 'stories260K.gguf');

function bench(args) {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'bench', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`tagllm bench ${args.join(' ')} failed:\n${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  process.stderr.write(`${args.join(' ')} -> ${JSON.stringify(result)}\n`);
  return result;
}

const ceiling = bench(['matmul', '--size', '2048']);
const rows = [];
for (const [label, source] of [['stories260K', ['--model', realModel]], ['smollm2-135m (random)', ['--shape', 'smollm2-135m']]]) {
  for (const batch of [1, 8]) {
    rows.push({ label, ...bench(['forward', ...source, '--batch', String(batch), '--seq', '64', '--seconds', '3']) });
    rows.push({ label, ...bench(['generate', ...source, '--batch', String(batch), '--seq', '16', '--new-tokens', label.startsWith('smollm') ? '16' : '64']) });
  }
}
const ceilingAgain = bench(['matmul', '--size', '2048']);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`Machine: ${cpus().length} x ${cpu}, onnxruntime-node CPU provider: ${ceiling.provider}`);
console.log(`MatMul ceiling (2048^3, float32): ${ceiling.gflops} GFLOP/s at start, ${ceilingAgain.gflops} GFLOP/s at end\n`);
console.log('| model | mode | batch | tokens | tokens/s | ms/step | GFLOP/s | of ceiling | provider |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const best = Math.max(ceiling.gflops, ceilingAgain.gflops);
for (const r of rows) {
  const tokens = r.mode === 'forward' ? `seq ${r.seq}` : `prompt ${r.prompt_tokens} + ${r.new_tokens} new`;
  const ratio = `${((100 * r.gflops) / best).toFixed(0)}%`;
  console.log(`| ${r.label} | ${r.mode} | ${r.batch} | ${tokens} | ${r.tokens_per_s} | ${r.ms_per_step} | ${r.gflops} | ${ratio} | ${r.provider} |`);
}

// Recognition throughput (src/recognize): its own table, from bench/recognize.ts.
spawnSync(process.execPath, ['--import', 'tsx', 'bench/recognize.ts'], { stdio: 'inherit' });
