// The one internal description of a Llama-family decoder that every loader produces
// (GGUF, Hugging Face safetensors folders) and every consumer reads (graph builder,
// tags, export). Weight names and layouts follow Hugging Face transformers, so
// q/k projections are stored un-permuted (the GGUF loader undoes llama.cpp's permutation).

import type { GgmlTypeLayout } from './gguf/tensorTypes';

export type Architecture = 'llama' | 'mistral' | 'qwen2' | 'smollm';

export interface RopeScaling {
  /** 'llama3' frequency scaling, or 'linear' position interpolation. */
  readonly type: 'llama3' | 'linear';
  readonly factor: number;
  readonly lowFreqFactor?: number;
  readonly highFreqFactor?: number;
  readonly originalMaxPositionEmbeddings?: number;
}

export interface LlamaConfig {
  readonly architecture: Architecture;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly ropeScaling?: RopeScaling;
  readonly maxPositionEmbeddings: number;
  /** True when the output head reuses `model.embed_tokens.weight`. */
  readonly tieWordEmbeddings: boolean;
  /** Qwen2 has biases on q/k/v projections. */
  readonly attentionBias: boolean;
}

/** A dense float32 tensor, row-major, with its shape (outermost dimension first, as in PyTorch). */
export interface F32Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * A 2-D weight [rows, cols] kept in a GGUF block-quantized form, as the file stores it: each
 * row is cols / blockSize whole blocks of `type`, rows back to back. Consumers that need
 * floats dequantize the rows they read (model/tensor.ts); the decoder graph hands the blocks
 * to onnxruntime's MatMulNBits (llama/quantizedLinear.ts).
 */
export interface QuantizedTensor {
  readonly shape: readonly [rows: number, cols: number];
  readonly type: GgmlTypeLayout;
  readonly bytes: Uint8Array;
}

export type ModelTensor = F32Tensor | QuantizedTensor;

/**
 * Weights keyed by Hugging Face name, e.g. `model.embed_tokens.weight` [vocab, hidden],
 * `model.layers.0.self_attn.q_proj.weight` [heads*headDim, hidden], `model.norm.weight`,
 * `lm_head.weight` (absent when tied). 1-D tensors (norms, biases) are always float32.
 */
export type WeightMap = ReadonlyMap<string, ModelTensor>;

export interface ModelSource {
  /** 'random': weights drawn in memory (benchmarks), see model/random.ts. */
  readonly format: 'gguf' | 'hf' | 'random';
  /** The GGUF file or the Hugging Face folder; for 'random', `random:PRESET` or `random:custom`. */
  readonly path: string;
}

export interface LoadedModel {
  readonly config: LlamaConfig;
  readonly weights: WeightMap;
  /** A Hugging Face `tokenizer.json` document: read from the folder, or built from GGUF metadata. */
  readonly tokenizerJson: Record<string, unknown>;
  /** BOS/EOS ids and whether the model's tokenizer prepends BOS, from the model's metadata. */
  readonly specialTokens: { readonly bos?: number; readonly eos?: number; readonly addBos: boolean };
  readonly source: ModelSource;
}
