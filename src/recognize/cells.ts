// Values that a table or record declares to be SMILES or sequences: one value, judged with
// the lowest thresholds, since the header already said what it is.
import { smilesShape } from './smilesSyntax';
import { acceptSmiles } from './smilesRules';
import { acceptProtein, readsAsWord } from './proteinRules';
import type { EntityKind } from './types';
import type { Hit, ScanEnv } from './hits';

export type ColumnRole = EntityKind | 'other';

const SMILES_HEADER = /smiles|^smi$|^(?:structure|molecule)s?$/i;
// A GenBank or UniProt table's protein column is its translation; epitope, motif, substrate and CDR3 columns hold peptides.
const SEQUENCE_HEADER = /(^|[^a-z])(seq|sequence|sequences|peptides?|aa_?seq|protein_sequence|translation|epitopes?|motifs?|substrates?|cdr3)($|[^a-z])/i;

export function roleFromHeader(name: string): ColumnRole {
  if (SMILES_HEADER.test(name)) return 'smiles';
  if (SEQUENCE_HEADER.test(name.trim())) return 'protein';
  return 'other';
}

/** The cell text[start, end) as an entity of the given kind, or null. Surrounding spaces are not part of it. */
export function judgeCell(env: ScanEnv, start: number, end: number, kind: EntityKind): Hit | null {
  const { text } = env;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  // Markdown writes a value as code or in emphasis: `CCO`, **CCO**.
  while (end - start >= 2 && MARKUP.includes(text[start]) && text[end - 1] === text[start]) {
    start++;
    end--;
  }
  if (end - start < 1) return null;
  let value = text.slice(start, end);
  if (kind === 'smiles') {
    const shape = smilesShape(value);
    if (!shape || !acceptSmiles(value, shape, 'column', () => false) || !env.judge.parses(value)) return null;
    return { kind, start, end, text: value };
  }
  if (value.endsWith('*')) {
    value = value.slice(0, -1);
    end--;
  }
  const upper = value.toUpperCase();
  // Sequence columns hold words too (unknown, missing); files write sequences in capitals or all in lower case, and longer.
  if (upper !== value && value.length < WORD_MAX && readsAsWord(upper)) return null;
  return acceptProtein(upper, 'column', () => false) ? { kind, start, end, text: value } : null;
}

const MARKUP = '`*_';
const WORD_MAX = 20;

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}
