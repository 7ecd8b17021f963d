// Hugging Face `config.json` <-> LlamaConfig, for the Llama family (Llama, SmolLM, Mistral,
// Qwen2, Qwen3, Phi-3 / Phi-4-mini, Gemma 2, Gemma 3 text). Defaults are transformers' own
// (each family's config class), because transformers leaves keys equal to them out of the
// config.json it saves. Both the transformers 4 keys (`rope_theta`, `rope_scaling`,
// `rope_local_base_freq`) and the transformers 5 `rope_parameters` (per layer type for Gemma 3)
// are read.
import { InvalidFileError, UnsupportedError } from '../../errors';
import { quote } from '../../safeText';
import type { Architecture, LayerAttention, LlamaConfig, RopeScaling } from '../description';
import { GEMMA3_LOCAL_ROPE_THETA, GEMMA_SLIDING_PATTERN, gemmaLayerTypes, gemmaSwitches, isGemma } from '../families';

/** Model class -> architecture; keyed by file content, so a Map (no inherited keys such as "toString"). */
const ARCHITECTURES: ReadonlyMap<string, Architecture> = new Map([
  ['LlamaForCausalLM', 'llama'],
  ['MistralForCausalLM', 'mistral'],
  ['Qwen2ForCausalLM', 'qwen2'],
  ['Qwen3ForCausalLM', 'qwen3'],
  ['Phi3ForCausalLM', 'phi3'],
  ['Gemma2ForCausalLM', 'gemma2'],
  ['Gemma3ForCausalLM', 'gemma3'],
]);
const CLASS_NAMES: Readonly<Record<Architecture, string>> = {
  llama: 'LlamaForCausalLM',
  smollm: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  phi3: 'Phi3ForCausalLM',
  gemma2: 'Gemma2ForCausalLM',
  gemma3: 'Gemma3ForCausalLM',
};
const MODEL_TYPES: Readonly<Record<Architecture, string>> = {
  llama: 'llama',
  smollm: 'llama',
  mistral: 'mistral',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  phi3: 'phi3',
  gemma2: 'gemma2',
  gemma3: 'gemma3_text',
};

/** The transformers config-class defaults this parser needs, where they differ from Llama's. */
interface FamilyDefaults {
  readonly activation: 'silu' | 'gelu_pytorch_tanh';
  readonly tieWordEmbeddings: boolean;
  readonly rmsNormEps: number;
  readonly maxPositionEmbeddings: number;
  readonly headDim?: number;
  readonly ropeTheta: number;
  readonly slidingWindow?: number;
}
const LLAMA_DEFAULTS: FamilyDefaults = { activation: 'silu', tieWordEmbeddings: false, rmsNormEps: 1e-6, maxPositionEmbeddings: 2048, ropeTheta: 10000 };
const GEMMA_DEFAULTS: FamilyDefaults = { ...LLAMA_DEFAULTS, activation: 'gelu_pytorch_tanh', tieWordEmbeddings: true, headDim: 256 };
const DEFAULTS: Readonly<Record<Architecture, FamilyDefaults>> = {
  llama: LLAMA_DEFAULTS,
  smollm: LLAMA_DEFAULTS,
  mistral: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 131072, slidingWindow: 4096 },
  qwen2: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 32768 },
  qwen3: { ...LLAMA_DEFAULTS, maxPositionEmbeddings: 32768, headDim: 128 },
  phi3: { ...LLAMA_DEFAULTS, rmsNormEps: 1e-5, maxPositionEmbeddings: 4096 },
  gemma2: { ...GEMMA_DEFAULTS, maxPositionEmbeddings: 8192, slidingWindow: 4096 },
  gemma3: { ...GEMMA_DEFAULTS, maxPositionEmbeddings: 131072, ropeTheta: 1e6, slidingWindow: 4096 },
};
// The families whose transformers model honours `sliding_window` (Qwen's needs use_sliding_window).
const SLIDING_FAMILIES: ReadonlySet<Architecture> = new Set(['mistral', 'phi3', 'gemma2', 'gemma3']);

