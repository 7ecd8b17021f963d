/**
 * A Llama-family decoder (Llama, Mistral, Qwen2/3, SmolLM, Phi-3, Gemma 2/3) as an ONNX graph,
 * from Hugging Face weights. One function per block, top to bottom: rotary tables, attention
 * masks, RMSNorm, attention, MLP, the layer, the model. Each family's departures from Llama are
 * config switches read by the block they change (see model/description.ts).
 *
 * Graph inputs:
 *   inputs_embeds  float32 [batch, seq, hidden]   embedding rows (Gemma's sqrt(hidden) scale is applied here)
 *   attention_mask int64   [batch, past+seq]   1 = attend, 0 = padding (left or right)
 *   past_key_values.{i}.key / .value  float32 [batch, kvHeads, past, headDim]   (kvCache only)
 * Graph outputs:
 *   hidden  float32 [batch, seq, hidden]   after the final RMSNorm
 *   logits  float32 [batch, seq, vocab] ('all') or [batch, 1, vocab] ('last')   on request
 *   present.{i}.key / .value  float32 [batch, kvHeads, past+seq, headDim]   (kvCache only)
 *
 * Positions come from the mask (cumulative sum - 1), so a left-padded row numbers its real
 * tokens from 0. A sliding layer's window counts cache positions, as transformers does. GQA
 * never materializes repeated KV heads: queries are grouped as [batch, kvHeads, groups, seq,
 * headDim] and MatMul broadcasts K/V over the group axis. Projection weights are stored
 * pre-transposed ([in, out]) so every linear layer is one MatMul; q/k/v and gate/up are packed
 * side by side (or stored fused, Phi-3), so each group is one MatMul and a Split.
 */
import type { LayerAttention, LlamaConfig, WeightMap } from '../model/description';
import { InvalidFileError } from '../errors';
import { Graph, type Value } from '../graph/graph';
import { ropeInverseFrequencies, rotaryDim, type RopeTable } from './rope';

export type LogitsMode = 'none' | 'last' | 'all';

export interface DecoderGraphOptions {
  readonly logits: LogitsMode;
  readonly kvCache: boolean;
}

export interface DecoderGraph {
  readonly graph: Graph;
  readonly inputsEmbeds: Value;
  readonly attentionMask: Value;
  readonly hidden: Value;
  readonly logits?: Value;
}

/** Float32 lowest, what transformers adds to masked attention scores. */
const MASKED = -3.4028234663852886e38;
const SLICE_TO_END = 2 ** 31 - 1;

export const pastKeyName = (layer: number) => `past_key_values.${layer}.key`;
export const pastValueName = (layer: number) => `past_key_values.${layer}.value`;
export const presentKeyName = (layer: number) => `present.${layer}.key`;
export const presentValueName = (layer: number) => `present.${layer}.value`;

/** Whether a layer attends to every earlier key or only to the last `slidingWindow`. */
export function layerAttention(config: LlamaConfig, layer: number): LayerAttention {
  if (config.slidingWindow === undefined) return 'full';
  return config.layerTypes?.[layer] ?? 'sliding';
}

/** What a layer reads that depends only on its attention kind: rotary tables and mask bias. */
type PerAttention<T> = Readonly<Record<LayerAttention, T>>;

