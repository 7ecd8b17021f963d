// `npm run bench`: decoder speed on this machine through `tagllm bench`, each configuration in
// its own process (so one model's memory does not slow the next), with the MatMul ceiling
// measured in the same run. Prints markdown tables for bench/RESULTS.md.
//   node bench/run-bench.mjs [decoder] [llama-peer] [recognize] [options]   (no part: all three)
//   --shapes S,S   llama-peer: GGUF shapes (default smollm2-135m,llama-3.2-1b)
//   --types T,T    llama-peer: GGUF types (default Q4_0,Q8_0,Q4_K)
//   --starts N     llama-peer: processes per engine and file, the first cold (default 2)
//   --repeats N    llama-peer: timed repeats inside each process (default 5)
//   --cores C,C    llama-peer: `all` cores and/or `1` (taskset -c 0) (default all,1)
//   TAGLLM_DATA_DIR  shared data folder (default /work/shared/data)
//   TAGLLM_MODEL     the real model to measure (default $TAGLLM_DATA_DIR/models/stories260K.gguf)
//   TAGLLM_PYTHON    the Python with the gguf package that writes the GGUF files (default .venv/bin/python)
//   TAGLLM_BENCH_GGUF_DIR  where the random GGUF files are cached (default $TMPDIR/tagllm-bench-gguf)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cpus, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { PEER_SHAPES, PEER_TYPES, runLlamaPeer } from './llama-peer.mjs';

const { values: options, positionals: parts } = parseArgs({
  allowPositionals: true,
  options: {
    shapes: { type: 'string', default: Object.keys(PEER_SHAPES).join(',') },
    types: { type: 'string', default: PEER_TYPES.join(',') },
    starts: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '5' },
    cores: { type: 'string', default: 'all,1' },
  },
});
const PARTS = ['decoder', 'llama-peer', 'recognize'];
for (const p of parts) if (!PARTS.includes(p)) throw new Error(`unknown part "${p}"; parts: ${PARTS.join(', ')}`);
const runs = (part) => parts.length === 0 || parts.includes(part);
const list = (s, known, what) => s.split(',').map((x) => {
  if (!known.includes(x)) throw new Error(`unknown ${what} "${x}"; known: ${known.join(', ')}`);
  return x;
});

const dataDir = process.env.TAGLLM_DATA_DIR ?? '/work/shared/data';
const realModel = process.env.TAGLLM_MODEL ?? join(dataDir, 'models', 'stories260K.gguf');

function bench(args) {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'bench', ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`tagllm bench ${args.join(' ')} failed:\n${r.stderr}`);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  process.stderr.write(`${args.join(' ')} -> ${JSON.stringify(result)}\n`);
  return result;
}

if (runs('decoder')) benchDecoder();
if (runs('llama-peer')) {
  runLlamaPeer({
    dataDir,
    shapes: list(options.shapes, Object.keys(PEER_SHAPES), 'shape'),
    types: list(options.types, PEER_TYPES, 'type'),
    starts: Number(options.starts),
    repeats: Number(options.repeats),
    coreSettings: list(options.cores, ['all', '1'], 'cores setting').map((c) => c === '1'),
    python: process.env.TAGLLM_PYTHON ?? join('.venv', 'bin', 'python'),
    ggufDir: process.env.TAGLLM_BENCH_GGUF_DIR ?? join(tmpdir(), 'tagllm-bench-gguf'),
  });
}
// Recognition throughput (src/recognize): its own table, from bench/recognize.ts.
if (runs('recognize')) spawnSync(process.execPath, ['--import', 'tsx', 'bench/recognize.ts'], { stdio: 'inherit' });

function benchDecoder() {
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
}
