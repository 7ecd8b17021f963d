// Greedy generation with a KV cache: the prompt runs once, then each new token runs alone
// (seq = 1) against the cached keys and values. Batched rows continue until each has emitted
// EOS or the budget is spent; a finished row keeps running (its outputs ignored) so the batch
// keeps one shape.
import type { LoadedModel } from './model/description';
import { UsageError } from './errors';
import { embedTokens } from './llama/embedTokens';
import { decoderSession } from './session/decoderSession';
import type { Provider, ProviderPreference } from './session/ortSession';

export interface GenerateOptions {
  readonly maxNewTokens: number;
  /** Stop a row when it emits this id (defaults to the model's EOS; null never stops early). */
  readonly eos?: number | null;
  readonly signal?: AbortSignal;
  /** Called after each step with the token chosen for every row. */
  readonly onStep?: (ids: readonly number[]) => void;
  readonly provider?: ProviderPreference;
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

/** Greedy continuation of one prompt given as token ids (BOS included when the model wants it). */
export async function generateGreedy(model: LoadedModel, promptIds: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
  if (promptIds.length === 0) throw new UsageError('the prompt has no tokens', model.source.path);
  const prompt = { embeds: embedTokens(model, promptIds), batch: 1, seq: promptIds.length, mask: new BigInt64Array(promptIds.length).fill(1n) };
  return generateFromEmbeddings(model, prompt, options);
}

/** Greedy continuation of prompts given as input embeddings (so tag vectors can be part of them). */
export async function generateFromEmbeddings(model: LoadedModel, prompt: PromptEmbeddings, options: GenerateOptions): Promise<GenerateResult> {
  const session = await decoderSession(model, { logits: 'last', kvCache: true, provider: options.provider });
  const eos = options.eos === undefined ? model.specialTokens.eos : options.eos ?? undefined;
  const { batch } = prompt;
  const vocab = model.config.vocabSize;
  const ids: number[][] = Array.from({ length: batch }, () => []);
  const done = new Array<boolean>(batch).fill(false);

  let mask = prompt.mask;
  let out = await session.step(prompt.embeds, [batch, prompt.seq], mask);
  const recomputeAt = longRopeRecomputeLength(model);
  const fed: number[][] = Array.from({ length: batch }, () => []);
  for (let step = 0; step < options.maxNewTokens; step++) {
    options.signal?.throwIfAborted();
    const next = Array.from({ length: batch }, (_, r) => argmax(out.logits!.data, r * vocab, vocab));
    next.forEach((id, r) => {
      if (done[r]) return;
      ids[r].push(id);
      if (id === eos) done[r] = true;
    });
    options.onStep?.(next);
    if (done.every(Boolean) || step === options.maxNewTokens - 1) break;
    mask = appendColumn(mask, batch, 1n);
    next.forEach((id, r) => fed[r].push(id));
    const total = prompt.seq + fed[0].length;
    out =
      total === recomputeAt
        ? await session.step(wholeSequence(model, prompt, fed), [batch, total], mask)
        : await session.step(embedTokens(model, next), [batch, 1], mask, out.present);
  }
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

function argmax(data: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (data[offset + i] > data[offset + best]) best = i;
  return best;
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
