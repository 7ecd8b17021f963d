// `tagllm bench forward|generate|matmul`: speed of the decoder on this machine, as one JSON
// object (with --json) that bench/run-bench.mjs and others can script.
//   forward   one full forward of [batch, seq] tokens, repeated: tokens/s = batch*seq / time
//   generate  a seq-token prompt, then new tokens one step at a time with the KV cache:
//             tokens/s = batch * steps / decode time (the prompt is timed separately)
//   matmul    one large float32 MatMul in onnxruntime, the practical GFLOP/s ceiling
//   profile   what bench/llama-cpp-peer.mjs measures of llama.cpp, with the same field names:
//             time to the first forward since the process started, prefill of batch 1 and 8,
//             decode with the KV cache, and the process's peak RSS
import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { CliCommand, ParsedArgs } from '../command';
import { CliUsageError, numberOption, stringOption } from '../command';
import { loadModel } from '../../runtime/model/load';
import { RANDOM_MODEL_PRESETS, isRandomModelPreset, randomLlamaModel } from '../../runtime/model/random';
import type { LoadedModel } from '../../runtime/model/description';
import { DecoderSession } from '../../runtime/session/decoderSession';
import { createOrtSession } from '../../runtime/session/ortSession';
import { embedTokens } from '../../runtime/llama/embedTokens';
import { decoderForwardFlops } from '../../runtime/llama/flops';
import type { LogitsMode } from '../../runtime/llama/decoderGraph';
import { Graph } from '../../runtime/graph/graph';
import { serializeModel } from '../../runtime/graph/serialize';
import { benchTrainStep } from '../../runtime/train/benchTrain';

type BenchResult = Record<string, string | number | boolean>;

export const benchCommand: CliCommand = {
  name: 'bench',
  summary: 'Measure forward / generation speed (tokens/s, GFLOP/s) or the MatMul ceiling',
  help: [
    'Usage: tagllm bench forward|generate|train --model PATH|--shape smollm2-135m [--batch B] [--seq T] [options] [--json]',
    '       (train: one full step with a 10-vector tag at the end: forward, backward to the tag and head, AdamW;',
    '        also timed with backward through every position, as autograd does)',
    '       tagllm bench matmul [--size N] [--json]',
    '       tagllm bench profile --model PATH [--seq T] [--new-tokens N] [--repeats R] [--json]',
    '       (first forward, prefill of batch 1 and 8, decode and peak RSS in one process, as bench/llama-cpp-peer.mjs)',
    '',
    '  --model PATH        a GGUF file or a Hugging Face folder',
    `  --shape NAME        a model with random weights built in memory: ${Object.keys(RANDOM_MODEL_PRESETS).join(', ')}`,
    '  --batch B           rows per forward (default 1)',
    '  --seq T             tokens per row (forward) or prompt tokens (generate) (default 64)',
    '  --new-tokens N      generate: decode steps to time (default 32)',
    '  --logits MODE       forward: none, last or all positions (default all, like a PyTorch forward)',
    '  --seconds S         forward, train: keep repeating for at least S seconds (default 3)',
    '  --prefix N          train: also time the step with the first N positions cached (the stage-3 prefix cache)',
    '  --size N            matmul: N x N times N x N (default 2048)',
    '  --repeats R         profile: timed repeats of each measurement, median reported (default 5)',
    '  --json              print one JSON object',
  ].join('\n'),
  options: {
    model: { type: 'string' },
    shape: { type: 'string' },
    batch: { type: 'string' },
    seq: { type: 'string' },
    'new-tokens': { type: 'string' },
    logits: { type: 'string' },
    seconds: { type: 'string' },
    prefix: { type: 'string' },
    size: { type: 'string' },
    repeats: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const mode = args.positionals[0];
    let result: BenchResult;
    if (mode === 'matmul') result = await benchMatMul(positiveInt(args, 'size', 2048));
    else if (mode === 'forward' || mode === 'generate') {
      const model = await benchModel(args);
      const batch = positiveInt(args, 'batch', 1);
      const seq = positiveInt(args, 'seq', 64);
      result = mode === 'forward'
        ? await benchForward(model, batch, seq, logitsMode(args), numberOption(args, 'seconds', 3))
        : await benchGenerate(model, batch, seq, positiveInt(args, 'new-tokens', 32));
      result = { mode, model: model.source.path, ...result };
    } else if (mode === 'train') {
      const model = await benchModel(args);
      const timing = await benchTrainStep(model, positiveInt(args, 'batch', 1), positiveInt(args, 'seq', 64), numberOption(args, 'seconds', 3), numberOption(args, 'prefix', 0));
      result = { mode, model: model.source.path, ...timing };
    } else if (mode === 'profile') {
      result = await benchProfile(args, positiveInt(args, 'seq', 64), positiveInt(args, 'new-tokens', 32), positiveInt(args, 'repeats', 5));
    } else throw new CliUsageError('bench needs a mode: forward, generate, train, matmul or profile');
    process.stdout.write(args.values.json ? JSON.stringify(result) + '\n' : Object.entries(result).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
  },
};

async function benchModel(args: ParsedArgs): Promise<LoadedModel> {
  const path = stringOption(args, 'model');
  const shape = stringOption(args, 'shape');
  if ((path === undefined) === (shape === undefined)) throw new CliUsageError('give exactly one of --model PATH or --shape NAME');
  if (path !== undefined) return loadModel(path);
  if (!isRandomModelPreset(shape!)) throw new CliUsageError(`unknown --shape "${shape}"; known: ${Object.keys(RANDOM_MODEL_PRESETS).join(', ')}`);
  return randomLlamaModel(RANDOM_MODEL_PRESETS[shape!], 1, shape);
}

function positiveInt(args: ParsedArgs, name: string, fallback: number): number {
  const n = numberOption(args, name, fallback);
  if (!Number.isInteger(n) || n < 1) throw new CliUsageError(`--${name} must be a positive integer, got ${n}`);
  return n;
}

function logitsMode(args: ParsedArgs): LogitsMode {
  const m = stringOption(args, 'logits') ?? 'all';
  if (m !== 'none' && m !== 'last' && m !== 'all') throw new CliUsageError(`--logits must be none, last or all, got "${m}"`);
  return m;
}

/** Token ids spread over the vocabulary, the same on every run. */
function benchTokens(model: LoadedModel, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 7919 + 13) % model.config.vocabSize);
}

