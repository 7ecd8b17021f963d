// LlamaConfig from a GGUF header: `general.architecture` and its `{arch}.*` keys (names as
// llama.cpp writes them), with the vocabulary size and head tying read from the tensor table.
// Where llama.cpp does not store a switch but derives it from the architecture (Gemma's sliding
// pattern, Gemma 3's local RoPE theta, Gemma's query scale), the same derivation is made here.
import { InvalidFileError, UnsupportedError } from '../../errors';
import { quote } from '../../safeText';
import type { Architecture, LayerAttention, LlamaConfig, RopeScaling } from '../description';
import { GEMMA3_LOCAL_ROPE_THETA, GEMMA_RMS_NORM_EPS, GEMMA_SLIDING_PATTERN, gemmaLayerTypes, gemmaSwitches, isGemma } from '../families';
import type { GgufValue } from './metadata';
import type { GgufHeader } from './reader';

/** `general.architecture` -> ours; keyed by file content, so a Map (no inherited keys such as "constructor"). */
const ARCHITECTURES: ReadonlyMap<string, Architecture> = new Map([
  ['llama', 'llama'],
  ['mistral', 'mistral'],
  ['qwen2', 'qwen2'],
  ['qwen3', 'qwen3'],
  ['phi3', 'phi3'],
  ['gemma2', 'gemma2'],
  ['gemma3', 'gemma3'],
]);
export const SUPPORTED_GGUF_ARCHITECTURES: readonly string[] = [...ARCHITECTURES.keys()];
const DEFAULT_ROPE_THETA = 10000;
// llama.cpp tells the 27B Gemmas, whose queries are scaled by hidden/heads instead of the head
// size, by their layer counts.
const GEMMA_27B_LAYERS: Partial<Record<Architecture, number>> = { gemma2: 46, gemma3: 62 };

/** Tensors whose values are configuration (RoPE factors), not weights. */
export const ROPE_FREQS_TENSOR = 'rope_freqs.weight';
const ROPE_FACTORS_SHORT = 'rope_factors_short.weight';
const ROPE_FACTORS_LONG = 'rope_factors_long.weight';
export const CONFIG_TENSORS: ReadonlySet<string> = new Set([ROPE_FREQS_TENSOR, ROPE_FACTORS_SHORT, ROPE_FACTORS_LONG]);

/**
 * `readTensor`: the float values of one of CONFIG_TENSORS, which the caller reads from the file
 * when this asks (Llama 3.1 RoPE factors, Phi-3 LongRoPE factors).
 */
