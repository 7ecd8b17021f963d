// A tag's gradient is the sum of d loss / d inputs_embeds over every position its vectors
// occupy, in every row of the batch (a tag used twice in one input, as <SMILES> in a drug
// pair, collects both).
import type { ExpandedBatch } from '../tags/expand';
import type { TagName } from '../tags/name';

export function sumTagGradients(batch: ExpandedBatch, dInputsEmbeds: Float32Array, trainable: ReadonlySet<TagName>): Map<TagName, Float32Array> {
  const { seqLength, hiddenSize: h } = batch;
  const out = new Map<TagName, Float32Array>();
  batch.rows.forEach((row, b) => {
    for (const span of row.tagSpans) {
      if (!trainable.has(span.tag)) continue;
      let g = out.get(span.tag);
      if (!g) out.set(span.tag, (g = new Float32Array(span.length * h)));
      const base = (b * seqLength + span.start) * h;
      for (let i = 0; i < span.length * h; i++) g[i] += dInputsEmbeds[base + i];
    }
  });
  return out;
}