export function buildDecoderGraph(config: LlamaConfig, weights: WeightMap, options: DecoderGraphOptions): DecoderGraph {
  const g = new Graph('llama_decoder');
  const total = options.kvCache ? 'past+seq' : 'seq';
  const inputsEmbeds = g.input('inputs_embeds', 'float32', ['batch', 'seq', config.hiddenSize]);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', total]);
  const w = new Weights(g, weights);

  const rotary = rotaryTables(g, config, inputsEmbeds, attentionMask);
  const maskBias = attentionBiases(g, config, inputsEmbeds, attentionMask, total);

  let x = config.embeddingMultiplier === undefined ? inputsEmbeds : g.mul(inputsEmbeds, g.scalar(config.embeddingMultiplier, 'embedding_multiplier'));
  for (let layer = 0; layer < config.numLayers; layer++) {
    const past = options.kvCache ? pastKeyValues(g, config, layer) : undefined;
    const kind = layerAttention(config, layer);
    x = decoderLayer(g, config, w, layer, x, rotary[kind], maskBias[kind], past);
  }
  const hidden = g.output(norm(g, config, w, x, 'model.norm.weight'), 'hidden');

  if (options.logits === 'none') return { graph: g, inputsEmbeds, attentionMask, hidden };
  const head = w.linear(config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const fromHidden = options.logits === 'last' ? g.slice(hidden, [-1], [SLICE_TO_END], [1], ['batch', 1, config.hiddenSize]) : hidden;
  const logits = g.output(softcap(g, g.matMul(fromHidden, head), config.finalLogitSoftcap), 'logits');
  return { graph: g, inputsEmbeds, attentionMask, hidden, logits };
}

interface Rotary {
  /** [batch, 1, seq, rotaryDim]: broadcasts over heads. */
  readonly cos: Value;
  readonly sin: Value;
}

/** cos/sin of position * inverse frequency, positions counted from the mask; Gemma 3's local layers have their own. */
function rotaryTables(g: Graph, config: LlamaConfig, inputsEmbeds: Value, mask: Value): PerAttention<Rotary> {
  const seqLen = g.shapeOf(inputsEmbeds, 1, 2);
  const positionsAll = g.sub(g.cumSum(mask, 1), g.int64s([1], 'one'));
  const positions = g.sliceDynamic(positionsAll, g.neg(seqLen), g.int64s([SLICE_TO_END], 'end'), [1], ['batch', 'seq']);
  const full = rotaryTable(g, config, positions, {});
  return { full, sliding: config.localRopeTheta === undefined ? full : rotaryTable(g, config, positions, { local: true }) };
}

function rotaryTable(g: Graph, config: LlamaConfig, positions: Value, table: RopeTable): Rotary {
  const half = rotaryDim(config) / 2;
  const prefix = table.local ? 'rope.local' : 'rope';
  let invFreq = g.initializer(`${prefix}.inv_freq`, 'float32', [half], ropeInverseFrequencies(config, table));
  const scaling = table.local ? undefined : config.ropeScaling;
  if (scaling?.type === 'longrope') {
    // transformers switches every position to the long factors once the call's last position
    // reaches the original context (cached keys keep the rotation they were stored with).
    const long = g.initializer(`${prefix}.inv_freq_long`, 'float32', [half], ropeInverseFrequencies(config, { long: true }));
    const last = g.reduceMax(positions, [0, 1], false);
    const beyond = g.greater(last, g.initializer('rope.last_short_position', 'int64', [], BigInt64Array.of(BigInt(scaling.originalMaxPositionEmbeddings! - 1))));
    invFreq = g.where(beyond, long, invFreq);
  }
  const freqs = g.mul(g.unsqueeze(g.cast(positions, 'float32'), [2]), invFreq);
  const angles = g.unsqueeze(g.concat([freqs, freqs], -1), [1]);
  const factor = scaling?.attentionFactor ?? 1;
  const scaled = (v: Value) => (factor === 1 ? v : g.mul(v, g.scalar(factor, 'rope_attention_factor')));
  return { cos: scaled(g.cos(angles)), sin: scaled(g.sin(angles)) };
}

/**
 * Additive attention biases [batch, 1, seq, past+seq]: 0 where query i may see key j (j is not
 * padding and j <= past + i; for a sliding layer also past + i - j < slidingWindow), float32
 * lowest elsewhere.
 */
function attentionBiases(g: Graph, config: LlamaConfig, inputsEmbeds: Value, mask: Value, total: string): PerAttention<Value> {
  const seqLen = g.dimOf(inputsEmbeds, 1);
  const totalLen = g.dimOf(mask, 1);
  const pastLen = g.sub(totalLen, seqLen);
  const one = g.initializer('one_scalar', 'int64', [], BigInt64Array.of(1n));
  const zero = g.initializer('zero_scalar', 'int64', [], BigInt64Array.of(0n));
  const keyIndex = g.range(zero, totalLen, one, total);
  const queryIndex = g.unsqueeze(g.range(pastLen, totalLen, one, 'seq'), [1]);
  const causal = g.lessOrEqual(keyIndex, queryIndex);
  const notPadding = g.unsqueeze(g.equal(mask, one), [1, 2]);
  const bias = (allowed: Value) => g.where(allowed, g.scalar(0, 'attend'), g.scalar(MASKED, 'masked'));
  const full = bias(g.and(causal, notPadding));
  if (config.slidingWindow === undefined) return { full, sliding: full };
  const window = g.initializer('sliding_window', 'int64', [], BigInt64Array.of(BigInt(config.slidingWindow)));
  const inWindow = g.less(g.sub(queryIndex, keyIndex), window);
  return { full, sliding: bias(g.and(g.and(causal, inWindow), notPadding)) };
}

interface PastKeyValues {
  readonly key: Value;
  readonly value: Value;
}

function pastKeyValues(g: Graph, config: LlamaConfig, layer: number): PastKeyValues {
  const shape = ['batch', config.numKvHeads, 'past', config.headDim];
  return { key: g.input(pastKeyName(layer), 'float32', shape), value: g.input(pastValueName(layer), 'float32', shape) };
}

/**
 * Pre-norm residual blocks. With sandwich norms (Gemma) the attention and MLP outputs are
 * normed again before the residual add, and the MLP's input norm is `pre_feedforward_layernorm`.
 */
function decoderLayer(g: Graph, config: LlamaConfig, w: Weights, layer: number, x: Value, rotary: Rotary, maskBias: Value, past?: PastKeyValues): Value {
  const p = `model.layers.${layer}`;
  const sandwich = config.sandwichNorms === true;
  let attn = attention(g, config, w, layer, norm(g, config, w, x, `${p}.input_layernorm.weight`), rotary, maskBias, past);
  if (sandwich) attn = norm(g, config, w, attn, `${p}.post_attention_layernorm.weight`);
  const h = g.add(x, attn);
  let ffn = mlp(g, config, w, p, norm(g, config, w, h, `${p}.${sandwich ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'}.weight`));
  if (sandwich) ffn = norm(g, config, w, ffn, `${p}.post_feedforward_layernorm.weight`);
  return g.add(h, ffn);
}

/** The model's RMSNorm with weight `name`: x-hat * w, or Gemma's x-hat * (1 + w). */
function norm(g: Graph, config: LlamaConfig, w: Weights, x: Value, name: string): Value {
  const weight = w.vector(name);
  return rmsNorm(g, x, config.normWeightOffset ? g.add(weight, g.scalar(1, 'one_plus')) : weight, config.rmsNormEps);
}

/** x / sqrt(mean(x^2) + eps) * weight, in the pattern onnxruntime fuses into one kernel. */
function rmsNorm(g: Graph, x: Value, weight: Value, eps: number): Value {
  const variance = g.reduceMean(g.pow(x, g.scalar(2, 'two')), [-1]);
  return g.mul(g.div(x, g.sqrt(g.add(variance, g.scalar(eps, 'eps')))), weight);
}

/** Gemma 2's soft-capping, cap * tanh(x / cap); x itself without a cap. */
function softcap(g: Graph, x: Value, cap: number | undefined): Value {
  if (cap === undefined) return x;
  return g.mul(g.tanh(g.mul(x, g.scalar(1 / cap, 'softcap_inv'))), g.scalar(cap, 'softcap'));
}

/**
 * Hugging Face's rotate_half convention on the first `dim` dimensions of each head:
 * (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin); the other dimensions pass through (Phi-4-mini).
 */
function applyRotary(g: Graph, x: Value, rotary: Rotary, headDim: number, dim: number): Value {
  const half = dim / 2;
  const rot = dim === headDim ? x : g.slice(x, [0], [dim], [-1]);
  const x1 = g.slice(rot, [0], [half], [-1]);
  const x2 = g.slice(rot, [half], [dim], [-1]);
  const rotated = g.concat([g.neg(x2), x1], -1);
  const out = g.add(g.mul(rot, rotary.cos), g.mul(rotated, rotary.sin));
  return dim === headDim ? out : g.concat([out, g.slice(x, [dim], [headDim], [-1])], -1);
}

function attention(g: Graph, config: LlamaConfig, w: Weights, layer: number, x: Value, rotary: Rotary, maskBias: Value, past?: PastKeyValues): Value {
  const p = `model.layers.${layer}.self_attn`;
  const { numHeads, numKvHeads, headDim } = config;
  const groups = numHeads / numKvHeads;
  // q, k and v in one MatMul over the packed weight [hidden, (heads + 2 kvHeads) * headDim].
  const names = ['q_proj', 'k_proj', 'v_proj'].map((n) => `${p}.${n}`);
  let qkv = g.matMul(x, config.fusedProjections ? w.linear(`${p}.qkv_proj.weight`) : w.packedLinear(names.map((n) => `${n}.weight`)));
  if (config.attentionBias) qkv = g.add(qkv, w.packedVector(names.map((n) => `${n}.bias`)));
  const [qFlat, kFlat, vFlat] = g.split(qkv, [numHeads * headDim, numKvHeads * headDim, numKvHeads * headDim], -1);
  // [batch, seq, heads*headDim] -> [batch, heads, seq, headDim], each head RMS-normed first where the family does.
  const heads = (y: Value, n: number, normName?: string) => {
    const split = g.reshape(y, ['batch', 'seq', n, headDim]);
    return g.transpose(normName && config.qkNorm ? norm(g, config, w, split, `${p}.${normName}.weight`) : split, [0, 2, 1, 3]);
  };

  const dim = rotaryDim(config);
  const q = applyRotary(g, heads(qFlat, numHeads, 'q_norm'), rotary, headDim, dim);
  let k = applyRotary(g, heads(kFlat, numKvHeads, 'k_norm'), rotary, headDim, dim);
  let v = heads(vFlat, numKvHeads);
  if (past) {
    k = g.output(appendToCache(g, past.key, k, presentKeyName(layer)));
    v = g.output(appendToCache(g, past.value, v, presentValueName(layer)));
  }

  // Group query heads by the KV head they share: [batch, kvHeads, groups, seq, headDim].
  const scale = 1 / Math.sqrt(config.queryPreAttnScalar ?? headDim);
  const qGrouped = g.reshape(g.mul(q, g.scalar(scale, 'attn_scale')), ['batch', numKvHeads, groups, 'seq', headDim]);
  const kT = g.unsqueeze(g.transpose(k, [0, 1, 3, 2]), [2]);
  const scores = g.add(softcap(g, g.matMul(qGrouped, kT), config.attnLogitSoftcap), g.unsqueeze(maskBias, [1]));
  const context = g.matMul(g.softmax(scores, -1), g.unsqueeze(v, [2]));
  const merged = g.reshape(g.transpose(context, [0, 3, 1, 2, 4]), ['batch', 'seq', numHeads * headDim]);
  return g.matMul(merged, w.linear(`${p}.o_proj.weight`));
}

/** Concat along the positions axis, made under the output's own name so no Identity copies the cache. */
function appendToCache(g: Graph, past: Value, current: Value, name: string): Value {
  const shape = [past.shape[0], past.shape[1], `${past.shape[2]}+${current.shape[2]}`, past.shape[3]];
  return g.node('Concat', [past, current], { axis: 2 }, [{ dtype: current.dtype, shape }], name)[0];
}

/** act(gate(x)) * up(x), then down: SwiGLU, or Gemma's GeGLU; gate and up in one MatMul over the packed (or fused) weight. */
function mlp(g: Graph, config: LlamaConfig, w: Weights, prefix: string, x: Value): Value {
  const m = `${prefix}.mlp`;
  const gateUpWeight = config.fusedProjections ? w.linear(`${m}.gate_up_proj.weight`) : w.packedLinear([`${m}.gate_proj.weight`, `${m}.up_proj.weight`]);
  const [gate, up] = g.split(g.matMul(x, gateUpWeight), [config.intermediateSize, config.intermediateSize], -1);
  const activated = config.hiddenActivation === 'gelu_tanh' ? geluTanh(g, gate) : g.mul(gate, g.sigmoid(gate));
  return g.matMul(g.mul(activated, up), w.linear(`${m}.down_proj.weight`));
}

/** GELU, tanh approximation (PyTorch's approximate='tanh'): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluTanh(g: Graph, x: Value): Value {
  const inner = g.mul(g.add(x, g.mul(g.mul(g.mul(x, x), x), g.scalar(0.044715, 'gelu_cubic'))), g.scalar(Math.sqrt(2 / Math.PI), 'gelu_scale'));
  return g.mul(g.mul(x, g.scalar(0.5, 'half')), g.add(g.tanh(inner), g.scalar(1, 'gelu_one')));
}

/** Model weights as graph initializers, looked up by Hugging Face name. */
class Weights {
  constructor(
    private readonly g: Graph,
    private readonly weights: WeightMap,
  ) {}

  private get(name: string) {
    const t = this.weights.get(name);
    if (!t) throw new InvalidFileError(`model has no weight ${name}`);
    return t;
  }

  vector(name: string): Value {
    const t = this.get(name);
    return this.g.initializer(name, 'float32', [t.data.length], t.data);
  }

  /** A [out, in] projection as a pre-transposed [in, out] initializer, so x @ W^T is one MatMul. */
  linear(name: string): Value {
    return this.packedLinear([name]);
  }

  /** Several [out_i, in] projections of the same input, transposed side by side: [in, sum out_i]. */
  packedLinear(names: readonly string[]): Value {
    const tensors = names.map((n) => this.get(n));
    const inputs = tensors[0].shape[1];
    const outputs = tensors.reduce((n, t) => n + t.shape[0], 0);
    const packed = new Float32Array(inputs * outputs);
    let column = 0;
    for (const t of tensors) {
      transposeInto(t.data, t.shape[0], inputs, packed, outputs, column);
      column += t.shape[0];
    }
    return this.g.initializer(names.length === 1 ? `${names[0]}.T` : `${names.join('+')}.T`, 'float32', [inputs, outputs], packed);
  }

  packedVector(names: readonly string[]): Value {
    const parts = names.map((n) => this.get(n).data);
    const packed = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (packed.set(p, at), at + p.length), 0);
    return this.g.initializer(names.join('+'), 'float32', [packed.length], packed);
  }
}

/**
 * Writes the transpose of `data` [rows, cols] into columns `column..column+rows` of `out`
 * [cols, outCols], in cache-sized tiles: a plain row loop writes with a stride and is several
 * times slower on large weights.
 */
function transposeInto(data: Float32Array, rows: number, cols: number, out: Float32Array, outCols: number, column: number): void {
  const TILE = 64;
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * outCols + column + r] = data[base + c];
      }
    }
  }
}
