// Whether this machine's memory holds a model, decided from the GGUF header before any weight is
// read: a model that does not fit is refused with a clear message rather than loaded into swap
// (or, with no swap, killed by the kernel halfway through).
//
// The estimate is the engine's peak resident memory: the weights at the size the engine holds
// them, the float32 KV cache of one context, and a fixed runtime overhead (node, onnxruntime,
// the tokenizer, activations of a short prompt). The loader (gguf/toModel.ts) keeps 2-D
// block-quantized tensors as the file stores them and widens the rest (F16, BF16, F32, norms) to
// float32; at the peak of a first session creation each exists several times over (the arrays,
// the repacked external-data file, onnxruntime's initializers and prepacked operands): see
// STORED_COPIES_AT_PEAK and FLOAT32_COPIES_AT_PEAK. bench/RESULTS.md compares this estimate with
// the peak RSS `tagllm bench profile` measures.
import { InsufficientMemoryError } from '../errors';
import type { LlamaConfig } from './description';
import { CONFIG_TENSORS } from './gguf/config';
import { NBITS_TYPES } from '../llama/quantizedLinear';
import type { GgufHeader } from './gguf/reader';
import { PROTOBUF_LIMIT } from '../graph/serialize';

export interface MemoryEstimate {
  readonly weightBytes: number;
  readonly kvCacheBytes: number;
  readonly overheadBytes: number;
  readonly totalBytes: number;
}

/** Context the estimate reserves a KV cache for: longer than any Tag-LLM prompt the product builds. */
export const ESTIMATE_CONTEXT_TOKENS = 2048;
/** node, onnxruntime, tokenizer and the activations of a short prompt (the target's "+ 300 MB"). */
export const RUNTIME_OVERHEAD_BYTES = 300 * 2 ** 20;

/**
 * Float32 copies of float weights alive at once while the engine creates its session, as
 * measured by `tagllm bench profile` (bench/RESULTS.md, "memory estimate"): the loaded arrays, the
 * serialized ModelProto, onnxruntime's initializers and its prepacked MatMul operands when the
 * graph fits one in-memory ModelProto; fewer when the weights go through an external-data file.
 */
const FLOAT32_COPIES_AT_PEAK = { inMemoryModel: 4.5, externalData: 3.2 } as const;

/**
 * Copies of quantized weights' stored bytes at the peak of a first (uncached) start: a 0.65 GB
 * Llama-3.2-1B-shaped Q4_0 file peaked at 2.66 GB and a 4.21 GB Llama-3.1-8B-shaped Q4_K file at
 * 16.7 GB (bench/RESULTS.md, "Quantized weights"); a start from the session cache needs about half.
 */
const STORED_COPIES_AT_PEAK = 4;

/** Bytes the engine holds for the weights of this file at its peak. */
export function heldWeightBytes(header: Pick<GgufHeader, 'tensors'>): number {
  let quantizedBytes = 0;
  let floatValues = 0;
  for (const t of header.tensors) {
    if (CONFIG_TENSORS.has(t.name)) continue;
    if (t.ne.length === 2 && NBITS_TYPES.has(t.type.name)) quantizedBytes += t.byteLength;
    else floatValues += t.elementCount;
  }
  const float32Bytes = 4 * floatValues;
  const floatCopies = float32Bytes < PROTOBUF_LIMIT ? FLOAT32_COPIES_AT_PEAK.inMemoryModel : FLOAT32_COPIES_AT_PEAK.externalData;
  return quantizedBytes * STORED_COPIES_AT_PEAK + float32Bytes * floatCopies;
}

/** Float32 keys and values of every layer for `contextTokens` positions of `batch` rows. */
export function kvCacheBytes(config: Pick<LlamaConfig, 'numLayers' | 'numKvHeads' | 'headDim'>, contextTokens: number, batch = 1): number {
  return 2 * config.numLayers * config.numKvHeads * config.headDim * contextTokens * batch * 4;
}

export function estimateModelMemory(weightBytes: number, config: Pick<LlamaConfig, 'numLayers' | 'numKvHeads' | 'headDim'>, contextTokens = ESTIMATE_CONTEXT_TOKENS): MemoryEstimate {
  const kv = kvCacheBytes(config, contextTokens);
  return { weightBytes, kvCacheBytes: kv, overheadBytes: RUNTIME_OVERHEAD_BYTES, totalBytes: weightBytes + kv + RUNTIME_OVERHEAD_BYTES };
}

export interface MemoryVerdict {
  readonly fits: boolean;
  readonly estimate: MemoryEstimate;
  readonly availableBytes: number;
  readonly totalBytes: number;
}

/** `available`: memory the OS can give now without swapping (os.freemem() is Linux's MemAvailable). */
export function memoryVerdict(estimate: MemoryEstimate, availableBytes: number, totalBytes: number): MemoryVerdict {
  return { fits: estimate.totalBytes <= availableBytes, estimate, availableBytes, totalBytes };
}

export function formatGigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes < 1e10 ? 2 : 1)} GB`;
}

/** One line for a person: "needs about 1.10 GB; 20.3 GB of 24.0 GB available". */
export function describeVerdict(v: MemoryVerdict): string {
  return `needs about ${formatGigabytes(v.estimate.totalBytes)}; ${formatGigabytes(v.availableBytes)} of ${formatGigabytes(v.totalBytes)} available`;
}

/** Throws InsufficientMemoryError when the model cannot fit; `fileBytes` names the model's size. */
export function assertFits(v: MemoryVerdict, fileBytes: number, path: string): void {
  if (v.fits) return;
  throw new InsufficientMemoryError(
    `this model (${formatGigabytes(fileBytes)} file) ${describeVerdict(v)}: loading it would swap or be killed, so it is not loaded ` +
      `(weights ${formatGigabytes(v.estimate.weightBytes)}, KV cache of ${ESTIMATE_CONTEXT_TOKENS} tokens ${formatGigabytes(v.estimate.kvCacheBytes)}, runtime ${formatGigabytes(v.estimate.overheadBytes)})`,
    path,
    { fileBytes, estimateBytes: v.estimate.totalBytes, availableBytes: v.availableBytes },
  );
}