async function benchForward(model: LoadedModel, batch: number, seq: number, logits: LogitsMode, minSeconds: number): Promise<BenchResult> {
  const compileStart = performance.now();
  const session = await DecoderSession.create(model, { logits, kvCache: false });
  const compileMs = performance.now() - compileStart;
  const embeds = embedTokens(model, benchTokens(model, batch * seq));
  const mask = new BigInt64Array(batch * seq).fill(1n);
  await session.forward(embeds, [batch, seq], mask); // warm-up: first run allocates and plans
  const times: number[] = [];
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (times.length < 3 || (performance.now() - start < minSeconds * 1000 && times.length < 100)) {
    const t = performance.now();
    await session.forward(embeds, [batch, seq], mask);
    times.push(performance.now() - t);
  }
  const cpuMs = cpuMilliseconds(process.cpuUsage(cpuStart)) / times.length;
  const ms = median(times);
  const flops = decoderForwardFlops(model.config, { batch, seq, past: 0, logitPositions: logits === 'all' ? seq : logits === 'last' ? 1 : 0 });
  return {
    provider: session.provider,
    ...fallbackNote(session.fallbackReason),
    batch,
    seq,
    logits,
    tokens_per_s: round((batch * seq * 1000) / ms),
    ms_per_step: round(ms),
    gflops: round(flops / ms / 1e6),
    cpu_ms_per_step: round(cpuMs),
    runs: times.length,
    compile_ms: round(compileMs),
  };
}

async function benchGenerate(model: LoadedModel, batch: number, seq: number, newTokens: number): Promise<BenchResult> {
  const compileStart = performance.now();
  const session = await DecoderSession.create(model, { logits: 'last', kvCache: true });
  const compileMs = performance.now() - compileStart;
  const prompt = embedTokens(model, benchTokens(model, batch * seq));
  const run = async () => {
    let mask = new BigInt64Array(batch * seq).fill(1n);
    const t0 = performance.now();
    let out = await session.step(prompt, [batch, seq], mask);
    const promptMs = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < newTokens; i++) {
      // Fixed next tokens rather than argmax: the timing is the same and the run is reproducible.
      const next = embedTokens(model, Array.from({ length: batch }, (_, r) => (r + i * 31) % model.config.vocabSize));
      mask = new BigInt64Array(batch * (seq + i + 1)).fill(1n);
      out = await session.step(next, [batch, 1], mask, out.present);
    }
    return { promptMs, decodeMs: performance.now() - t1 };
  };
  await run(); // warm-up
  const cpuStart = process.cpuUsage();
  const { promptMs, decodeMs } = await run();
  const cpuMs = cpuMilliseconds(process.cpuUsage(cpuStart));
  const stepMs = decodeMs / newTokens;
  let flops = 0;
  for (let i = 0; i < newTokens; i++) flops += decoderForwardFlops(model.config, { batch, seq: 1, past: seq + i, logitPositions: 1 });
  return {
    provider: session.provider,
    ...fallbackNote(session.fallbackReason),
    batch,
    prompt_tokens: seq,
    new_tokens: newTokens,
    tokens_per_s: round((batch * 1000) / stepMs),
    ms_per_step: round(stepMs),
    prompt_ms: round(promptMs),
    gflops: round(flops / decodeMs / 1e6),
    cpu_ms_per_run: round(cpuMs),
    compile_ms: round(compileMs),
  };
}

