// Protein sequence descriptors computed from the sequence alone: the computed labels of
// stage-2 protein training and the numbers the editor's hover shows. Tables are the
// published scales: Kyte–Doolittle hydropathy (GRAVY), Guruprasad et al. 1990 dipeptide
// instability weights, EMBOSS-style side-chain pKa values, average residue masses.

export const STANDARD_AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY';
/** Letters accepted in a sequence: the 20 standard residues plus B, Z (ambiguous), X (unknown), U, O. */
const ALLOWED = /^[ACDEFGHIKLMNPQRSTVWYBZXUO]+$/;

export const PROTEIN_DESCRIPTORS = ['gravy', 'instability', 'pi', 'mw', 'aromaticity', 'charge'] as const;
export type ProteinDescriptor = (typeof PROTEIN_DESCRIPTORS)[number];
export const DEFAULT_PROTEIN_DESCRIPTOR: ProteinDescriptor = 'instability';

export function isProteinDescriptor(name: string): name is ProteinDescriptor {
  return (PROTEIN_DESCRIPTORS as readonly string[]).includes(name);
}

/**
 * The sequence in upper case without whitespace or a trailing stop '*', or undefined when
 * it holds a letter that is not an amino acid (digits, J, punctuation) or is empty.
 */
export function normalizeProteinSequence(raw: string): string | undefined {
  const s = raw.replace(/\s+/g, '').toUpperCase().replace(/\*$/, '');
  return s.length > 0 && ALLOWED.test(s) ? s : undefined;
}

const KYTE_DOOLITTLE: Record<string, number> = {
  A: 1.8, R: -4.5, N: -3.5, D: -3.5, C: 2.5, Q: -3.5, E: -3.5, G: -0.4, H: -3.2, I: 4.5,
  L: 3.8, K: -3.9, M: 1.9, F: 2.8, P: -1.6, S: -0.8, T: -0.7, W: -0.9, Y: -1.3, V: 4.2,
};

const RESIDUE_MASS: Record<string, number> = {
  A: 71.0788, R: 156.1875, N: 114.1038, D: 115.0886, C: 103.1388, E: 129.1155, Q: 128.1307, G: 57.0519, H: 137.1411, I: 113.1594,
  L: 113.1594, K: 128.1741, M: 131.1926, F: 147.1766, P: 97.1167, S: 87.0782, T: 101.1051, W: 186.2132, Y: 163.176, V: 99.1326,
};
const WATER_MASS = 18.01528;

// Dipeptide instability weights: every pair not listed weighs 1.0. Key: first residue, then the second.
const INSTABILITY_EXCEPTIONS: Record<string, string> = {
  A: 'C44.94 D-7.49 H-7.49 P20.26',
  C: 'D20.26 H33.6 M33.6 L20.26 Q-6.54 P20.26 T33.6 W24.68 V-6.54',
  E: 'C44.94 E33.6 D20.26 I20.26 H-6.54 Q20.26 P20.26 S20.26 W-14.03',
  D: 'F-6.54 K-7.49 S20.26 R-6.54 T-14.03',
  G: 'A-7.49 E-6.54 G13.34 I-7.49 K-7.49 N-7.49 T-7.49 W13.34 Y-7.49',
  F: 'D13.34 K-14.03 P20.26 Y33.601',
  I: 'E44.94 H13.34 K-7.49 L20.26 P-1.88 V-7.49',
  H: 'G-9.37 F-9.37 I44.94 K24.68 N24.68 P-1.88 T-6.54 W-1.88 Y44.94',
  K: 'G-7.49 I-7.49 M33.6 L-7.49 Q24.64 P-6.54 R33.6 V-7.49',
  M: 'A13.34 H58.28 M-1.88 Q-6.54 P44.94 S44.94 R-6.54 T-1.88 Y24.68',
  L: 'K-7.49 Q33.6 P20.26 R20.26 W24.68',
  N: 'C-1.88 G-14.03 F-14.03 I44.94 K24.68 Q-6.54 P-1.88 T-7.49 W-9.37',
  Q: 'C-6.54 E20.26 D20.26 F-6.54 Q20.26 P20.26 S44.94 V-6.54 Y-6.54',
  P: 'A20.26 C-6.54 E18.38 D-6.54 F20.26 M-6.54 Q20.26 P20.26 S20.26 R-6.54 W-1.88 V20.26',
  S: 'C33.6 E20.26 Q20.26 P44.94 S20.26 R20.26',
  R: 'G-7.49 H20.26 N13.34 Q20.26 P20.26 S44.94 R58.28 W58.28 Y-6.54',
  T: 'E20.26 G-7.49 F13.34 N-14.03 Q-6.54 W-14.03',
  W: 'A-14.03 G-9.37 H24.68 M24.68 L13.34 N13.34 T-14.03 V-7.49',
  V: 'D-14.03 G-7.49 K-1.88 P20.26 T-7.49 Y-6.54',
  Y: 'A24.68 E-6.54 D24.68 G-7.49 H13.34 M44.94 P13.34 R-15.91 T-7.49 W-9.37 Y13.34',
};
const INSTABILITY = new Map<string, number>();
for (const [first, list] of Object.entries(INSTABILITY_EXCEPTIONS))
  for (const item of list.split(' ')) INSTABILITY.set(first + item[0], Number(item.slice(1)));

