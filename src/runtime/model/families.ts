// What a family fixes by its architecture rather than by its configuration, shared by the
// config.json and GGUF readers: Gemma's norm, activation, embedding scale and sliding-layer
// pattern (transformers' defaults, which llama.cpp hard-codes too), Gemma 3's local RoPE theta.
import type { Architecture, LayerAttention, LlamaConfig } from './description';

/** Gemma 2 alternates sliding and full layers; Gemma 3 has five sliding layers per full one. */
export const GEMMA_SLIDING_PATTERN: Partial<Record<Architecture, number>> = { gemma2: 2, gemma3: 6 };
export const GEMMA3_LOCAL_ROPE_THETA = 10000;
export const GEMMA_RMS_NORM_EPS = 1e-6;

/** transformers' default layer_types: layer i slides unless (i + 1) is a multiple of the pattern. */
export function gemmaLayerTypes(numLayers: number, pattern: number): LayerAttention[] {
  return Array.from({ length: numLayers }, (_, i) => ((i + 1) % pattern === 0 ? 'full' : 'sliding'));
}

/** Every Gemma: (1 + w) RMSNorm, GeGLU, embeddings scaled by sqrt(hidden), norms around attention and MLP. */
export function gemmaSwitches(hiddenSize: number): Pick<LlamaConfig, 'normWeightOffset' | 'hiddenActivation' | 'embeddingMultiplier' | 'sandwichNorms'> {
  return { normWeightOffset: true, hiddenActivation: 'gelu_tanh', embeddingMultiplier: Math.sqrt(hiddenSize), sandwichNorms: true };
}

export const isGemma = (architecture: Architecture): boolean => architecture === 'gemma2' || architecture === 'gemma3';
