// Keys and values of frozen positions, so that training differentiates only through the rest.
// Causal attention makes this exact: positions before a cut never see what follows, and no
// trainable tag stands among them, so the gradient needs nothing from them but their keys and
// values. Two uses:
// - a cache: in stage 3 the template's first input and its domain tag are frozen and repeat
//   across many rows (Davis: 442 proteins in 30,056 pairs), so their keys and values are
//   computed once and every step runs the decoder over the rest of each row only;
// - a split within each step: the positions before a row's first trainable tag (Davis: the
//   drug; stage 2 with a frozen domain tag: the molecule) run forward only, and backward
//   starts at the tag.
import type { PastBatch, SequenceKeyValues, TrainBackend } from './backend';
import { batchInputs, type ExpandedBatch, type ExpandedInput } from '../tags/expand';
import type { TagName } from '../tags/name';
import type { ExpandedExamples } from './objectives';

/**
 * The cache holds at most this much; a run whose distinct prefixes need more trains without
 * it (SmolLM2-135M on Davis would need about 2.9 GB).
 */
export const PREFIX_CACHE_MAX_BYTES = 2 ** 30;
/** Worth caching (or splitting) when the prefixes hold at least this share of all positions... */
const MIN_CACHED_SHARE = 0.25;
/** ...and each distinct prefix serves at least this many rows on average. */
const MIN_ROWS_PER_PREFIX = 2;

/**
 * Where `row`'s shareable prefix ends: at the start of the last frozen tag before the first
 * trainable one (Davis: before `<SMILES>`, so the protein and its tag are the prefix), or 0
 * when there is none.
 */
export function frozenPrefixEnd(row: ExpandedInput, trainable: ReadonlySet<TagName>): number {
  const spans = [...row.tagSpans].sort((a, b) => a.start - b.start);
  const firstTrainable = spans.findIndex((s) => trainable.has(s.tag));
  if (firstTrainable <= 0) return 0;
  return Math.min(spans[firstTrainable - 1].start, row.readSpan.start);
}

/** Where `row`'s first trainable tag starts, or its read span when that comes first. */
export function firstTrainableStart(row: ExpandedInput, trainable: ReadonlySet<TagName>): number {
  return Math.min(row.readSpan.start, ...row.tagSpans.filter((s) => trainable.has(s.tag)).map((s) => s.start));
}

/**
 * Cutting pays when a step cuts at least this many positions in all. A cut step runs the
 * model's weights once more (the cut positions' own forward), which costs more than the
 * backward it saves when few positions are cut: on two cores of a quiet Xeon, cutting made
 * SmolLM2-135M's step 7% slower with 1 row of 54 cut positions and 1.40x faster with 8 rows
 * (bench/RESULTS.md).
 */
const MIN_CUT_POSITIONS = 128;

/** Whether to cut steps of `microBatch` rows that have `meanCut` positions before their first trainable tag. */
export function backwardCutPays(microBatch: number, meanCut: number): boolean {
  return microBatch * meanCut >= MIN_CUT_POSITIONS;
}

/**
 * The training step's batch with each row cut before its first trainable tag: the positions
 * before the cut run forward only, as the keys and values that the rest continues, so backward
 * covers the tags and what follows them. Unchanged when the backend gives no keys and values,
 * a row starts with a trainable tag, or the cut holds less than MIN_CACHED_SHARE of the positions.
 */
export async function splitBeforeTrainable(
  backend: TrainBackend, step: { batch: ExpandedBatch; past?: PastBatch }, trainable: ReadonlySet<TagName>,
): Promise<{ batch: ExpandedBatch; past?: PastBatch }> {
  if (!backend.keyValues) return step;
  const { rows } = step.batch;
  const cuts = rows.map((row) => firstTrainableStart(row, trainable));
  const positions = rows.reduce((n, row) => n + row.seqLength, 0);
  if (cuts.some((c) => c === 0) || cuts.reduce((a, b) => a + b, 0) < MIN_CACHED_SHARE * positions) return step;
  const keyValues = await backend.keyValues(batchInputs(rows.map((row, b) => prefixOf(row, cuts[b]))), step.past);
  return { batch: batchInputs(rows.map((row, b) => suffixOf(row, cuts[b]))), past: leftPaddedPast(keyValues) };
}

/** The positions from `end` on, as a row of their own (tag and read positions shifted). */
export function suffixOf(row: ExpandedInput, end: number): ExpandedInput {
  const h = row.hiddenSize;
  return {
    seqLength: row.seqLength - end,
    hiddenSize: h,
    inputsEmbeds: row.inputsEmbeds.subarray(end * h),
    tokenIds: row.tokenIds.subarray(end),
    tagSpans: row.tagSpans.filter((s) => s.start >= end).map((s) => ({ ...s, start: s.start - end })),
    readSpan: { start: row.readSpan.start - end, length: row.readSpan.length },
  };
}

/** The positions before `end`, as a row of their own (the tags among them kept). */
export function prefixOf(row: ExpandedInput, end: number): ExpandedInput {
  const h = row.hiddenSize;
  return {
    seqLength: end,
    hiddenSize: h,
    inputsEmbeds: row.inputsEmbeds.subarray(0, end * h),
    tokenIds: row.tokenIds.subarray(0, end),
    tagSpans: row.tagSpans.filter((s) => s.start < end),
    readSpan: { start: end - 1, length: 1 },
  };
}

