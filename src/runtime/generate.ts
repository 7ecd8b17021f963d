// Generation with a KV cache: the prompt runs once, then each new token runs alone
// (seq = 1) against the cached keys and values. Batched rows continue until each has emitted
// EOS or the budget is spent; a finished row keeps running (its outputs ignored) so the batch
// keeps one shape. Tokens are chosen greedily, or sampled (temperature, top-p) from a seeded
// generator. A batch may continue a shared prefix whose keys and values were computed once
// (a template's constant tag prefix, src/runtime/generateText.ts).
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from './model/description';
import { UsageError } from './errors';
import { embedTokens } from './llama/embedTokens';
import { decoderSession, releaseKvCache, type KvCache } from './session/decoderSession';
import type { Provider, ProviderPreference } from './session/ortSession';
import { SeededRng } from './train/rng';

export interface SamplingOptions {
  /** Logits are divided by this before the softmax; must be positive. */
  readonly temperature: number;
  /** Nucleus: sample among the most likely tokens whose probabilities first reach this total. */
  readonly topP: number;
  readonly seed: number;
}

export interface GenerateOptions {
  readonly maxNewTokens: number;
  /** Stop a row when it emits this id (defaults to the model's EOS; null never stops early). */
  readonly eos?: number | null;
  readonly signal?: AbortSignal;
  /** Called after each step with the token chosen for every row. */
  readonly onStep?: (ids: readonly number[]) => void;
  readonly provider?: ProviderPreference;
  /** Sample with these settings; greedy when absent. */
  readonly sampling?: SamplingOptions;
  /** Positions every row continues (batch 1, from prefixKeyValues); the prompt's positions follow them. */
  readonly prefix?: KvCache;
}

export interface GenerateResult {
  /** New token ids per row, each ending at (and including) EOS when it came. */
  readonly ids: number[][];
  readonly provider: Provider;
  readonly fallbackReason?: string;
}

export interface PromptEmbeddings {
  /** [batch, seq, hidden] */
  readonly embeds: Float32Array;
  readonly batch: number;
  readonly seq: number;
  /** [batch, seq]: 1 = token, 0 = padding (left padding keeps every row's last position real). */
  readonly mask: BigInt64Array;
}

/** Continuation of one prompt given as token ids (BOS included when the model wants it); greedy unless options.sampling. */
export async function generateGreedy(model: LoadedModel, promptIds: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
  if (promptIds.length === 0) throw new UsageError('the prompt has no tokens', model.source.path);
  const prompt = { embeds: embedTokens(model, promptIds), batch: 1, seq: promptIds.length, mask: new BigInt64Array(promptIds.length).fill(1n) };
  return generateFromEmbeddings(model, prompt, options);
}

/** The keys and values of one prompt prefix (batch 1, [1, seq, hidden] embeddings), to continue many times. */
export async function prefixKeyValues(model: LoadedModel, embeds: Float32Array, seq: number, provider?: ProviderPreference): Promise<KvCache> {
  // A session without logits returns its cache on the CPU (a generation session keeps it in GPU
  // buffers), so the prefix can be repeated for every row of a batch.
  const session = await decoderSession(model, { logits: 'none', kvCache: true, provider });
  const out = await session.step(embeds, [1, seq], new BigInt64Array(seq).fill(1n));
  return out.present;
}

/** Continuation of prompts given as input embeddings (so tag vectors can be part of them). */
export async function generateFromEmbeddings(model: LoadedModel, prompt: PromptEmbeddings, options: GenerateOptions): Promise<GenerateResult> {
  const session = await decoderSession(model, { logits: 'last', kvCache: true, provider: options.provider });
  const eos = options.eos === undefined ? model.specialTokens.eos : options.eos ?? undefined;
  const { batch } = prompt;
  const vocab = model.config.vocabSize;
  const ids: number[][] = Array.from({ length: batch }, () => []);
  const done = new Array<boolean>(batch).fill(false);
  const choose = tokenChooser(options.sampling);

  const past = options.prefix ? repeatRows(options.prefix, batch) : undefined;
  let mask = past ? prependOnes(prompt.mask, batch, past.length) : prompt.mask;
  let out = await session.step(prompt.embeds, [batch, prompt.seq], mask, past);
  const recomputeAt = longRopeRecomputeLength(model);
  const fed: number[][] = Array.from({ length: batch }, () => []);
  for (let step = 0; step < options.maxNewTokens; step++) {
    options.signal?.throwIfAborted();
    const next = Array.from({ length: batch }, (_, r) => choose(out.logits!.data.subarray(r * vocab, (r + 1) * vocab)));
    next.forEach((id, r) => {
      if (done[r]) return;
      ids[r].push(id);
      if (id === eos) done[r] = true;
    });
    options.onStep?.(next);
    if (done.every(Boolean) || step === options.maxNewTokens - 1) break;
    mask = appendColumn(mask, batch, 1n);
    next.forEach((id, r) => fed[r].push(id));
    const total = (past?.length ?? 0) + prompt.seq + fed[0].length;
    const previous = out.present;
    if (total === recomputeAt) {
      // The prefix's keys were cached with the short factors too, and its embeddings are not here.
      if (past) throw new UsageError(`a cached tag prefix cannot continue past this model's original context of ${recomputeAt - 1} positions (LongRoPE)`, model.source.path);
      out = await session.step(wholeSequence(model, prompt, fed), [batch, total], mask);
    } else {
      out = await session.step(embedTokens(model, next), [batch, 1], mask, previous);
    }
    releaseKvCache(previous);
  }
  releaseKvCache(out.present);
  return session.fallbackReason === undefined ? { ids, provider: session.provider } : { ids, provider: session.provider, fallbackReason: session.fallbackReason };
}

