// The llama.cpp comparison of `npm run bench` (part `llama-peer`): random-weight GGUF files of
// real shapes (scripts/write-random-gguf.py, cached in a temp folder, never in git), each run by
// `tagllm bench profile` and by bench/llama-cpp-peer.mjs, every run in its own process, the two
// engines alternating, on all cores and on one (`taskset -c 0`). The first start of each engine
// on a file is its cold start, the later ones warm. Prints a markdown table with the issue's
// targets; the raw JSON of every run goes to bench/out/llama-peer.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The shapes the writer knows, with the family whose real tokenizer the file carries. */
export const PEER_SHAPES = { 'smollm2-135m': 'smollm2', 'llama-3.2-1b': 'llama3-bpe' };
export const PEER_TYPES = ['Q4_0', 'Q8_0', 'Q4_K'];
const MB = 1024 * 1024;

function ensureGguf(shape, type, { dataDir, ggufDir, python }) {
  const file = join(ggufDir, `${shape}-${type}.gguf`);
  if (existsSync(file)) return file;
  mkdirSync(ggufDir, { recursive: true });
  const tokenizer = join(dataDir, 'tokenizers', PEER_SHAPES[shape], 'tokenizer.json');
  const r = spawnSync(python, ['scripts/write-random-gguf.py', '--shape', shape, '--type', type, '--tokenizer', tokenizer, '--out', `${file}.part`], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`writing ${file} failed`);
  renameSync(`${file}.part`, file);
  return file;
}

/** One engine, one start, in a fresh process (pinned to core 0 when `oneCore`). */
function startEngine(engine, file, oneCore, repeats) {
  const command = engine === 'llama.cpp'
    ? [process.execPath, 'bench/llama-cpp-peer.mjs', '--model', file, '--repeats', String(repeats)]
    : [process.execPath, 'dist/cli.js', 'bench', 'profile', '--model', file, '--repeats', String(repeats), '--json'];
  const argv = oneCore ? ['taskset', '-c', '0', ...command] : command;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, TAGLLM_DEVICE: 'cpu' } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr.slice(-2000)}`);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  process.stderr.write(`${engine} ${oneCore ? '1 core' : 'all cores'} ${file} -> ${JSON.stringify(result)}\n`);
  return result;
}

/** The runtime's load-check estimate of its peak memory for this file (`tagllm info`), in MB. */
function estimateMb(file) {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'info', '--model', file, '--json'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`tagllm info ${file} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)).memoryEstimateBytes / MB;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fixed = (x, digits = 0) => (x === undefined ? '–' : x.toFixed(digits));
const ratio = (x) => `${x.toFixed(2)}×`;
const mark = (ok) => (ok ? '✓' : '✗');

/** Medians over the starts of one engine; the cold start is the first. */
function summarize(runs) {
  const m = (key) => median(runs.map((r) => r[key]));
  return {
    threads: runs[0].threads,
    peakRssMb: Math.max(...runs.map((r) => r.peak_rss_mb)),
    loadColdS: runs[0].load_ms / 1000,
    firstColdS: runs[0].first_forward_ms / 1000,
    firstWarmS: runs.length > 1 ? median(runs.slice(1).map((r) => r.first_forward_ms)) / 1000 : undefined,
    prefill1: m('prefill_b1_tokens_per_s'),
    prefill8: m('prefill_b8_tokens_per_s'),
    decode: m('decode_tokens_per_s'),
    prefill1Cpu: m('prefill_b1_tokens_per_cpu_s'),
    prefill8Cpu: m('prefill_b8_tokens_per_cpu_s'),
    decodeCpu: m('decode_tokens_per_cpu_s'),
  };
}