/** Token ids with each tag's name where its vectors stand: equal keys mean equal prefixes (frozen tags do not change). */
function prefixKey(row: ExpandedInput, end: number): string {
  const tags = row.tagSpans.filter((s) => s.start < end).map((s) => `${s.tag}@${s.start}`);
  return `${row.tokenIds.subarray(0, end).join(',')}|${tags.join(',')}`;
}

export interface PrefixCachePlan {
  readonly backend: TrainBackend;
  readonly examples: ExpandedExamples;
  /** Every row the run will batch (training, validation, test). */
  readonly indices: readonly number[];
  readonly trainable: ReadonlySet<TagName>;
  /** Floats one cached position takes: layers × 2 × kvHeads × headDim. */
  readonly floatsPerPosition: number;
  readonly batchSize: number;
}

export class PrefixCache {
  private readonly cached = new Map<string, Promise<SequenceKeyValues>>();

  private constructor(
    private readonly keyValues: (batch: ExpandedBatch) => Promise<SequenceKeyValues[]>,
    private readonly examples: ExpandedExamples,
    /** Each planned row's prefix: where it ends and its key. */
    private readonly prefixes: ReadonlyMap<number, { readonly end: number; readonly key: string }>,
    private readonly batchSize: number,
    /** Distinct prefixes among the planned rows. */
    readonly prefixCount: number,
  ) {}

  /** A cache when the rows share frozen prefixes enough to pay for it, else undefined. */
  static plan(p: PrefixCachePlan): PrefixCache | undefined {
    const { backend } = p;
    if (!backend.keyValues || p.indices.length === 0) return undefined;
    const prefixes = new Map<number, { end: number; key: string }>();
    const distinct = new Map<string, number>();
    let cachedPositions = 0;
    let allPositions = 0;
    for (const i of p.indices) {
      const row = p.examples.row(i);
      const end = frozenPrefixEnd(row, p.trainable);
      if (end === 0) return undefined;
      const key = prefixKey(row, end);
      prefixes.set(i, { end, key });
      distinct.set(key, end);
      cachedPositions += end;
      allPositions += row.seqLength;
    }
    const bytes = [...distinct.values()].reduce((n, end) => n + end * p.floatsPerPosition * 4, 0);
    const worthIt = cachedPositions >= MIN_CACHED_SHARE * allPositions && distinct.size * MIN_ROWS_PER_PREFIX <= p.indices.length;
    if (!worthIt || bytes > PREFIX_CACHE_MAX_BYTES) return undefined;
    return new PrefixCache((batch) => backend.keyValues!(batch), p.examples, prefixes, p.batchSize, distinct.size);
  }

  /** The rows after their prefixes, and the prefixes' keys and values (left-padded) as their past. */
  async batch(indices: readonly number[]): Promise<{ batch: ExpandedBatch; past: PastBatch }> {
    await this.fill(indices);
    const kvs = await Promise.all(indices.map((i) => this.cached.get(this.prefix(i).key)!));
    const batch = batchInputs(indices.map((i) => suffixOf(this.examples.row(i), this.prefix(i).end)));
    return { batch, past: leftPaddedPast(kvs) };
  }

  private prefix(i: number): { readonly end: number; readonly key: string } {
    const prefix = this.prefixes.get(i);
    if (!prefix) throw new RangeError(`row ${i} was not planned for the prefix cache`);
    return prefix;
  }

  /** Computes the prefixes `indices` need that are not cached yet, batchSize at a time. */
  private async fill(indices: readonly number[]): Promise<void> {
    const missing = new Map<string, number>();
    for (const i of indices) {
      const { key } = this.prefix(i);
      if (!this.cached.has(key) && !missing.has(key)) missing.set(key, i);
    }
    const rows = [...missing.values()];
    for (let k = 0; k < rows.length; k += this.batchSize) {
      const chunk = rows.slice(k, k + this.batchSize);
      const computed = this.keyValues(batchInputs(chunk.map((i) => prefixOf(this.examples.row(i), this.prefix(i).end))));
      chunk.forEach((i, r) => {
        const { key } = this.prefix(i);
        const kv = computed.then((all) => all[r]);
        this.cached.set(key, kv);
        kv.catch(() => this.cached.delete(key));
      });
      await computed;
    }
  }
}

/** Per layer [batch, kvHeads, longest, headDim], each row's positions at the end (left padding). */
export function leftPaddedPast(rows: readonly SequenceKeyValues[]): PastBatch {
  const length = Math.max(...rows.map((r) => r.length));
  const { kvHeads } = rows[0];
  const headDim = rows[0].keys[0].length / (kvHeads * rows[0].length);
  const mask = new BigInt64Array(rows.length * length);
  rows.forEach((r, b) => mask.fill(1n, b * length + length - r.length, (b + 1) * length));
  const pad = (which: 'keys' | 'values') =>
    rows[0][which].map((_, layer) => {
      const out = new Float32Array(rows.length * kvHeads * length * headDim);
      rows.forEach((r, b) => {
        const src = r[which][layer];
        for (let k = 0; k < kvHeads; k++) {
          const to = ((b * kvHeads + k) * length + length - r.length) * headDim;
          out.set(src.subarray(k * r.length * headDim, (k + 1) * r.length * headDim), to);
        }
      });
      return out;
    });
  return { length, keys: pad('keys'), values: pad('values'), mask };
}
