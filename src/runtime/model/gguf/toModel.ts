// GGUF file -> LoadedModel: config from metadata, every tensor under its Hugging Face name and
// shape, q/k rows put back in Hugging Face order, tokenizer.json built from the
// `tokenizer.ggml.*` metadata. Block-quantized 2-D tensors stay as the file stores them and run
// as MatMulNBits. Their bytes are read from the file when first used, not at load: a start
// whose graphs come from the session cache reads only the embedding table (kept, for token
// lookups); other tensors are held weakly, for as long as a graph build uses them, and read
// again if a later build needs them. F16/BF16 tensors and 1-D tensors
// are dequantized to float32, because onnxruntime's CPU provider has no 16-bit MatMul for
// float32 activations and a Cast of a 16-bit initializer would be constant-folded to float32
// at session creation anyway.
import { UnsupportedError } from '../../errors';
import { tokenizerFromGgufMetadata } from '../../tokenizer/fromGguf';
import type { LlamaConfig, LoadedModel, ModelTensor, QuantizedTensor } from '../description';
import { NBITS_TYPES } from '../../llama/quantizedLinear';
import { ggufConfig, ROPE_FREQS_TENSOR } from './config';
import { dequantize } from './quant';
import { GgufFile, readTensorBytes, type GgufTensorInfo } from './reader';
import type { GgmlTypeLayout } from './tensorTypes';
import { checkWeights } from '../weightShapes';

export interface GgufLoadOptions {
  readonly signal?: AbortSignal;
  /** Called after each tensor with the tensor bytes read so far and in all. */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export async function loadGgufModel(path: string, options: GgufLoadOptions = {}): Promise<LoadedModel> {
  const file = GgufFile.open(path);
  try {
    const { header } = file;
    const config = readGgufConfig(file);
    const { tokenizerJson, specialTokens } = tokenizerFromGgufMetadata(header.metadata, path);
    const bytesTotal = header.tensors.reduce((sum, t) => sum + t.byteLength, 0);
    let bytesDone = 0;
    const weights = new Map<string, ModelTensor>();
    for (const tensor of header.tensors) {
      options.signal?.throwIfAborted();
      if (tensor.name === ROPE_FREQS_TENSOR) continue; // folded into config.ropeScaling
      const hfName = hfTensorName(tensor.name);
      if (hfName === undefined) throw new UnsupportedError(`unexpected tensor ${tensor.name} for architecture ${config.architecture}`, path);
      weights.set(hfName, toHfTensor(tensor, path, file, config, hfName === 'model.embed_tokens.weight'));
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

/** The model's config, reading the one tensor the config may depend on (Llama 3.1 RoPE factors). */
export function readGgufConfig(file: GgufFile): LlamaConfig {
  const ropeFreqs = file.header.tensors.find((t) => t.name === ROPE_FREQS_TENSOR);
  return ggufConfig(file.header, ropeFreqs && dequantize(ropeFreqs.type, file.tensorBytes(ropeFreqs), ropeFreqs.elementCount));
}

const LAYER_TENSORS: Readonly<Record<string, string>> = {
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
};

const GLOBAL_TENSORS: Readonly<Record<string, string>> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

/** The Hugging Face name of a llama.cpp tensor name, or undefined for a tensor we do not know. */
export function hfTensorName(ggufName: string): string | undefined {
  const global = GLOBAL_TENSORS[ggufName];
  if (global) return global;
  const m = /^blk\.(\d+)\.(.+)$/.exec(ggufName);
  const suffix = m && LAYER_TENSORS[m[2]!];
  return suffix ? `model.layers.${m[1]}.${suffix}` : undefined;
}

function toHfTensor(tensor: GgufTensorInfo, path: string, file: GgufFile, config: LlamaConfig, keep: boolean): ModelTensor {
  // ggml lists dimensions innermost first; PyTorch outermost first. The memory order is the same.
  const shape = [...tensor.ne].reverse();
  const heads = ropePermutedHeads(tensor.name, config);
  if (shape.length === 2 && NBITS_TYPES.has(tensor.type.name)) {
    // Rows are whole blocks, so the permutation moves quantized rows as they are.
    const read = () => {
      const bytes = readTensorBytes(path, tensor);
      return heads === undefined ? bytes : unpermuteRows(bytes, shape[0]!, heads);
    };
    return lazyQuantized([shape[0]!, shape[1]!], tensor.type, read, keep);
  }
  const bytes = file.tensorBytes(tensor);
  const data = dequantize(tensor.type, bytes, tensor.elementCount);
  return { shape, data: heads === undefined ? data : unpermuteRows(data, shape[0]!, heads) };
}

function lazyQuantized(shape: [number, number], type: GgmlTypeLayout, read: () => Uint8Array, keep: boolean): QuantizedTensor {
  let kept: Uint8Array | undefined;
  let weak: WeakRef<Uint8Array> | undefined;
  return {
    shape,
    type,
    get bytes() {
      if (kept) return kept;
      const held = weak?.deref();
      if (held) return held;
      const bytes = read();
      if (keep) kept = bytes;
      else weak = new WeakRef(bytes);
      return bytes;
    },
  };
}

// llama.cpp's converter reorders the q/k rows of Llama-arch models so each head's rotary pairs
// sit side by side (GPT-J style rotation); Qwen2 keeps Hugging Face order (NeoX style).
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
export function unpermuteRows<T extends Float32Array | Uint8Array>(data: T, rows: number, heads: number): T {
  const rowLength = data.length / rows;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = (data instanceof Uint8Array ? new Uint8Array(data.length) : new Float32Array(data.length)) as T;
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
