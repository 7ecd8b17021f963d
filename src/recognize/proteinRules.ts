// Protein sequences: the 20 standard residues plus the ambiguity codes B, Z, X and the rare
// U (selenocysteine) and O (pyrrolysine). DNA and RNA use a subset of the same letters, so a
// run that reads as nucleotides is not a protein. A third of English words use only these
// letters, so in prose a run needs a cue, a length no word has, or both.

/** Where a candidate sits, strongest first. */
export type ProteinContext = 'column' | 'fasta' | 'cued' | 'none';

const RESIDUE = /^[ACDEFGHIKLMNPQRSTVWYBZXUO]+$/;
const NUCLEOTIDE_IUPAC = /^[ACGTURYSWKMBDHVN]+$/;
const PROSE_FORBIDDEN = /[OUBZJ]/;

/** No English word is this long; upper-case runs this long are sequences wherever they stand. */
const UNCUED_MIN = 30;
const CUED_MIN = 8;
const TABLE_MIN = 5;

const NUCLEOTIDE_CORE = new Uint8Array(128);
for (const c of 'ACGTUN') NUCLEOTIDE_CORE[c.charCodeAt(0)] = 1;

function isNucleotide(seq: string): boolean {
  let acgtu = 0;
  for (let i = 0; i < seq.length; i++) acgtu += NUCLEOTIDE_CORE[seq.charCodeAt(i) & 127];
  if (acgtu >= 0.9 * seq.length) return true;
  // Degenerate primers (R, Y, S, W...) stay within the IUPAC nucleotide codes.
  return NUCLEOTIDE_IUPAC.test(seq) && acgtu >= 0.7 * seq.length;
}

/** Distinct letters of an upper-case string. */
function distinctLetters(seq: string): number {
  let seen = 0;
  for (let i = 0; i < seq.length; i++) seen |= 1 << (seq.charCodeAt(i) - 65);
  let n = 0;
  for (; seen; seen &= seen - 1) n++;
  return n;
}

/**
 * seq is upper-case here; FASTA records and table cells are upper-cased by the caller. In
 * prose the context is asked for only when the letters leave the verdict open, since most
 * upper-case words are settled by their letters alone.
 */
export function acceptProtein(seq: string, context: ProteinContext | (() => ProteinContext), capsProse: () => boolean): boolean {
  if (!RESIDUE.test(seq) || isNucleotide(seq) || isAlphabet(seq)) return false;
  if (context === 'column' || context === 'fasta') return seq.length >= TABLE_MIN && distinctLetters(seq) >= 3;
  if (blocky(seq)) return false;
  if (seq.length >= UNCUED_MIN) return distinctLetters(seq) >= 6 && !capsProse();
  if (seq.length < CUED_MIN || PROSE_FORBIDDEN.test(seq) || distinctLetters(seq) < 3 || wordLike(seq)) return false;
  return (typeof context === 'function' ? context() : context) === 'cued' && !capsProse();
}

/** Letters that no English word avoids, or a word's letter pairs: "unknown", "missing", "translation" in a sequence column. */
export function readsAsWord(seq: string): boolean {
  return PROSE_FORBIDDEN.test(seq) || wordLike(seq);
}

/**
 * The residue alphabet written out in some order (ACDEFGHIKLMNPQRSTVWY, ARNDCQEGHILKMFPSTWYV) as a
 * constant, a regular expression's class or in prose: no letter twice. A protein of 15 residues
 * or more repeats one almost always (a random 15-mer has no repeat with probability 6e-4).
 */
const ALPHABET_MIN = 15;
function isAlphabet(seq: string): boolean {
  return seq.length >= ALPHABET_MIN && distinctLetters(seq) === seq.length;
}

/**
 * Runs of repeated letters (FASTQ quality strings such as IIIIHHHHGGGG, placeholders such as
 * XXXXXXXX): a protein changes letter at most positions, these at few.
 */
function blocky(seq: string): boolean {
  let changes = 0;
  for (let i = 1; i < seq.length; i++) if (seq.charCodeAt(i) !== seq.charCodeAt(i - 1)) changes++;
  return changes < 0.5 * (seq.length - 1);
}

// The most frequent letter pairs of English text. Words are made of them; peptides rarely are
// (a random sequence has about one pair in ten among them, an English word one in three or more).
const ENGLISH_BIGRAMS = new Set(
  'TH HE IN ER AN RE ON AT EN ND TI ES OR TE OF ED IS IT AL AR ST TO NT NG SE HA AS OU IO LE VE CO ME DE HI RI RO IC NE EA RA CE LI CH LL BE MA SI OM UR'.split(' '),
);
const ENGLISH_SHARE = 0.3;

function wordLike(seq: string): boolean {
  let common = 0;
  for (let i = 0; i + 1 < seq.length; i++) if (ENGLISH_BIGRAMS.has(seq.slice(i, i + 2))) common++;
  return common >= ENGLISH_SHARE * (seq.length - 1);
}
