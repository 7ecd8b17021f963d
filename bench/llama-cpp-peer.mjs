// The llama.cpp peer of `tagllm bench profile`: the same measurements on the same GGUF file,
// through node-llama-cpp's prebuilt CPU binary (never built or downloaded here), printed as one
// JSON line with the same field names. Run it in its own process, one file per process:
//   node bench/llama-cpp-peer.mjs --model FILE.gguf [--seq 64] [--new-tokens 32] [--repeats 5]
// Peak RSS is getrusage's maxRSS in MiB. Threads: one per core this process may run on (taskset narrows it), as onnxruntime takes.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { getLlama, getModuleVersion, LlamaLogLevel } from 'node-llama-cpp';

// The same token ids as `tagllm bench` (row r shifted by r), so both engines see one input.
const benchTokens = (vocab, count, row) => Array.from({ length: count }, (_, i) => ((i + row * count) * 7919 + 13) % vocab);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 100) / 100;
/** Tokens per second of wall time and per second of process CPU time, medians over the timings. */
const rates = (name, tokens, timings) => ({
  [`${name}_tokens_per_s`]: round((tokens * 1000) / median(timings.map((t) => t.ms))),
  [`${name}_tokens_per_cpu_s`]: round((tokens * 1000) / median(timings.map((t) => t.cpuMs))),
});

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    seq: { type: 'string', default: '64' },
    'new-tokens': { type: 'string', default: '32' },
    repeats: { type: 'string', default: '5' },
  },
});
if (!values.model) throw new Error('--model FILE.gguf is required');
const seq = Number(values.seq);
const newTokens = Number(values['new-tokens']);
const repeats = Number(values.repeats);
const prefillBatch = 8;
const threads = availableParallelism();

const loadStart = performance.now();
const llama = await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, logLevel: LlamaLogLevel.error, maxThreads: threads });
const model = await llama.loadModel({ modelPath: values.model, gpuLayers: 0 });
const context = await model.createContext({
  sequences: prefillBatch,
  contextSize: prefillBatch * (seq + newTokens + 16),
  batchSize: prefillBatch * seq,
  threads,
});
const loadMs = performance.now() - loadStart;
const sequences = Array.from({ length: prefillBatch }, () => context.getSequence());
const vocab = model.tokens.vocabSize ?? model.fileInsights.vocabularySize;
const rows = sequences.map((_, r) => benchTokens(vocab, seq, r));

/** Wall and process CPU milliseconds of `work` (CPU time counts every thread; a busy machine inflates it far less than wall time). */
async function timed(work) {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

/** One prefill of `batch` rows of `seq` tokens from an empty cache; llama.cpp batches rows queued together into one decode. */
async function prefill(batch) {
  await Promise.all(sequences.slice(0, batch).map((s) => s.clearHistory()));
  return timed(() => Promise.all(sequences.slice(0, batch).map((s, r) => s.evaluateWithoutGeneratingNewTokens(rows[r]))));
}

const first = await prefill(1);
const firstForwardMs = performance.now(); // since the process started: module load, model load, first forward
const prefillTimes = { 1: [], [prefillBatch]: [] };
for (let i = 0; i < repeats; i++) for (const b of [1, prefillBatch]) prefillTimes[b].push(await prefill(b));

// Decode: the prompt, then one token per step through the KV cache (greedy; the values are random).
const decodeTimes = [];
for (let i = 0; i < repeats; i++) {
  await sequences[0].clearHistory();
  const steps = sequences[0].evaluate(rows[0], { temperature: 0 });
  await steps.next(); // prompt and first sampled token
  decodeTimes.push(await timed(async () => {
    for (let n = 0; n < newTokens; n++) await steps.next();
  }));
  await steps.return();
}

const result = {
  engine: 'llama.cpp',
  version: await getModuleVersion(),
  model: values.model,
  threads,
  load_ms: round(loadMs),
  first_forward_ms: round(firstForwardMs),
  first_prefill_ms: round(first.ms),
  ...rates('prefill_b1', seq, prefillTimes[1]),
  ...rates(`prefill_b${prefillBatch}`, prefillBatch * seq, prefillTimes[prefillBatch]),
  ...rates('decode', newTokens, decodeTimes),
  peak_rss_mb: round(process.resourceUsage().maxRSS / 1024), // getrusage: KiB
};
process.stdout.write(JSON.stringify(result) + '\n');
await context.dispose();
await model.dispose();
await llama.dispose();