export const SUPPORTED_HF_CLASSES: readonly string[] = [...ARCHITECTURES.keys()];

export function parseHfConfig(json: unknown, path: string): LlamaConfig {
  const c = new ConfigFields(json, path);
  const className = c.architectureClass();
  const architecture = ARCHITECTURES.get(className);
  if (!architecture) {
    throw new UnsupportedError(`architecture ${quote(className)} is not supported (supported: ${SUPPORTED_HF_CLASSES.join(', ')})`, path);
  }
  const defaults = DEFAULTS[architecture];
  const act = c.optionalString(isGemma(architecture) ? 'hidden_activation' : 'hidden_act') ?? c.optionalString('hidden_act') ?? defaults.activation;
  if (act !== defaults.activation) throw new UnsupportedError(`activation "${act}" is not supported for ${className} (only ${defaults.activation})`, path);
  if (c.optionalBoolean('mlp_bias')) throw new UnsupportedError('mlp_bias is not supported', path);
  if (c.optionalBoolean('use_sliding_window')) throw new UnsupportedError('use_sliding_window (Qwen sliding layers) is not supported', path);
  if (c.optionalBoolean('use_bidirectional_attention')) throw new UnsupportedError('use_bidirectional_attention (embedding models) is not supported', path);

  const hiddenSize = c.positiveInt('hidden_size');
  const numHeads = c.positiveInt('num_attention_heads');
  const numKvHeads = c.optionalPositiveInt('num_key_value_heads') ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new InvalidFileError(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`, path);
  }
  const headDim = c.optionalPositiveInt('head_dim') ?? defaults.headDim ?? hiddenSize / numHeads;
  if (!Number.isInteger(headDim)) throw new InvalidFileError(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`, path);
  const numLayers = c.positiveInt('num_hidden_layers');
  const maxPositionEmbeddings = c.optionalPositiveInt('max_position_embeddings') ?? defaults.maxPositionEmbeddings;

  // transformers 5 moved rope_theta and the scaling into `rope_parameters` (Gemma 3: one per layer type).
  const ropeParameters = c.optionalObject('rope_parameters');
  const perLayerType = architecture === 'gemma3' && ropeParameters !== undefined && isObject(ropeParameters.full_attention);
  const rope = perLayerType ? (ropeParameters!.full_attention as Record<string, unknown>) : (ropeParameters ?? c.optionalObject('rope_scaling'));
  const ropeTheta = positive(rope?.rope_theta) ?? c.optionalPositiveNumber('rope_theta') ?? defaults.ropeTheta;
  const ropeScaling = rope && parseRopeScaling(rope, c, maxPositionEmbeddings, path);
  const partialRotary = positive(rope?.partial_rotary_factor) ?? c.optionalPositiveNumber('partial_rotary_factor') ?? 1;
  const rotaryDim = Math.floor(headDim * partialRotary);
  if (rotaryDim % 2 !== 0 || partialRotary > 1) throw new InvalidFileError(`partial_rotary_factor ${partialRotary} of head_dim ${headDim} is not an even number of dimensions`, path);
  if (ropeScaling?.type === 'longrope') {
    for (const key of ['shortFactor', 'longFactor'] as const) {
      if (ropeScaling[key]!.length !== rotaryDim / 2) throw new InvalidFileError(`longrope ${key} has ${ropeScaling[key]!.length} values, expected ${rotaryDim / 2}`, path);
    }
  }

  const slidingWindow = !SLIDING_FAMILIES.has(architecture) ? undefined : c.has('sliding_window') ? c.optionalPositiveInt('sliding_window') : defaults.slidingWindow;
  const config: LlamaConfig = {
    architecture,
    hiddenSize,
    intermediateSize: c.positiveInt('intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: c.positiveInt('vocab_size'),
    rmsNormEps: c.optionalPositiveNumber('rms_norm_eps') ?? defaults.rmsNormEps,
    ropeTheta,
    ...(ropeScaling && { ropeScaling }),
    maxPositionEmbeddings,
    tieWordEmbeddings: c.optionalBoolean('tie_word_embeddings') ?? defaults.tieWordEmbeddings,
    // Qwen2 always has q/k/v biases; the others only when `attention_bias` says so.
    attentionBias: architecture === 'qwen2' || (c.optionalBoolean('attention_bias') ?? false),
    ...(rotaryDim !== headDim && { rotaryDim }),
    ...(slidingWindow !== undefined && { slidingWindow }),
  };
  switch (architecture) {
    case 'qwen3':
      return { ...config, qkNorm: true };
    case 'phi3':
      return { ...config, fusedProjections: true };
    case 'gemma2':
    case 'gemma3': {
      const localRope = perLayerType && isObject(ropeParameters!.sliding_attention) ? (ropeParameters!.sliding_attention as Record<string, unknown>) : undefined;
      if (localRope && (localRope.rope_type ?? 'default') !== 'default') throw new UnsupportedError('Gemma 3 sliding layers with RoPE scaling are not supported', path);
      return {
        ...config,
        ...gemmaSwitches(hiddenSize),
        queryPreAttnScalar: c.optionalPositiveNumber('query_pre_attn_scalar') ?? headDim,
        ...softcaps(c, architecture),
        layerTypes: c.layerTypes(numLayers) ?? gemmaLayerTypes(numLayers, c.optionalPositiveInt('sliding_window_pattern') ?? GEMMA_SLIDING_PATTERN[architecture]!),
        ...(architecture === 'gemma3' && {
          qkNorm: true,
          localRopeTheta: positive(localRope?.rope_theta) ?? c.optionalPositiveNumber('rope_local_base_freq') ?? GEMMA3_LOCAL_ROPE_THETA,
        }),
      };
    }
    default:
      return config;
  }
}

/** Gemma 2 caps attention scores at 50 and logits at 30 unless the config says otherwise (null: no cap); Gemma 3 caps neither. */
function softcaps(c: ConfigFields, architecture: Architecture): Pick<LlamaConfig, 'attnLogitSoftcap' | 'finalLogitSoftcap'> {
  const read = (key: string, gemma2Default: number) => (c.has(key) ? c.optionalPositiveNumber(key) : architecture === 'gemma2' ? gemma2Default : undefined);
  const attn = read('attn_logit_softcapping', 50);
  const final = read('final_logit_softcapping', 30);
  return { ...(attn !== undefined && { attnLogitSoftcap: attn }), ...(final !== undefined && { finalLogitSoftcap: final }) };
}

function parseRopeScaling(rope: Record<string, unknown>, c: ConfigFields, maxPositionEmbeddings: number, path: string): RopeScaling | undefined {
  const type = rope.rope_type ?? rope.type ?? 'default';
  if (type === 'default') return undefined;
  if (type === 'longrope' || type === 'su') return parseLongRope(rope, c, maxPositionEmbeddings, path);
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
  throw new UnsupportedError(`rope scaling "${String(type)}" is not supported (only linear, llama3 and longrope)`, path);
}

/** Phi-3's LongRoPE ("su" in early configs), with transformers' default attention factor. */
function parseLongRope(rope: Record<string, unknown>, c: ConfigFields, maxPositionEmbeddings: number, path: string): RopeScaling {
  const factors = (key: string) => {
    const v = rope[key];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => positive(x) !== undefined)) throw new InvalidFileError(`longrope ${key} must be a list of positive numbers`, path);
    return v as number[];
  };
  const original = positive(rope.original_max_position_embeddings) ?? c.optionalPositiveInt('original_max_position_embeddings');
  if (original === undefined) throw new InvalidFileError('longrope scaling needs original_max_position_embeddings', path);
  const factor = positive(rope.factor) ?? maxPositionEmbeddings / original;
  const attentionFactor = positive(rope.attention_factor) ?? (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(original)));
  return { type: 'longrope', factor, originalMaxPositionEmbeddings: original, shortFactor: factors('short_factor'), longFactor: factors('long_factor'), attentionFactor };
}

