// Turns a filled template into the decoder's input: token embeddings for the text runs,
// each tag's p vectors spliced in where its placeholder stood. The decoder never sees a tag
// as a token id; it only ever gets `inputs_embeds`.
import { ShapeMismatchError, UsageError } from '../errors';
import type { F32Tensor, LoadedModel } from '../model/description';
import type { Tokenizer } from '../tokenizer/tokenizer';
import { EMBEDDING_WEIGHT } from './fingerprint';
import type { TagName, TagValue } from './name';
import type { ReadSpan } from './readout';
import { fillTemplate, lastTag, type SlotValues, type Template } from './template';

export interface ExpansionContext {
  /** The model's input embedding matrix, `model.embed_tokens.weight` [vocab, hidden]. */
  readonly embedding: F32Tensor;
  /** Token ids of one text run, with no special tokens added. */
  readonly encodeText: (text: string) => readonly number[];
  /** Prepended once at the start of every input, when the model's metadata says so. */
  readonly bos?: number;
  readonly tagValue: (tag: TagName) => TagValue;
}

/** The expansion context of a loaded model: its embedding table, its tokenizer and its BOS rule. */
export function modelExpansionContext(model: LoadedModel, tokenizer: Tokenizer, tagValue: (tag: TagName) => TagValue): ExpansionContext {
  const embedding = model.weights.get(EMBEDDING_WEIGHT);
  if (!embedding) throw new ShapeMismatchError(`model has no ${EMBEDDING_WEIGHT}`, model.source.path);
  return { embedding, encodeText: (text) => tokenizer.encode(text, { addBos: false }), bos: tokenizer.addBos ? tokenizer.bos : undefined, tagValue };
}

export interface TagSpan {
  readonly tag: TagName;
  /** Position of the tag's first vector in the sequence. */
  readonly start: number;
  /** p. */
  readonly length: number;
}

/** One input, expanded. Positions index the sequence dimension of `inputsEmbeds`. */
export interface ExpandedInput {
  readonly seqLength: number;
  readonly hiddenSize: number;
  /** [seq, hidden] row-major. */
  readonly inputsEmbeds: Float32Array;
  /** [seq]: the token id at each position, -1 where a tag vector stands. */
  readonly tokenIds: Int32Array;
  readonly tagSpans: readonly TagSpan[];
  /** The read tag's vectors (the template's last tag unless told otherwise): where a head reads. */
  readonly readSpan: ReadSpan;
}

export function expandInput(template: Template, values: SlotValues, context: ExpansionContext, readTag: TagName = lastTag(template)): ExpandedInput {
  const [vocab, hidden] = embeddingShape(context.embedding);
  const ids: number[] = [];
  const spans: TagSpan[] = [];
  const vectors: { start: number; value: TagValue }[] = [];
  if (context.bos !== undefined) ids.push(context.bos);
  for (const piece of fillTemplate(template, values)) {
    if (piece.kind === 'text') {
      for (const id of context.encodeText(piece.text)) ids.push(id);
      continue;
    }
    const value = context.tagValue(piece.tag);
    if (value.hiddenSize !== hidden) {
      throw new ShapeMismatchError(`tag ${piece.tag} has width ${value.hiddenSize}, the model's hidden size is ${hidden}`);
    }
    spans.push({ tag: piece.tag, start: ids.length, length: value.p });
    vectors.push({ start: ids.length, value });
    for (let i = 0; i < value.p; i++) ids.push(-1);
  }
  const readSpan = spans.findLast((s) => s.tag === readTag);
  if (!readSpan) throw new UsageError(`template "${template.text}" has no ${readTag} to read from`);

  const seqLength = ids.length;
  const inputsEmbeds = new Float32Array(seqLength * hidden);
  const table = context.embedding.data;
  ids.forEach((id, position) => {
    if (id < 0) return;
    if (!Number.isInteger(id) || id >= vocab) throw new ShapeMismatchError(`token id ${id} is outside the model's vocabulary of ${vocab}`);
    inputsEmbeds.set(table.subarray(id * hidden, (id + 1) * hidden), position * hidden);
  });
  for (const { start, value } of vectors) inputsEmbeds.set(value.data, start * hidden);
  return { seqLength, hiddenSize: hidden, inputsEmbeds, tokenIds: Int32Array.from(ids), tagSpans: spans, readSpan: { start: readSpan.start, length: readSpan.length } };
}

