// Token embedding lookup in TypeScript: the decoder graph takes embeddings, so that tag
// vectors can be spliced in between the rows of ordinary tokens. A quantized table stays
// quantized; each looked-up row is dequantized on its own.
import type { LoadedModel } from '../model/description';
import { tensorRows } from '../model/tensor';
import { UsageError } from '../errors';

/** Rows of `model.embed_tokens.weight` for `ids`, concatenated: [ids.length, hidden]. */
export function embedTokens(model: LoadedModel, ids: readonly number[]): Float32Array {
  const table = model.weights.get('model.embed_tokens.weight');
  if (!table) throw new UsageError('model has no model.embed_tokens.weight', model.source.path);
  const hidden = model.config.hiddenSize;
  const vocab = table.shape[0]!;
  const out = new Float32Array(ids.length * hidden);
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new UsageError(`token id ${id} is outside the vocabulary (0..${vocab - 1})`, model.source.path);
    out.set(tensorRows(table, id, 1), i * hidden);
  });
  return out;
}