/** The config.json transformers would write for this model (float32 weights). */
export function toHfConfigJson(config: LlamaConfig, special: { bos?: number; eos?: number }): Record<string, unknown> {
  const s = config.ropeScaling;
  const gemma = isGemma(config.architecture);
  return {
    architectures: [CLASS_NAMES[config.architecture]],
    model_type: MODEL_TYPES[config.architecture],
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    vocab_size: config.vocabSize,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: s ? hfRopeScaling(s) : null,
    max_position_embeddings: config.maxPositionEmbeddings,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: config.attentionBias,
    mlp_bias: false,
    [gemma ? 'hidden_activation' : 'hidden_act']: config.hiddenActivation === 'gelu_tanh' ? 'gelu_pytorch_tanh' : 'silu',
    ...(config.rotaryDim !== undefined && { partial_rotary_factor: config.rotaryDim / config.headDim }),
    ...(s?.type === 'longrope' && { original_max_position_embeddings: s.originalMaxPositionEmbeddings }),
    sliding_window: config.slidingWindow ?? null,
    ...(config.layerTypes && { layer_types: config.layerTypes.map((t) => `${t}_attention`) }),
    ...(config.queryPreAttnScalar !== undefined && { query_pre_attn_scalar: config.queryPreAttnScalar }),
    ...(gemma && { attn_logit_softcapping: config.attnLogitSoftcap ?? null, final_logit_softcapping: config.finalLogitSoftcap ?? null }),
    ...(config.localRopeTheta !== undefined && { rope_local_base_freq: config.localRopeTheta }),
    bos_token_id: special.bos ?? null,
    eos_token_id: special.eos ?? null,
    torch_dtype: 'float32',
  };
}

