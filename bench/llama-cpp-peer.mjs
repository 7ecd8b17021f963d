// The llama.cpp peer of `tagllm bench profile`: the same measurements on the same GGUF file,
// through node-llama-cpp's prebuilt CPU binary (never built or downloaded here), printed as one
// JSON line with the same field names. Run it in its own process, one file per process:
//   node bench/llama-cpp-peer.mjs --model FILE.gguf [--seq 64] [--new-tokens 32] [--repeats 5]
// Threads: one per core this process may run on (taskset narrows it), as onnxruntime takes.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { getLlama, getModuleVersion, LlamaLogLevel } from 'node-llama-cpp';

// The same token ids as `tagllm bench` (row r shifted by r), so both engines see one input.
const benchTokens = (vocab, count, row) => Array.from({ length: count }, (_, i) => ((i + row * count) * 7919 + 13) % vocab);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 100) / 100;

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

/** One prefill of `batch` rows of `seq` tokens from an empty cache; llama.cpp batches rows queued together into one decode. */
async function prefill(batch) {
  await Promise.all(sequences.slice(0, batch).map((s) => s.clearHistory()));
  const t = performance.now();
  await Promise.all(sequences.slice(0, batch).map((s, r) => s.evaluateWithoutGeneratingNewTokens(rows[r])));
  return performance.now() - t;
}

const firstMs = await prefill(1);
const firstForwardMs = performance.now(); // since the process started: module load, model load, first forward
const prefillTimes = { 1: [], [prefillBatch]: [] };
for (let i = 0; i < repeats; i++) for (const b of [1, prefillBatch]) prefillTimes[b].push(await prefill(b));

// Decode: the prompt, then one token per step through the KV cache (greedy; the values are random).
const decodeTimes = [];
for (let i = 0; i < repeats; i++) {
  await sequences[0].clearHistory();
  const steps = sequences[0].evaluate(rows[0], { temperature: 0 });
  await steps.next(); // prompt and first sampled token
  const t = performance.now();
  for (let n = 0; n < newTokens; n++) await steps.next();
  decodeTimes.push(performance.now() - t);
  await steps.return();
}

const result = {
  engine: 'llama.cpp',
  version: await getModuleVersion(),
  model: values.model,
  threads,
  load_ms: round(loadMs),
  first_forward_ms: round(firstForwardMs),
  first_prefill_ms: round(firstMs),
  prefill_b1_tokens_per_s: round((seq * 1000) / median(prefillTimes[1])),
  [`prefill_b${prefillBatch}_tokens_per_s`]: round((prefillBatch * seq * 1000) / median(prefillTimes[prefillBatch])),
  decode_tokens_per_s: round((newTokens * 1000) / median(decodeTimes)),
  peak_rss_mb: round(process.resourceUsage().maxRSS / 1024), // getrusage: KiB
};
process.stdout.write(JSON.stringify(result) + '\n');
await context.dispose();
await model.dispose();
await llama.dispose();
