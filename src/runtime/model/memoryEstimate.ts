// Whether this machine's memory holds a model, decided from the GGUF header before any weight is
// read: a model that does not fit is refused with a clear message rather than loaded into swap
// (or, with no swap, killed by the kernel halfway through).
//
// The estimate is the engine's peak resident memory: the weights at the size the engine holds
// them, the float32 KV cache of one context, and a fixed runtime overhead (node, onnxruntime,
// the tokenizer, activations of a short prompt). How the engine holds weights is the one part
// that depends on the loader, so it lives in `heldWeightBytes` below: today's loader
// (gguf/toModel.ts) dequantizes every tensor to float32, and at the peak of session creation
// those values exist several times over (see FLOAT32_COPIES_AT_PEAK). When weights stay
// quantized in the engine, `heldWeightBytes` becomes the stored bytes of the file's tensors.
// bench/RESULTS.md compares this estimate with the peak RSS `tagllm bench profile` measures.
import { InsufficientMemoryError } from '../errors';
import type { LlamaConfig } from './description';
import { ggufParameterCount } from './gguf/config';
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
 * Float32 copies of the weights alive at once while today's engine creates its session, as
 * measured by `tagllm bench profile` (bench/RESULTS.md, "memory estimate"): the loaded arrays, the
 * serialized ModelProto, onnxruntime's initializers and its prepacked MatMul operands when the
 * graph fits one in-memory ModelProto; fewer when the weights go through an external-data file.
 */
const FLOAT32_COPIES_AT_PEAK = { inMemoryModel: 4.5, externalData: 3.2 } as const;

/** Bytes the engine holds for the weights of this file at its peak. */
export function heldWeightBytes(header: Pick<GgufHeader, 'tensors'>): number {
  const float32Bytes = 4 * ggufParameterCount(header);
  return float32Bytes * (float32Bytes < PROTOBUF_LIMIT ? FLOAT32_COPIES_AT_PEAK.inMemoryModel : FLOAT32_COPIES_AT_PEAK.externalData);
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
