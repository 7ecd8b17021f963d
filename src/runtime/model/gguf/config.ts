// LlamaConfig from a GGUF header: `general.architecture` and its `{arch}.*` keys (names as
// llama.cpp writes them), with the vocabulary size and head tying read from the tensor table.
import { InvalidFileError, UnsupportedError } from '../../errors';
import { quote } from '../../safeText';
import type { Architecture, LlamaConfig, RopeScaling } from '../description';
import type { GgufValue } from './metadata';
import type { GgufHeader } from './reader';

const ARCHITECTURES: Readonly<Record<string, Architecture>> = { llama: 'llama', mistral: 'mistral', qwen2: 'qwen2' };
const DEFAULT_ROPE_THETA = 10000;

/**
 * `ropeFreqs`: the values of the `rope_freqs.weight` tensor, which the caller reads when the
 * file has one (llama.cpp's form of Llama 3.1 RoPE scaling).
 */
export function ggufConfig(header: GgufHeader, ropeFreqs?: Float32Array): LlamaConfig {
  const meta = new ConfigKeys(header);
  const archName = meta.string('general.architecture');
  // a name from the file: `constructor` must not find Object's own members
  const architecture = Object.hasOwn(ARCHITECTURES, archName) ? ARCHITECTURES[archName] : undefined;
  if (!architecture) {
    throw new UnsupportedError(`architecture ${quote(archName)} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`, header.path);
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
  const ropeDims = meta.optionalPositiveInt(key('rope.dimension_count'));
  if (ropeDims !== undefined && ropeDims !== headDim) {
    throw new UnsupportedError(`partial rotary embedding (rope.dimension_count ${ropeDims} of head size ${headDim}) is not supported`, header.path);
  }

  const embedding = header.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embedding || embedding.ne.length !== 2) throw new InvalidFileError('token_embd.weight is missing or not 2-D', header.path);
  const ropeTheta = meta.optionalPositiveNumber(key('rope.freq_base')) ?? DEFAULT_ROPE_THETA;
  const hasRopeFreqs = header.tensors.some((t) => t.name === ROPE_FREQS_TENSOR);
  if (hasRopeFreqs && !ropeFreqs) throw new Error(`ggufConfig needs the values of ${ROPE_FREQS_TENSOR}`);
  const ropeScaling = hasRopeFreqs
    ? llama3ScalingFromFreqs(ropeFreqs!, headDim, ropeTheta, meta.optionalPositiveInt(key('rope.scaling.original_context_length')), header.path)
    : readRopeScaling(meta, archName, header.path);
  return {
    architecture,
    hiddenSize,
    intermediateSize: meta.positiveInt(key('feed_forward_length')),
    numLayers: meta.positiveInt(key('block_count')),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: embedding.ne[1]!,
    rmsNormEps: meta.positiveNumber(key('attention.layer_norm_rms_epsilon')),
    ropeTheta,
    ...(ropeScaling && { ropeScaling }),
    maxPositionEmbeddings: meta.positiveInt(key('context_length')),
    tieWordEmbeddings: !header.tensors.some((t) => t.name === 'output.weight'),
    attentionBias: header.tensors.some((t) => t.name === 'blk.0.attn_q.bias'),
  };
}

export const ROPE_FREQS_TENSOR = 'rope_freqs.weight';

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
  // Older converters wrote only `rope.scale_linear`.
  const legacyLinear = meta.optionalPositiveNumber(`${arch}.rope.scale_linear`);
  if (type === undefined || type === 'none') {
    return legacyLinear !== undefined && legacyLinear !== 1 ? { type: 'linear', factor: legacyLinear } : undefined;
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

  optionalPositiveInt(key: string): number | undefined {
    const n = this.optionalPositiveNumber(key);
    if (n !== undefined && !Number.isSafeInteger(n)) return this.fail(key, 'a positive integer', n);
    return n;
  }

  positiveInt(key: string): number {
    return this.optionalPositiveInt(key) ?? this.fail(key, 'a positive integer', undefined);
  }
}