export function ggufConfig(header: GgufHeader, readTensor: (name: string) => Float32Array = noTensor): LlamaConfig {
  const meta = new ConfigKeys(header);
  const archName = meta.string('general.architecture');
  const architecture = ARCHITECTURES.get(archName);
  if (!architecture) {
    throw new UnsupportedError(`architecture ${quote(archName)} is not supported (supported: ${SUPPORTED_GGUF_ARCHITECTURES.join(', ')})`, header.path);
  }
  const key = (name: string) => `${archName}.${name}`;
  const hiddenSize = meta.positiveInt(key('embedding_length'));
  const numHeads = meta.positiveInt(key('attention.head_count'));
  const numKvHeads = meta.optionalPositiveInt(key('attention.head_count_kv')) ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new InvalidFileError(`${key('attention.head_count')} ${numHeads} is not a multiple of head_count_kv ${numKvHeads}`, header.path);
  }
  const headDim = meta.optionalPositiveInt(key('attention.key_length')) ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) {
    throw new InvalidFileError(`embedding_length ${hiddenSize} is not a multiple of head_count ${numHeads}`, header.path);
  }
  const valueLength = meta.optionalPositiveInt(key('attention.value_length'));
  if (valueLength !== undefined && valueLength !== headDim) {
    throw new UnsupportedError(`attention value_length ${valueLength} differs from key_length ${headDim}`, header.path);
  }
  const ropeDims = meta.optionalPositiveInt(key('rope.dimension_count')) ?? headDim;
  if (ropeDims > headDim || ropeDims % 2 !== 0 || (ropeDims !== headDim && architecture !== 'phi3')) {
    throw new UnsupportedError(`partial rotary embedding (rope.dimension_count ${ropeDims} of head size ${headDim}) is not supported for ${archName}`, header.path);
  }

  const embedding = header.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embedding || embedding.ne.length !== 2) throw new InvalidFileError('token_embd.weight is missing or not 2-D', header.path);
  // Ollama's Gemma 3 files name the full layers' theta `rope.global.freq_base`.
  const ropeTheta = meta.optionalPositiveNumber(key('rope.freq_base')) ?? meta.optionalPositiveNumber(key('rope.global.freq_base')) ?? DEFAULT_ROPE_THETA;
  const has = (name: string) => header.tensors.some((t) => t.name === name);
  const maxPositionEmbeddings = meta.positiveInt(key('context_length'));
  const originalContext = meta.optionalPositiveInt(key('rope.scaling.original_context_length'));
  let ropeScaling: RopeScaling | undefined;
  if (has(ROPE_FREQS_TENSOR)) ropeScaling = llama3ScalingFromFreqs(readTensor(ROPE_FREQS_TENSOR), headDim, ropeTheta, originalContext, header.path);
  else if (has(ROPE_FACTORS_LONG) || has(ROPE_FACTORS_SHORT)) {
    ropeScaling = longRopeFromFactors(readTensor(ROPE_FACTORS_SHORT), readTensor(ROPE_FACTORS_LONG), ropeDims, maxPositionEmbeddings, originalContext, meta.optionalPositiveNumber(key('rope.scaling.attn_factor')), header.path);
  } else ropeScaling = readRopeScaling(meta, archName, header.path);
  // llama.cpp's Phi-3 converter writes 0 for "no sliding window" (Phi-4).
  const window = meta.optionalNonNegativeInt(key('attention.sliding_window'));
  const slidingWindow = window === 0 ? undefined : window;
  const config: LlamaConfig = {
    architecture,
    hiddenSize,
    intermediateSize: meta.positiveInt(key('feed_forward_length')),
    numLayers: meta.positiveInt(key('block_count')),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: embedding.ne[1]!,
    // Ollama's Gemma 3 files leave out Gemma's epsilon.
    rmsNormEps: isGemma(architecture) ? (meta.optionalPositiveNumber(key('attention.layer_norm_rms_epsilon')) ?? GEMMA_RMS_NORM_EPS) : meta.positiveNumber(key('attention.layer_norm_rms_epsilon')),
    ropeTheta,
    ...(ropeScaling && { ropeScaling }),
    maxPositionEmbeddings,
    tieWordEmbeddings: !has('output.weight'),
    attentionBias: has('blk.0.attn_q.bias'),
    ...(ropeDims !== headDim && { rotaryDim: ropeDims }),
  };
  switch (architecture) {
    case 'qwen3':
      return { ...config, qkNorm: true };
    case 'phi3':
      return { ...config, fusedProjections: true, ...(slidingWindow !== undefined && { slidingWindow }) };
    case 'gemma2':
    case 'gemma3': {
      if (slidingWindow === undefined) throw new InvalidFileError(`metadata ${key('attention.sliding_window')} is missing`, header.path);
      const attnCap = meta.optionalPositiveNumber(key('attn_logit_softcapping'));
      const finalCap = meta.optionalPositiveNumber(key('final_logit_softcapping'));
      return {
        ...config,
        ...gemmaSwitches(hiddenSize),
        queryPreAttnScalar: config.numLayers === GEMMA_27B_LAYERS[architecture] ? hiddenSize / numHeads : headDim,
        ...(architecture === 'gemma2' && attnCap !== undefined && { attnLogitSoftcap: attnCap }),
        ...(finalCap !== undefined && { finalLogitSoftcap: finalCap }),
        slidingWindow,
        layerTypes: meta.optionalLayerPattern(key('attention.sliding_window_pattern'), config.numLayers) ?? gemmaLayerTypes(config.numLayers, GEMMA_SLIDING_PATTERN[architecture]!),
        ...(architecture === 'gemma3' && { qkNorm: true, localRopeTheta: meta.optionalPositiveNumber(key('rope.local.freq_base')) ?? GEMMA3_LOCAL_ROPE_THETA }),
      };
    }
    default:
      return config;
  }
}

