// LlamaConfig from a GGUF header: `general.architecture` and its `{arch}.*` keys (names as
// llama.cpp writes them), with the vocabulary size and head tying read from the tensor table.
import { InvalidFileError, UnsupportedError } from '../../errors';
import type { Architecture, LlamaConfig, RopeScaling } from '../description';
import type { GgufValue } from './metadata';
import type { GgufHeader } from './reader';

const ARCHITECTURES: Readonly<Record<string, Architecture>> = { llama: 'llama', mistral: 'mistral', qwen2: 'qwen2' };
const DEFAULT_ROPE_THETA = 10000;

export function ggufConfig(header: GgufHeader): LlamaConfig {
  const meta = new ConfigKeys(header);
  const archName = meta.string('general.architecture');
  const architecture = ARCHITECTURES[archName];
  if (!architecture) {
    throw new UnsupportedError(`architecture "${archName}" is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`, header.path);
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
  if (header.tensors.some((t) => t.name === 'rope_freqs.weight')) {
    throw new UnsupportedError('per-frequency RoPE factors (rope_freqs.weight, Llama 3.1 scaling) are not supported yet', header.path);
  }

  const embedding = header.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embedding || embedding.ne.length !== 2) throw new InvalidFileError('token_embd.weight is missing or not 2-D', header.path);
  const ropeScaling = readRopeScaling(meta, archName, header.path);
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
    ropeTheta: meta.optionalPositiveNumber(key('rope.freq_base')) ?? DEFAULT_ROPE_THETA,
    ...(ropeScaling && { ropeScaling }),
    maxPositionEmbeddings: meta.positiveInt(key('context_length')),
    tieWordEmbeddings: !header.tensors.some((t) => t.name === 'output.weight'),
    attentionBias: header.tensors.some((t) => t.name === 'blk.0.attn_q.bias'),
  };
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
    const shown = got === undefined ? 'missing' : Array.isArray(got) ? 'an array' : `${typeof got} ${String(got)}`;
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
