// The applicability domain of a function tag: compact sketches of its training inputs, kept in
// the bundle, and each new input's similarity to its nearest training neighbour. Molecules are
// sketched by Morgan bits (radius 2, 1,024 bits), protein sequences by their hashed 3-mers in
// 1,024 bits; both compare by Tanimoto similarity. A prediction whose nearest neighbour is
// less similar than the tag's threshold (chosen on the validation split, where the error
// grows) is marked outside the training domain.
import { DEFAULT_MORGAN, morganBits } from '../chem/morgan';
import { loadRDKit, MoleculeRejectedError, type RDKit } from '../chem/rdkit';

export type SketchKind = 'morgan' | 'kmer';

export const SKETCH_BITS = 1024;
const KMER = 3;

/** What a bundle stores (tagbundle.json `tags.<X>.domain`). */
export interface ApplicabilityDomain {
  readonly sketch: SketchKind;
  readonly bits: number;
  /** How many training inputs `fingerprints` holds. */
  readonly count: number;
  /** Base64 of the packed sketches, `bits / 8` bytes each, bit i in byte i >> 3 at position i & 7. */
  readonly fingerprints: string;
  /** Nearest-neighbour Tanimoto similarity below which an input is outside the domain. */
  readonly threshold: number;
}

/** The sketch kind for an input kind; text inputs have none. */
export function sketchKindOf(inputKind: string): SketchKind | undefined {
  return inputKind === 'smiles' ? 'morgan' : inputKind === 'protein' ? 'kmer' : undefined;
}

/**
 * sketchOf for an input from outside (a user's SMILES, a data file's row): one RDKit refuses
 * (chem/rdkit.ts moleculeInputProblem) or one that traps it has no sketch rather than an error.
 * RDKit is fetched per call because a trap replaces the instance.
 */
export async function inputSketch(kind: SketchKind, input: string): Promise<Uint8Array | undefined> {
  const rdkit = kind === 'morgan' ? await loadRDKit() : undefined;
  try {
    return sketchOf(kind, input, rdkit);
  } catch (error) {
    if (error instanceof MoleculeRejectedError) return undefined;
    throw error;
  }
}

/** Packed sketch bits of one input, or undefined for a SMILES RDKit cannot parse. */
export function sketchOf(kind: SketchKind, input: string, rdkit?: RDKit): Uint8Array | undefined {
  const packed = new Uint8Array(SKETCH_BITS / 8);
  if (kind === 'morgan') {
    if (!rdkit) throw new Error('a Morgan sketch needs RDKit');
    const bits = morganBits(rdkit, input, DEFAULT_MORGAN.radius, SKETCH_BITS);
    if (!bits) return undefined;
    bits.forEach((b, i) => (packed[i >> 3] |= b << (i & 7)));
    return packed;
  }
  const seq = input.toUpperCase();
  for (let i = 0; i + KMER <= seq.length; i++) {
    const bit = fnv1a(seq.slice(i, i + KMER)) % SKETCH_BITS;
    packed[bit >> 3] |= 1 << (bit & 7);
  }
  return packed;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

/** Tanimoto similarity of two packed sketches; two empty sketches are identical (1). */
export function tanimoto(a: Uint8Array, b: Uint8Array): number {
  let both = 0;
  let either = 0;
  for (let i = 0; i < a.length; i++) {
    both += POPCOUNT[a[i] & b[i]];
    either += POPCOUNT[a[i] | b[i]];
  }
  return either === 0 ? 1 : both / either;
}

/** The sketches one after another, as the bundle stores them. */
export function packSketches(sketches: readonly Uint8Array[]): string {
  const all = new Uint8Array(sketches.length * (SKETCH_BITS / 8));
  sketches.forEach((s, k) => all.set(s, k * (SKETCH_BITS / 8)));
  return Buffer.from(all).toString('base64');
}

export function unpackSketches(domain: ApplicabilityDomain): Uint8Array[] {
  const bytes = new Uint8Array(Buffer.from(domain.fingerprints, 'base64'));
  const size = domain.bits / 8;
  return Array.from({ length: domain.count }, (_, k) => bytes.subarray(k * size, (k + 1) * size));
}

/** Similarity of `sketch` to its nearest neighbour among `training`. */
export function nearestSimilarity(sketch: Uint8Array, training: readonly Uint8Array[]): number {
  let best = 0;
  for (const t of training) {
    const s = tanimoto(sketch, t);
    if (s > best) best = s;
    if (best === 1) break;
  }
  return best;
}

/**
 * Candidate thresholds: these quantiles of the validation rows' nearest-neighbour similarities.
 * At most a quarter of inputs like the training data's are flagged: with up to half (the first
 * rule), ESOL's threshold came out at 0.54 and flagged aspirin, a flag nobody would read twice.
 */
const THRESHOLD_QUANTILES = [0.05, 0.1, 0.15, 0.2, 0.25];

/**
 * The similarity below which the error grows: among the candidate thresholds, the one whose
 * validation rows below it have the largest mean error relative to the rows at or above it.
 * When no candidate separates a larger error, the 5% quantile (only the least similar rows
 * are flagged). `errors[k]` belongs to `similarities[k]` (absolute error, or Brier for classification).
 */
export function chooseDomainThreshold(similarities: readonly number[], errors: readonly number[]): number {
  if (similarities.length === 0) return 0;
  const sorted = [...similarities].sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  let best = quantile(THRESHOLD_QUANTILES[0]);
  let bestRatio = 1;
  for (const q of THRESHOLD_QUANTILES) {
    const t = quantile(q);
    let below = 0;
    let nBelow = 0;
    let above = 0;
    let nAbove = 0;
    similarities.forEach((s, k) => {
      if (s < t) {
        below += errors[k];
        nBelow++;
      } else {
        above += errors[k];
        nAbove++;
      }
    });
    if (nBelow === 0 || nAbove === 0) continue;
    const ratio = below / nBelow / Math.max(above / nAbove, 1e-12);
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = t;
    }
  }
  return best;
}
