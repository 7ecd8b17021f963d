// The one internal description of a Llama-family decoder that every loader produces
// (GGUF, Hugging Face safetensors folders) and every consumer reads (graph builder,
// tags, export). Weight names and layouts follow Hugging Face transformers, so
// q/k projections are stored un-permuted (the GGUF loader undoes llama.cpp's permutation),
// Gemma's norm weights are the w of its (1 + w) scale, and Phi-3's fused qkv_proj and
// gate_up_proj stay fused. Each family's departures from Llama are optional config fields;
// absent, a field means Llama's behaviour.

export type Architecture = 'llama' | 'mistral' | 'qwen2' | 'smollm' | 'qwen3' | 'phi3' | 'gemma2' | 'gemma3';

export interface RopeScaling {
  /**
   * 'llama3' frequency scaling, 'linear' position interpolation, or Phi-3's 'longrope': one
   * divisor per frequency, `shortFactor` while every position is below
   * `originalMaxPositionEmbeddings`, `longFactor` beyond it, with cos/sin scaled by `attentionFactor`.
   */
  readonly type: 'llama3' | 'linear' | 'longrope';
  /** For 'longrope', maxPositionEmbeddings / originalMaxPositionEmbeddings. */
  readonly factor: number;
  readonly lowFreqFactor?: number;
  readonly highFreqFactor?: number;
  readonly originalMaxPositionEmbeddings?: number;
  readonly shortFactor?: readonly number[];
  readonly longFactor?: readonly number[];
  readonly attentionFactor?: number;
}

/** Which keys a layer's queries see: all earlier ones, or only the last `slidingWindow`. */
export type LayerAttention = 'full' | 'sliding';

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
  /** Rotated leading dimensions of each head (Phi-4-mini: 3/4 of headDim); default headDim. */
  readonly rotaryDim?: number;
  /** RMSNorm of each query and key head before RoPE (Qwen3, Gemma 3): `q_norm`, `k_norm` [headDim]. */
  readonly qkNorm?: boolean;
  /** q/k/v as one `qkv_proj` and gate/up as one `gate_up_proj` (Phi-3). */
  readonly fusedProjections?: boolean;
  /** Gemma: every RMSNorm scales by (1 + weight). */
  readonly normWeightOffset?: boolean;
  /** MLP activation: 'silu' (SwiGLU, default) or Gemma's tanh-approximated GELU (GeGLU). */
  readonly hiddenActivation?: 'silu' | 'gelu_tanh';
  /** Gemma: input embeddings (token rows and tags alike) are multiplied by this (sqrt(hidden)). */
  readonly embeddingMultiplier?: number;
  /** Gemma: RMSNorm after attention and around the MLP (`post_attention_layernorm`, `pre_/post_feedforward_layernorm`). */
  readonly sandwichNorms?: boolean;
  /** Attention scores are 1/sqrt(this) * q.k; default headDim (Gemma's query_pre_attn_scalar). */
  readonly queryPreAttnScalar?: number;
  /** Gemma 2: scores become cap * tanh(scores / cap) before the mask. */
  readonly attnLogitSoftcap?: number;
  /** Gemma 2: logits become cap * tanh(logits / cap). */
  readonly finalLogitSoftcap?: number;
  /** Keys a 'sliding' layer's query sees: those less than this many positions back, itself included. */
  readonly slidingWindow?: number;
  /** One entry per layer; absent with a slidingWindow, every layer slides (Mistral, Phi-3). */
  readonly layerTypes?: readonly LayerAttention[];
  /** Gemma 3: sliding layers use this RoPE theta, unscaled; full layers use ropeTheta and ropeScaling. */
  readonly localRopeTheta?: number;
}

/** A dense float32 tensor, row-major, with its shape (outermost dimension first, as in PyTorch). */
export interface F32Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Weights keyed by Hugging Face name, e.g. `model.embed_tokens.weight` [vocab, hidden],
 * `model.layers.0.self_attn.q_proj.weight` [heads*headDim, hidden], `model.norm.weight`,
 * `lm_head.weight` (absent when tied).
 */
export type WeightMap = ReadonlyMap<string, F32Tensor>;

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