/**
 * Phi-3's LongRoPE rotates every position with its long factors once the sequence is longer
 * than the original context, so the keys cached with the short factors are stale then: at that
 * length the whole sequence runs again without the cache, as transformers' Phi-3 intends (its
 * 5.18 `generate` drops the cache but then runs the last token alone).
 */
function longRopeRecomputeLength(model: LoadedModel): number | undefined {
  const scaling = model.config.ropeScaling;
  return scaling?.type === 'longrope' ? scaling.originalMaxPositionEmbeddings! + 1 : undefined;
}

/** [batch, prompt + fed, hidden]: each row's prompt embeddings followed by its fed tokens' rows. */
function wholeSequence(model: LoadedModel, prompt: PromptEmbeddings, fed: readonly number[][]): Float32Array {
  const hidden = model.config.hiddenSize;
  const rowLength = (prompt.seq + fed[0].length) * hidden;
  const out = new Float32Array(prompt.batch * rowLength);
  fed.forEach((ids, r) => {
    out.set(prompt.embeds.subarray(r * prompt.seq * hidden, (r + 1) * prompt.seq * hidden), r * rowLength);
    out.set(embedTokens(model, ids), r * rowLength + prompt.seq * hidden);
  });
  return out;
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** Greedy, or a seeded sampler that draws once per row and step in row order (so a seed fixes the output). */
export function tokenChooser(sampling?: SamplingOptions): (logits: Float32Array) => number {
  if (!sampling) return argmax;
  const { temperature, topP } = sampling;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new UsageError(`temperature must be a positive number, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`top-p must be in (0, 1], got ${topP}`);
  const rng = new SeededRng(sampling.seed);
  return (logits) => {
    let max = -Infinity;
    for (const x of logits) if (x > max) max = x;
    const order = Array.from(logits.keys());
    const probs = Float64Array.from(logits, (x) => Math.exp((x - max) / temperature));
    order.sort((a, b) => probs[b] - probs[a]);
    let total = 0;
    for (const p of probs) total += p;
    // the smallest set of most likely tokens whose mass reaches topP
    let kept = 0;
    let mass = 0;
    while (kept < order.length && mass < topP * total) mass += probs[order[kept++]];
    let u = rng.next() * mass;
    for (let k = 0; k < kept; k++) {
      u -= probs[order[k]];
      if (u < 0) return order[k];
    }
    return order[kept - 1];
  };
}

/** A batch-1 cache repeated for every row. */
function repeatRows(cache: KvCache, batch: number): KvCache {
  const repeat = (t: ort.Tensor) => {
    const data = t.data as Float32Array;
    const out = new Float32Array(data.length * batch);
    for (let r = 0; r < batch; r++) out.set(data, r * data.length);
    return new ort.Tensor('float32', out, [batch, ...t.dims.slice(1)]);
  };
  return { length: cache.length, keys: cache.keys.map(repeat), values: cache.values.map(repeat) };
}

function prependOnes(mask: BigInt64Array, batch: number, count: number): BigInt64Array {
  const cols = mask.length / batch;
  const out = new BigInt64Array(batch * (count + cols)).fill(1n);
  for (let r = 0; r < batch; r++) out.set(mask.subarray(r * cols, (r + 1) * cols), r * (count + cols) + count);
  return out;
}

function appendColumn(mask: BigInt64Array, batch: number, value: bigint): BigInt64Array {
  const cols = mask.length / batch;
  const out = new BigInt64Array(batch * (cols + 1));
  for (let r = 0; r < batch; r++) {
    out.set(mask.subarray(r * cols, (r + 1) * cols), r * (cols + 1));
    out[r * (cols + 1) + cols] = value;
  }
  return out;
}
