// GGUF file -> LoadedModel: config from metadata, every tensor dequantized to float32 under its
// Hugging Face name and shape, q/k rows put back in Hugging Face order, Gemma's stored (1 + w)
// norm weights back to w, tokenizer.json built from the `tokenizer.ggml.*` metadata. A model this
// machine's memory cannot hold is refused from its header, before any tensor is read.
import { freemem, totalmem } from 'node:os';
import { InvalidFileError, UnsupportedError } from '../../errors';
import { tokenizerFromGgufMetadata } from '../../tokenizer/fromGguf';
import type { Architecture, F32Tensor, LlamaConfig, LoadedModel } from '../description';
import { CONFIG_TENSORS, ggufConfig } from './config';
import { isGemma } from '../families';
import { dequantize } from './quant';
import { GgufFile, type GgufTensorInfo } from './reader';
import { checkWeights } from '../weightShapes';
import { assertFits, estimateModelMemory, heldWeightBytes, memoryVerdict } from '../memoryEstimate';

export interface GgufLoadOptions {
  readonly signal?: AbortSignal;
  /** Called after each tensor with the tensor bytes read so far and in all. */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Memory the OS can give without swapping; default os.freemem() (Linux: MemAvailable). */
  readonly availableMemoryBytes?: number;
}

export async function loadGgufModel(path: string, options: GgufLoadOptions = {}): Promise<LoadedModel> {
  const file = GgufFile.open(path);
  try {
    const { header } = file;
    const config = readGgufConfig(file);
    const verdict = memoryVerdict(estimateModelMemory(heldWeightBytes(header), config), options.availableMemoryBytes ?? freemem(), totalmem());
    assertFits(verdict, header.fileSize, path);
    const { tokenizerJson, specialTokens } = tokenizerFromGgufMetadata(header.metadata, path);
    const bytesTotal = header.tensors.reduce((sum, t) => sum + t.byteLength, 0);
    let bytesDone = 0;
    const weights = new Map<string, F32Tensor>();
    for (const tensor of header.tensors) {
      options.signal?.throwIfAborted();
      if (CONFIG_TENSORS.has(tensor.name)) continue; // folded into config.ropeScaling
      if (isVisionTensor(tensor.name, config)) continue; // the text model never reads them
      const hfName = hfTensorName(tensor.name, config);
      if (hfName === undefined) throw new UnsupportedError(`unexpected tensor ${tensor.name} for architecture ${config.architecture}`, path);
      weights.set(hfName, toHfTensor(tensor, file.tensorBytes(tensor), config));
      bytesDone += tensor.byteLength;
      options.onProgress?.(bytesDone, bytesTotal);
      // Let a caller's abort or progress handler run between tensors of a large model.
      if (tensor.byteLength > 1 << 20) await new Promise((resolve) => setImmediate(resolve));
    }
    checkWeights(config, weights, path);
    return { config, weights, tokenizerJson, specialTokens, source: { format: 'gguf', path } };
  } finally {
    file.close();
  }
}

/** Ollama's Gemma 3 files carry the vision tower (`v.*`) and its projector (`mm.*`) beside the text model. */
function isVisionTensor(name: string, config: LlamaConfig): boolean {
  return config.architecture === 'gemma3' && (name.startsWith('v.') || name.startsWith('mm.'));
}

/** The model's config, reading the tensors the config may depend on (RoPE factors). */
export function readGgufConfig(file: GgufFile): LlamaConfig {
  return ggufConfig(file.header, (name) => {
    const tensor = file.header.tensors.find((t) => t.name === name);
    if (!tensor) throw new InvalidFileError(`${name} is missing`, file.header.path);
    return dequantize(tensor.type, file.tensorBytes(tensor), tensor.elementCount);
  });
}

// Tensor names are file content, so every table is a Map (no inherited keys such as "constructor").
const LAYER_TENSORS: ReadonlyMap<string, string> = new Map(Object.entries({
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
  'attn_q_norm.weight': 'self_attn.q_norm.weight',
  'attn_k_norm.weight': 'self_attn.k_norm.weight',
}));