/** Text with no tags (the untagged baselines): BOS when the model wants it, then the tokens; read at the last one. */
export function expandPlainText(text: string, context: ExpansionContext): ExpandedInput {
  const [, h] = embeddingShape(context.embedding);
  const ids = [...(context.bos !== undefined ? [context.bos] : []), ...context.encodeText(text)];
  if (ids.length === 0) throw new UsageError('an untagged text has no tokens');
  const inputsEmbeds = new Float32Array(ids.length * h);
  ids.forEach((id, s) => inputsEmbeds.set(context.embedding.data.subarray(id * h, (id + 1) * h), s * h));
  return { seqLength: ids.length, hiddenSize: h, inputsEmbeds, tokenIds: Int32Array.from(ids), tagSpans: [], readSpan: { start: ids.length - 1, length: 1 } };
}

/** `row` with `ids` appended as text tokens (an EOS after a training target). */
export function appendTokens(row: ExpandedInput, ids: readonly number[], embedding: F32Tensor): ExpandedInput {
  const h = row.hiddenSize;
  const inputsEmbeds = new Float32Array((row.seqLength + ids.length) * h);
  inputsEmbeds.set(row.inputsEmbeds);
  ids.forEach((id, k) => inputsEmbeds.set(embedding.data.subarray(id * h, (id + 1) * h), (row.seqLength + k) * h));
  return { ...row, seqLength: row.seqLength + ids.length, inputsEmbeds, tokenIds: Int32Array.from([...row.tokenIds, ...ids]) };
}

/**
 * Several expanded inputs padded on the right to one length. Right padding leaves every real
 * position where it was in the single-row input (same rotary positions), and under a causal
 * mask no real position can see a pad, so each row computes exactly what it would alone.
 */
export interface ExpandedBatch {
  readonly batchSize: number;
  readonly seqLength: number;
  readonly hiddenSize: number;
  /** [batch, seq, hidden]; pad positions are zero vectors. */
  readonly inputsEmbeds: Float32Array;
  /** [batch, seq]: 1 for real positions, 0 for padding. */
  readonly attentionMask: BigInt64Array;
  /** [batch, seq]: as ExpandedInput.tokenIds, -1 at tag vectors and at padding. */
  readonly tokenIds: Int32Array;
  readonly rows: readonly ExpandedInput[];
}

export function batchInputs(rows: readonly ExpandedInput[]): ExpandedBatch {
  if (rows.length === 0) throw new UsageError('no inputs to batch');
  const hidden = rows[0].hiddenSize;
  const seqLength = Math.max(...rows.map((r) => r.seqLength));
  const inputsEmbeds = new Float32Array(rows.length * seqLength * hidden);
  const attentionMask = new BigInt64Array(rows.length * seqLength);
  const tokenIds = new Int32Array(rows.length * seqLength).fill(-1);
  rows.forEach((row, b) => {
    if (row.hiddenSize !== hidden) throw new ShapeMismatchError(`batch mixes hidden sizes ${hidden} and ${row.hiddenSize}`);
    inputsEmbeds.set(row.inputsEmbeds, b * seqLength * hidden);
    attentionMask.fill(1n, b * seqLength, b * seqLength + row.seqLength);
    tokenIds.set(row.tokenIds, b * seqLength);
  });
  return { batchSize: rows.length, seqLength, hiddenSize: hidden, inputsEmbeds, attentionMask, tokenIds, rows };
}

export function embeddingShape(embedding: F32Tensor): [vocab: number, hidden: number] {
  const [vocab, hidden] = embedding.shape;
  if (embedding.shape.length !== 2 || embedding.data.length !== vocab * hidden) {
    throw new ShapeMismatchError(`embedding table has shape [${embedding.shape.join(', ')}] and ${embedding.data.length} values; expected [vocab, hidden]`);
  }
  return [vocab, hidden];
}