const POSITIVE_PKA: Record<string, number> = { K: 10.0, R: 12.0, H: 5.98 };
const NEGATIVE_PKA: Record<string, number> = { D: 4.05, E: 4.45, C: 9.0, Y: 10.0 };
const N_TERMINUS_PKA = 7.5;
const C_TERMINUS_PKA = 3.55;

function count(seq: string): Record<string, number> {
  const c: Record<string, number> = {};
  for (const ch of seq) c[ch] = (c[ch] ?? 0) + 1;
  return c;
}

/** Mean Kyte–Doolittle hydropathy over standard residues. */
export function gravy(seq: string): number {
  let s = 0;
  let n = 0;
  for (const ch of seq) {
    const v = KYTE_DOOLITTLE[ch];
    if (v !== undefined) {
      s += v;
      n++;
    }
  }
  return n > 0 ? s / n : 0;
}

/** Instability index: (10 / length) · Σ weight(dipeptide); above 40 predicts an unstable protein. */
export function instabilityIndex(seq: string): number {
  let s = 0;
  for (let i = 0; i + 1 < seq.length; i++) {
    const a = seq[i];
    const b = seq[i + 1];
    if (KYTE_DOOLITTLE[a] === undefined || KYTE_DOOLITTLE[b] === undefined) continue;
    s += INSTABILITY.get(a + b) ?? 1;
  }
  return (10 / seq.length) * s;
}

/** Average molecular weight in daltons (non-standard letters count as nothing). */
export function proteinMolecularWeight(seq: string): number {
  let m = WATER_MASS;
  for (const ch of seq) m += RESIDUE_MASS[ch] ?? 0;
  return m;
}

/** Fraction of F, W and Y. */
export function aromaticity(seq: string): number {
  const c = count(seq);
  return ((c.F ?? 0) + (c.W ?? 0) + (c.Y ?? 0)) / seq.length;
}

/** Net charge at a pH (Henderson–Hasselbalch over side chains and both termini). */
export function chargeAtPh(seq: string, pH: number): number {
  const c = count(seq);
  let charge = 1 / (1 + 10 ** (pH - N_TERMINUS_PKA)) - 1 / (1 + 10 ** (C_TERMINUS_PKA - pH));
  for (const [aa, pk] of Object.entries(POSITIVE_PKA)) charge += (c[aa] ?? 0) / (1 + 10 ** (pH - pk));
  for (const [aa, pk] of Object.entries(NEGATIVE_PKA)) charge -= (c[aa] ?? 0) / (1 + 10 ** (pk - pH));
  return charge;
}

/** Isoelectric point estimate: the pH where the net charge crosses zero (bisection). */
export function isoelectricPoint(seq: string): number {
  let lo = 0;
  let hi = 14;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (chargeAtPh(seq, mid) > 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export function proteinDescriptor(seq: string, name: ProteinDescriptor): number {
  switch (name) {
    case 'gravy':
      return gravy(seq);
    case 'instability':
      return instabilityIndex(seq);
    case 'pi':
      return isoelectricPoint(seq);
    case 'mw':
      return proteinMolecularWeight(seq);
    case 'aromaticity':
      return aromaticity(seq);
    case 'charge':
      return chargeAtPh(seq, 7);
  }
}

/** Amino-acid composition: the fraction of each standard residue, in STANDARD_AMINO_ACIDS order. */
export function aminoAcidComposition(seq: string): Float64Array {
  const out = new Float64Array(20);
  let n = 0;
  for (const ch of seq) {
    const i = STANDARD_AMINO_ACIDS.indexOf(ch);
    if (i >= 0) {
      out[i]++;
      n++;
    }
  }
  if (n > 0) for (let i = 0; i < 20; i++) out[i] /= n;
  return out;
}