const PROFILE_PREFILL_BATCH = 8;

/**
 * One process's whole life with a model, measured as llama.cpp's peer is: the clock of the
 * first forward starts when the process does (module loading, reading the file and compiling
 * the session all count). One KV-cache session with logits at the last position serves
 * prefill and decode, as llama.cpp's context does.
 */
async function benchProfile(args: ParsedArgs, seq: number, newTokens: number, repeats: number): Promise<BenchResult> {
  const loadStart = performance.now();
  const model = await benchModel(args);
  const session = await DecoderSession.create(model, { logits: 'last', kvCache: true });
  const loadMs = performance.now() - loadStart;
  const prompts = new Map([1, PROFILE_PREFILL_BATCH].map((b) => [b, embedTokens(model, benchTokens(model, b * seq))]));
  const prefill = (batch: number) => session.step(prompts.get(batch)!, [batch, seq], new BigInt64Array(batch * seq).fill(1n));
  const first = await timed(() => prefill(1));
  const firstForwardMs = performance.now();
  const prefillTimes = new Map<number, Timing[]>([[1, []], [PROFILE_PREFILL_BATCH, []]]);
  for (let i = 0; i < repeats; i++) for (const [batch, times] of prefillTimes) times.push(await timed(() => prefill(batch)));
  const decodeTimes: Timing[] = [];
  for (let i = 0; i < repeats; i++) {
    let out = await prefill(1);
    decodeTimes.push(await timed(async () => {
      for (let n = 0; n < newTokens; n++) {
        out = await session.step(embedTokens(model, [(seq + n * 31) % model.config.vocabSize]), [1, 1], new BigInt64Array(seq + n + 1).fill(1n), out.present);
      }
    }));
  }
  return {
    mode: 'profile',
    engine: 'tagllm',
    model: model.source.path,
    provider: session.provider,
    ...fallbackNote(session.fallbackReason),
    threads: availableParallelism(),
    load_ms: round(loadMs),
    first_forward_ms: round(firstForwardMs),
    first_prefill_ms: round(first.ms),
    ...rates('prefill_b1', seq, prefillTimes.get(1)!),
    ...rates(`prefill_b${PROFILE_PREFILL_BATCH}`, PROFILE_PREFILL_BATCH * seq, prefillTimes.get(PROFILE_PREFILL_BATCH)!),
    ...rates('decode', newTokens, decodeTimes),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024), // getrusage reports KiB
  };
}

interface Timing {
  readonly ms: number;
  readonly cpuMs: number;
}

async function timed(work: () => Promise<unknown>): Promise<Timing> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await work();
  return { ms: performance.now() - t, cpuMs: cpuMilliseconds(process.cpuUsage(cpu)) };
}

/** Tokens per second of wall time and of process CPU time (all threads), medians over the timings. */
function rates(name: string, tokens: number, timings: readonly Timing[]): BenchResult {
  return {
    [`${name}_tokens_per_s`]: round((tokens * 1000) / median(timings.map((t) => t.ms))),
    [`${name}_tokens_per_cpu_s`]: round((tokens * 1000) / median(timings.map((t) => t.cpuMs))),
  };
}

async function benchMatMul(n: number): Promise<BenchResult> {
  const g = new Graph('matmul');
  const a = g.input('a', 'float32', [n, n]);
  const b = g.initializer('b', 'float32', [n, n], Float32Array.from({ length: n * n }, (_, i) => ((i % 97) - 48) / 97));
  g.output(g.matMul(a, b), 'c');
  const { session, provider } = await createOrtSession(serializeModel(g));
  const feeds = { a: new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => ((i % 89) - 44) / 89), [n, n]) };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  const ms = median(times);
  return { mode: 'matmul', provider, size: n, ms_per_step: round(ms), gflops: round((2 * n ** 3) / ms / 1e6) };
}

/** CPU time of this process (all threads), which a busy shared machine inflates far less than wall time. */
function cpuMilliseconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** Why a GPU provider did not run, when one was asked for and fell back (`--device` / `TAGLLM_DEVICE`). */
function fallbackNote(reason: string | undefined): BenchResult {
  return reason === undefined ? {} : { provider_note: reason };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
