// A Llama-family model with deterministic random weights, built in memory, for benchmarks at
// real model shapes without downloading a model. It has no real tokenizer: the tokenizer.json
// knows only <unk>, and callers feed token ids or embeddings directly.
import { SeededRng } from '../train/rng';
import type { F32Tensor, LlamaConfig, LoadedModel } from './description';
import { expectedWeightShapes } from './weightShapes';

export const RANDOM_MODEL_PRESETS = {
  'smollm2-135m': {
    architecture: 'smollm',
    hiddenSize: 576,
    intermediateSize: 1536,
    numLayers: 30,
    numHeads: 9,
    numKvHeads: 3,
    headDim: 64,
    vocabSize: 49152,
    rmsNormEps: 1e-5,
    ropeTheta: 100000,
    maxPositionEmbeddings: 8192,
    tieWordEmbeddings: true,
    attentionBias: false,
  },
} as const satisfies Record<string, LlamaConfig>;

export type RandomModelPreset = keyof typeof RANDOM_MODEL_PRESETS;

export function isRandomModelPreset(name: string): name is RandomModelPreset {
  return Object.hasOwn(RANDOM_MODEL_PRESETS, name);
}

const WEIGHT_STD = 0.02;

const NO_TOKENIZER: Record<string, unknown> = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [],
  normalizer: null,
  pre_tokenizer: null,
  post_processor: null,
  decoder: null,
  model: { type: 'BPE', vocab: { '<unk>': 0 }, merges: [], unk_token: '<unk>' },
};

/**
 * Norm weights are 1 and biases 0; every other weight is uniform with standard deviation 0.02
 * (uniform rather than normal: it is several times faster to draw, and the shape is what a
 * benchmark measures).
 */
export function randomLlamaModel(config: LlamaConfig, seed: number, name = 'custom'): LoadedModel {
  const rng = new SeededRng(seed);
  const halfWidth = WEIGHT_STD * Math.sqrt(3);
  const weights = new Map<string, F32Tensor>();
  for (const [weightName, shape] of expectedWeightShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (weightName.endsWith('norm.weight')) data.fill(1);
    else if (!weightName.endsWith('.bias')) for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * halfWidth;
    weights.set(weightName, { shape, data });
  }
  return {
    config,
    weights,
    tokenizerJson: NO_TOKENIZER,
    specialTokens: { addBos: false },
    source: { format: 'random', path: `random:${name}` },
  };
}