function noTensor(name: string): never {
  throw new Error(`ggufConfig needs the values of ${name}`);
}

/**
 * Phi-3's LongRoPE as llama.cpp stores it: one divisor per rotary frequency for short and for
 * long inputs, and the cos/sin factor it computed (transformers' default when absent).
 */
function longRopeFromFactors(
  short: Float32Array,
  long: Float32Array,
  ropeDims: number,
  maxPositionEmbeddings: number,
  originalContext: number | undefined,
  attnFactor: number | undefined,
  path: string,
): RopeScaling {
  for (const [name, values] of [[ROPE_FACTORS_SHORT, short], [ROPE_FACTORS_LONG, long]] as const) {
    if (values.length !== ropeDims / 2) throw new InvalidFileError(`${name} has ${values.length} values, expected rope dimensions / 2 = ${ropeDims / 2}`, path);
  }
  if (originalContext === undefined) throw new InvalidFileError('LongRoPE factors need rope.scaling.original_context_length', path);
  const factor = maxPositionEmbeddings / originalContext;
  const attentionFactor = attnFactor ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(originalContext)));
  return { type: 'longrope', factor, originalMaxPositionEmbeddings: originalContext, shortFactor: [...short], longFactor: [...long], attentionFactor };
}


// Llama 3's published values, which llama.cpp's converter also assumes when a config omits them.
const LLAMA3_LOW_FREQ_FACTOR = 1;
const LLAMA3_HIGH_FREQ_FACTOR = 4;
const LLAMA3_ORIGINAL_CONTEXT = 8192;

/**
 * llama.cpp stores Llama 3.1 RoPE scaling as one divisor per frequency, computed from
 * (factor, low/high frequency factors, original context). The largest divisor is the factor;
 * the other three are Llama 3's. Every stored divisor is checked against them, so a file made
 * with other values is refused rather than run with the wrong positions.
 */
function llama3ScalingFromFreqs(divisors: Float32Array, headDim: number, theta: number, originalContext: number | undefined, path: string): RopeScaling | undefined {
  if (divisors.length !== headDim / 2) {
    throw new InvalidFileError(`${ROPE_FREQS_TENSOR} has ${divisors.length} values, expected head size / 2 = ${headDim / 2}`, path);
  }
  const factor = divisors.reduce((m, x) => Math.max(m, x), 0);
  if (factor === 1 && divisors.every((x) => x === 1)) return undefined;
  const scaling: RopeScaling = {
    type: 'llama3',
    factor,
    lowFreqFactor: LLAMA3_LOW_FREQ_FACTOR,
    highFreqFactor: LLAMA3_HIGH_FREQ_FACTOR,
    originalMaxPositionEmbeddings: originalContext ?? LLAMA3_ORIGINAL_CONTEXT,
  };
  const lowFreqWavelen = scaling.originalMaxPositionEmbeddings! / LLAMA3_LOW_FREQ_FACTOR;
  const highFreqWavelen = scaling.originalMaxPositionEmbeddings! / LLAMA3_HIGH_FREQ_FACTOR;
  for (let i = 0; i < divisors.length; i++) {
    const wavelen = 2 * Math.PI * theta ** ((2 * i) / headDim);
    let expected = 1;
    if (wavelen > lowFreqWavelen) expected = factor;
    else if (wavelen >= highFreqWavelen) {
      const smooth = (scaling.originalMaxPositionEmbeddings! / wavelen - LLAMA3_LOW_FREQ_FACTOR) / (LLAMA3_HIGH_FREQ_FACTOR - LLAMA3_LOW_FREQ_FACTOR);
      expected = 1 / ((1 - smooth) / factor + smooth);
    }
    if (!(Math.abs(divisors[i]! - expected) <= 1e-4 * expected)) {
      throw new UnsupportedError(`${ROPE_FREQS_TENSOR} is not Llama 3 RoPE scaling (value ${i} is ${divisors[i]}, expected ${expected})`, path);
    }
  }
  return scaling;
}