/** Per-architecture departures from LAYER_TENSORS. */
const LAYER_TENSORS_OF: ReadonlyMap<Architecture, ReadonlyMap<string, string>> = new Map([
  // Phi-3: q/k/v fused in attn_qkv, gate and up fused in ffn_up ([hidden, 2 ffn]).
  ['phi3', new Map([...LAYER_TENSORS, ['attn_qkv.weight', 'self_attn.qkv_proj.weight'], ['ffn_up.weight', 'mlp.gate_up_proj.weight']])],
  // Gemma: four norms per layer, and ffn_norm is the MLP's input norm.
  ...(['gemma2', 'gemma3'] as const).map((arch) => [arch, new Map([
    ...LAYER_TENSORS,
    ['post_attention_norm.weight', 'post_attention_layernorm.weight'],
    ['ffn_norm.weight', 'pre_feedforward_layernorm.weight'],
    ['post_ffw_norm.weight', 'post_feedforward_layernorm.weight'],
  ])] as const),
]);

const GLOBAL_TENSORS: ReadonlyMap<string, string> = new Map([
  ['token_embd.weight', 'model.embed_tokens.weight'],
  ['output_norm.weight', 'model.norm.weight'],
  ['output.weight', 'lm_head.weight'],
]);

/** The Hugging Face name of a llama.cpp tensor name, or undefined for a tensor we do not know. */
export function hfTensorName(ggufName: string, config: Pick<LlamaConfig, 'architecture'>): string | undefined {
  const global = GLOBAL_TENSORS.get(ggufName);
  if (global) return global;
  const m = /^blk\.(\d+)\.(.+)$/.exec(ggufName);
  const suffix = m && (LAYER_TENSORS_OF.get(config.architecture) ?? LAYER_TENSORS).get(m[2]!);
  return suffix ? `model.layers.${m[1]}.${suffix}` : undefined;
}

function toHfTensor(tensor: GgufTensorInfo, bytes: Uint8Array, config: LlamaConfig): F32Tensor {
  const data = dequantize(tensor.type, bytes, tensor.elementCount);
  // ggml lists dimensions innermost first; PyTorch outermost first. The memory order is the same.
  const shape = [...tensor.ne].reverse();
  // llama.cpp's converter stores Gemma's norm weights as 1 + w, the factor its RMSNorm applies.
  if (isGemma(config.architecture) && tensor.name.endsWith('norm.weight')) {
    for (let i = 0; i < data.length; i++) data[i] -= 1;
  }
  const heads = ropePermutedHeads(tensor.name, config);
  return { shape, data: heads === undefined ? data : unpermuteRows(data, shape[0]!, heads) };
}

// llama.cpp's converter reorders the q/k rows of Llama-arch models so each head's rotary pairs
// sit side by side (GPT-J style rotation); Qwen2/3, Phi-3 and Gemma keep Hugging Face order
// (llama.cpp rotates them NeoX style).
function ropePermutedHeads(ggufName: string, config: LlamaConfig): number | undefined {
  if (config.architecture !== 'llama' && config.architecture !== 'mistral') return undefined;
  if (/^blk\.\d+\.attn_q\.(weight|bias)$/.test(ggufName)) return config.numHeads;
  if (/^blk\.\d+\.attn_k\.(weight|bias)$/.test(ggufName)) return config.numKvHeads;
  return undefined;
}

/**
 * Undo the converter's permutation: within each head of `headDim` rows, GGUF row 2i+j holds
 * Hugging Face row j*headDim/2 + i (the HF rows viewed as [2, headDim/2] were transposed).
 */
export function unpermuteRows(data: Float32Array, rows: number, heads: number): Float32Array {
  const rowLength = data.length / rows;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * headDim + 2 * i + j) * rowLength;
        const to = (h * headDim + j * half + i) * rowLength;
        out.set(data.subarray(from, from + rowLength), to);
      }
    }
  }
  return out;
}