// Fields transformers' strict config classes type as float, which refuse a JSON integer (50).
const FLOAT_FIELDS: ReadonlySet<string> = new Set(['attn_logit_softcapping', 'final_logit_softcapping']);

/** config.json text: JSON, with the float-typed fields written as floats (50.0) even when whole. */
export function hfConfigJsonText(config: Record<string, unknown>): string {
  return JSON.stringify(config, null, 2).replace(/^(\s*)"([a-z_]+)": (-?\d+)(,?)$/gm, (line, indent, key, value, comma) =>
    FLOAT_FIELDS.has(key) ? `${indent}"${key}": ${value}.0${comma}` : line,
  ) + '\n';
}

function hfRopeScaling(s: RopeScaling): Record<string, unknown> {
  switch (s.type) {
    case 'linear':
      return { rope_type: 'linear', factor: s.factor };
    case 'longrope':
      return { rope_type: 'longrope', short_factor: s.shortFactor, long_factor: s.longFactor, attention_factor: s.attentionFactor };
    case 'llama3':
      return {
        rope_type: 'llama3',
        factor: s.factor,
        low_freq_factor: s.lowFreqFactor,
        high_freq_factor: s.highFreqFactor,
        original_max_position_embeddings: s.originalMaxPositionEmbeddings,
      };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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

  /** Whether the key is present, even as null (which then overrides a family default). */
  has(key: string): boolean {
    return Object.hasOwn(this.doc, key);
  }

  /** `layer_types` as 'full' / 'sliding', or undefined when absent. */
  layerTypes(numLayers: number): LayerAttention[] | undefined {
    const list = this.doc.layer_types;
    if (list === undefined || list === null) return undefined;
    const kinds = new Map<unknown, LayerAttention>([['full_attention', 'full'], ['sliding_attention', 'sliding']]);
    if (!Array.isArray(list) || list.length !== numLayers || !list.every((t) => kinds.has(t))) {
      return this.fail('layer_types', `a list of ${numLayers} "full_attention" / "sliding_attention"`);
    }
    return list.map((t) => kinds.get(t)!);
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