function readRopeScaling(meta: ConfigKeys, arch: string, path: string): RopeScaling | undefined {
  const type = meta.optionalString(`${arch}.rope.scaling.type`);
  // llama.cpp divides positions by `rope.scaling.factor` (older converters: `rope.scale_linear`)
  // whatever the type says, and some files (Google's Gemma 3 GGUFs) carry the factor alone.
  const factor = meta.optionalPositiveNumber(`${arch}.rope.scaling.factor`) ?? meta.optionalPositiveNumber(`${arch}.rope.scale_linear`);
  if (type === undefined || type === 'none') {
    return factor !== undefined && factor !== 1 ? { type: 'linear', factor } : undefined;
  }
  if (type !== 'linear') throw new UnsupportedError(`RoPE scaling "${type}" is not supported (only linear)`, path);
  return { type: 'linear', factor: meta.positiveNumber(`${arch}.rope.scaling.factor`) };
}

/** Typed, checked reads of GGUF metadata keys; each failure names the key. */
class ConfigKeys {
  constructor(private readonly header: GgufHeader) {}

  private get(key: string): GgufValue | undefined {
    return this.header.metadata.get(key);
  }

  private fail(key: string, want: string, got: GgufValue | undefined): never {
    const shown = got === undefined ? 'missing' : Array.isArray(got) ? 'a list' : typeof got === 'string' ? `the text ${quote(got)}` : typeof got === 'boolean' ? `${got}` : `the number ${got}`;
    throw new InvalidFileError(`metadata ${key} must be ${want}, got ${shown}`, this.header.path);
  }

  /** Ollama's per-layer pattern: one boolean per layer, true for a sliding layer. */
  optionalLayerPattern(key: string, numLayers: number): LayerAttention[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length !== numLayers || !v.every((x) => typeof x === 'boolean')) return this.fail(key, `${numLayers} booleans (one per layer)`, v);
    return v.map((sliding) => (sliding ? 'sliding' : 'full'));
  }

  optionalString(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || typeof v === 'string') return v;
    return this.fail(key, 'a string', v);
  }

  string(key: string): string {
    return this.optionalString(key) ?? this.fail(key, 'a string', undefined);
  }

  optionalPositiveNumber(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)) return this.fail(key, 'a positive number', v);
    return n;
  }

  positiveNumber(key: string): number {
    return this.optionalPositiveNumber(key) ?? this.fail(key, 'a positive number', undefined);
  }

  /** A count that may be 0; read as a number (not only positive). */
  optionalNonNegativeInt(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return this.fail(key, 'a non-negative integer', v);
    return n;
  }

  optionalPositiveInt(key: string): number | undefined {
    const n = this.optionalPositiveNumber(key);
    if (n !== undefined && !Number.isSafeInteger(n)) return this.fail(key, 'a positive integer', n);
    return n;
  }

  positiveInt(key: string): number {
    return this.optionalPositiveInt(key) ?? this.fail(key, 'a positive integer', undefined);
  }
}

/** Stored parameters: every tensor but the RoPE factors (a tied output head is not a separate tensor). */
export function ggufParameterCount(header: Pick<GgufHeader, 'tensors'>): number {
  return header.tensors.reduce((sum, t) => sum + (CONFIG_TENSORS.has(t.name) ? 0 : t.elementCount), 0);
}