export function runLlamaPeer({ dataDir, shapes, types, starts, repeats, coreSettings, python, ggufDir = join(tmpdir(), 'tagllm-bench-gguf') }) {
  const raw = [];
  const rows = [];
  const failures = [];
  for (const shape of shapes) {
    for (const type of types) {
      const file = ensureGguf(shape, type, { dataDir, ggufDir, python });
      const fileMb = statSync(file).size / MB;
      const ourEstimateMb = estimateMb(file);
      for (const oneCore of coreSettings) {
        const runs = { 'llama.cpp': [], tagllm: [] };
        try {
          for (let i = 0; i < starts; i++) for (const engine of ['llama.cpp', 'tagllm']) runs[engine].push(startEngine(engine, file, oneCore, repeats));
        } catch (err) {
          // A file this machine cannot hold now (the runtime's memory check) or a failed start: say so and go on with the next.
          failures.push(`${shape} ${type} ${oneCore ? '1 core' : 'all cores'}: ${err.message.split('\n').filter(Boolean).at(-1)}`);
          continue;
        }
        raw.push({ shape, type, file, fileMb, oneCore, runs });
        rows.push({ shape, type, fileMb, ourEstimateMb, oneCore, ours: summarize(runs.tagllm), peer: summarize(runs['llama.cpp']) });
      }
    }
  }
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/llama-peer.json', JSON.stringify(raw, null, 1));

  for (const f of failures) console.log(`Not measured: ${f}`);
  console.log(`\nllama.cpp peer: node-llama-cpp ${raw[0]?.runs['llama.cpp'][0]?.version} (prebuilt CPU binary), on a machine of ${availableParallelism()} cores; ${starts} starts of each engine per file (first cold), ${repeats} timed repeats per start, medians.`);
  console.log('Prefill: 64 tokens from an empty cache; decode: 32 steps after a 64-token prompt. Tokens per second of wall time, then (after /) per second of the');
  console.log('process\'s CPU time, which a busy machine inflates far less (llama.cpp\'s waiting threads spin, so its CPU figure is low with several threads). First forward: seconds since the process started.\n');
  console.log('| file | MiB | threads | engine | peak RSS MiB | load s (cold) | first forward s cold / warm | prefill b1 | prefill b8 | decode |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const both = (wall, cpu) => `${fixed(wall, 1)} / ${fixed(cpu, 1)}`;
  for (const r of rows) {
    for (const [name, s] of [['tagllm', r.ours], ['llama.cpp', r.peer]]) {
      console.log(`| ${r.shape} ${r.type} | ${fixed(r.fileMb)} | ${s.threads} | ${name} | ${fixed(s.peakRssMb)} | ${fixed(s.loadColdS, 1)} | ${fixed(s.firstColdS, 1)} / ${fixed(s.firstWarmS, 1)} | ${both(s.prefill1, s.prefill1Cpu)} | ${both(s.prefill8, s.prefill8Cpu)} | ${both(s.decode, s.decodeCpu)} |`);
    }
  }
  console.log('\nAgainst the targets (tagllm ÷ llama.cpp by wall time / by CPU time, except RSS against its limit):\n');
  console.log('| file | threads | peak RSS MiB ≤ 1.3 × file + 300 | load-check estimate MiB (peak ÷ estimate) | prefill b1 ≥ 1.0× | prefill b8 ≥ 1.0× | decode ≥ 0.8× | first forward (cold) ≤ 3 × llama.cpp load (cold) | first forward warm ÷ llama.cpp warm |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const against = (ours, peer, oursCpu, peerCpu, target) => `${ratio(ours / peer)} / ${ratio(oursCpu / peerCpu)} ${mark(ours / peer >= target && oursCpu / peerCpu >= target)}`;
  for (const r of rows) {
    const limit = 1.3 * r.fileMb + 300;
    const o = r.ours;
    const p = r.peer;
    const first = o.firstColdS / p.loadColdS;
    const warm = o.firstWarmS !== undefined && p.firstWarmS !== undefined ? ratio(o.firstWarmS / p.firstWarmS) : '–';
    console.log(`| ${r.shape} ${r.type} | ${o.threads} | ${fixed(o.peakRssMb)} of ${fixed(limit)} ${mark(o.peakRssMb <= limit)} | ${fixed(r.ourEstimateMb)} (${(o.peakRssMb / r.ourEstimateMb).toFixed(2)}) | ${against(o.prefill1, p.prefill1, o.prefill1Cpu, p.prefill1Cpu, 1)} | ${against(o.prefill8, p.prefill8, o.prefill8Cpu, p.prefill8Cpu, 1)} | ${against(o.decode, p.decode, o.decodeCpu, p.decodeCpu, 0.8)} | ${ratio(first)} ${mark(first <= 3)} | ${warm} |`);
  }
  return rows;
}
