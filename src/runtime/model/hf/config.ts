// Hugging Face `config.json` <-> LlamaConfig, for the Llama family (Llama, SmolLM, Mistral,
// Qwen2). Defaults are transformers' own (LlamaConfig, MistralConfig, Qwen2Config), and both the
// transformers 4 keys (`rope_theta`, `rope_scaling`) and 5 keys (`rope_parameters`) are read.
import { InvalidFileError, UnsupportedError } from '../../errors';
import { quote } from '../../safeText';
import type { Architecture, LlamaConfig, RopeScaling } from '../description';

const ARCHITECTURES: Readonly<Record<string, Architecture>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};
const CLASS_NAMES: Readonly<Record<Architecture, string>> = {
  llama: 'LlamaForCausalLM',
  smollm: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

export function parseHfConfig(json: unknown, path: string): LlamaConfig {
  const c = new ConfigFields(json, path);
  const className = c.architectureClass();
  // a name from the file: `toString` must not find Object's own members
  const architecture = Object.hasOwn(ARCHITECTURES, className) ? ARCHITECTURES[className] : undefined;
  if (!architecture) {
    throw new UnsupportedError(`architecture ${quote(className)} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`, path);
  }
  const act = c.optionalString('hidden_act') ?? 'silu';
  if (act !== 'silu') throw new UnsupportedError(`hidden_act "${act}" is not supported (only silu)`, path);
  if (c.optionalBoolean('mlp_bias')) throw new UnsupportedError('mlp_bias is not supported', path);

  const hiddenSize = c.positiveInt('hidden_size');
  const numHeads = c.positiveInt('num_attention_heads');
  const numKvHeads = c.optionalPositiveInt('num_key_value_heads') ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new InvalidFileError(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`, path);
  }
  const headDim = c.optionalPositiveInt('head_dim') ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) throw new InvalidFileError(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`, path);

  // transformers 5 moved rope_theta and the scaling into `rope_parameters`.
  const rope = c.optionalObject('rope_parameters') ?? c.optionalObject('rope_scaling');
  const ropeTheta = positive(rope?.rope_theta) ?? c.optionalPositiveNumber('rope_theta') ?? 10000;
  const ropeScaling = rope && parseRopeScaling(rope, path);
  return {
    architecture,
    hiddenSize,
    intermediateSize: c.positiveInt('intermediate_size'),
    numLayers: c.positiveInt('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: c.positiveInt('vocab_size'),
    rmsNormEps: c.optionalPositiveNumber('rms_norm_eps') ?? 1e-6,
    ropeTheta,
    ...(ropeScaling && { ropeScaling }),
    maxPositionEmbeddings: c.optionalPositiveInt('max_position_embeddings') ?? 2048,
    tieWordEmbeddings: c.optionalBoolean('tie_word_embeddings') ?? false,
    // Qwen2 always has q/k/v biases; Llama and Mistral have them only when `attention_bias` says so.
    attentionBias: architecture === 'qwen2' || (c.optionalBoolean('attention_bias') ?? false),
  };
}

function parseRopeScaling(rope: Record<string, unknown>, path: string): RopeScaling | undefined {
  const type = rope.rope_type ?? rope.type ?? 'default';
  if (type === 'default') return undefined;
  const factor = positive(rope.factor);
  if (factor === undefined) throw new InvalidFileError(`rope scaling "${String(type)}" needs a positive factor`, path);
  if (type === 'linear') return { type: 'linear', factor };
  if (type === 'llama3') {
    const fields = {
      lowFreqFactor: positive(rope.low_freq_factor),
      highFreqFactor: positive(rope.high_freq_factor),
      originalMaxPositionEmbeddings: positive(rope.original_max_position_embeddings),
    };
    for (const [name, v] of Object.entries(fields)) {
      if (v === undefined) throw new InvalidFileError(`llama3 rope scaling needs a positive ${name}`, path);
    }
    return { type: 'llama3', factor, ...fields };
  }
  throw new UnsupportedError(`rope scaling "${String(type)}" is not supported (only linear and llama3)`, path);
}

/** The config.json transformers would write for this model (float32 weights). */
export function toHfConfigJson(config: LlamaConfig, special: { bos?: number; eos?: number }): Record<string, unknown> {
  const s = config.ropeScaling;
  return {
    architectures: [CLASS_NAMES[config.architecture]],
    model_type: config.architecture === 'smollm' ? 'llama' : config.architecture,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    vocab_size: config.vocabSize,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: s
      ? s.type === 'linear'
        ? { rope_type: 'linear', factor: s.factor }
        : {
            rope_type: 'llama3',
            factor: s.factor,
            low_freq_factor: s.lowFreqFactor,
            high_freq_factor: s.highFreqFactor,
            original_max_position_embeddings: s.originalMaxPositionEmbeddings,
          }
      : null,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: config.attentionBias,
    mlp_bias: false,
    hidden_act: 'silu',
    bos_token_id: special.bos ?? null,
    eos_token_id: special.eos ?? null,
    torch_dtype: 'float32',
  };
}

function positive(v: unknown): number | undefined {
  return typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : undefined;
}

/** Typed reads of config.json fields; each failure names the field. */
class ConfigFields {
  private readonly doc: Record<string, unknown>;

  constructor(json: unknown, private readonly path: string) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InvalidFileError('config.json is not a JSON object', path);
    this.doc = json as Record<string, unknown>;
  }

  private fail(key: string, want: string): never {
    const got = this.doc[key];
    throw new InvalidFileError(`config.json ${key} must be ${want}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`, this.path);
  }

  architectureClass(): string {
    const list = this.doc.architectures;
    if (Array.isArray(list) && typeof list[0] === 'string') return list[0];
    return this.fail('architectures', 'a list with the model class name');
  }

  optionalString(key: string): string | undefined {
    const v = this.doc[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : this.fail(key, 'a string');
  }

  optionalBoolean(key: string): boolean | undefined {
    const v = this.doc[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'boolean' ? v : this.fail(key, 'true or false');
  }

  optionalObject(key: string): Record<string, unknown> | undefined {
    const v = this.doc[key];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : this.fail(key, 'an object');
  }

  optionalPositiveNumber(key: string): number | undefined {
    const v = this.doc[key];
    if (v === undefined || v === null) return undefined;
    return positive(v) ?? this.fail(key, 'a positive number');
  }

  optionalPositiveInt(key: string): number | undefined {
    const v = this.doc[key];
    if (v === undefined || v === null) return undefined;
    return Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : this.fail(key, 'a positive integer');
  }

  positiveInt(key: string): number {
    return this.optionalPositiveInt(key) ?? this.fail(key, 'a positive integer');
  }
}
