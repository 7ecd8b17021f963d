// The weights a Llama-family config implies, by Hugging Face name and shape. Loaders check a
// WeightMap against it, so a consumer can rely on every tensor being there with its shape.
import { InvalidFileError } from '../errors';
import type { LlamaConfig, WeightMap } from './description';

export function expectedWeightShapes(config: LlamaConfig): Map<string, readonly number[]> {
  const { hiddenSize: h, intermediateSize: ffn, numHeads, numKvHeads, headDim, vocabSize } = config;
  const q = numHeads * headDim;
  const kv = numKvHeads * headDim;
  const shapes = new Map<string, readonly number[]>([
    ['model.embed_tokens.weight', [vocabSize, h]],
    ['model.norm.weight', [h]],
  ]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [vocabSize, h]);
  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}.`;
    shapes.set(`${p}input_layernorm.weight`, [h]);
    if (config.fusedProjections) shapes.set(`${p}self_attn.qkv_proj.weight`, [q + 2 * kv, h]);
    else {
      shapes.set(`${p}self_attn.q_proj.weight`, [q, h]);
      shapes.set(`${p}self_attn.k_proj.weight`, [kv, h]);
      shapes.set(`${p}self_attn.v_proj.weight`, [kv, h]);
    }
    shapes.set(`${p}self_attn.o_proj.weight`, [h, q]);
    if (config.qkNorm) {
      shapes.set(`${p}self_attn.q_norm.weight`, [headDim]);
      shapes.set(`${p}self_attn.k_norm.weight`, [headDim]);
    }
    if (config.attentionBias) {
      shapes.set(`${p}self_attn.q_proj.bias`, [q]);
      shapes.set(`${p}self_attn.k_proj.bias`, [kv]);
      shapes.set(`${p}self_attn.v_proj.bias`, [kv]);
    }
    shapes.set(`${p}post_attention_layernorm.weight`, [h]);
    if (config.sandwichNorms) {
      shapes.set(`${p}pre_feedforward_layernorm.weight`, [h]);
      shapes.set(`${p}post_feedforward_layernorm.weight`, [h]);
    }
    if (config.fusedProjections) shapes.set(`${p}mlp.gate_up_proj.weight`, [2 * ffn, h]);
    else {
      shapes.set(`${p}mlp.gate_proj.weight`, [ffn, h]);
      shapes.set(`${p}mlp.up_proj.weight`, [ffn, h]);
    }
    shapes.set(`${p}mlp.down_proj.weight`, [h, ffn]);
  }
  return shapes;
}

/** Throws InvalidFileError naming the first missing, extra or misshapen weight. */
export function checkWeights(config: LlamaConfig, weights: WeightMap, path: string): void {
  const expected = expectedWeightShapes(config);
  for (const [name, shape] of expected) {
    const tensor = weights.get(name);
    if (!tensor) throw new InvalidFileError(`weight ${name} is missing`, path);
    if (tensor.shape.length !== shape.length || tensor.shape.some((n, i) => n !== shape[i])) {
      throw new InvalidFileError(`weight ${name} has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}] from the config`, path);
    }
  }
  for (const name of weights.keys()) {
    if (!expected.has(name)) throw new InvalidFileError(`unexpected weight ${name} for this config`, path);
  }
}
