// Plausibility rules for a lexically valid SMILES candidate, before RDKit is asked. RDKit
// alone is no detector: CC, NO, COCO, ICON and BOSS all parse. A candidate must carry
// evidence in proportion to how little its context says.
import type { SmilesShape } from './smilesSyntax';
import { isFormula } from './smilesSyntax';

/** What the place a candidate sits in says about it. */
export type SmilesContext =
  /** A SMILES column of a table (or of a printed data frame), the first field of a .smi line, a SMILES property of an SDF record. */
  | 'column'
  /** A quoted string near a mention of SMILES. */
  | 'cued-quoted'
  /** Unquoted, near a mention of SMILES. */
  | 'cued'
  | 'none';

// Upper-case words and acronyms that parse as SMILES, refused unless a table says otherwise.
const WORDS = new Set([
  'B', 'C', 'N', 'O', 'P', 'S', 'F', 'I', 'BB', 'BC', 'BO', 'BP', 'BS', 'CB', 'CC', 'CN', 'CO', 'CP', 'CS', 'FBI', 'IF', 'II',
  'III', 'IO', 'IP', 'IS', 'NB', 'NC', 'NI', 'NO', 'NP', 'NS', 'OC', 'OF', 'OI', 'OO', 'OP', 'OS', 'PC', 'PI', 'PO', 'PS',
  'SC', 'SO', 'SP', 'SS', 'BBC', 'BBS', 'BCC', 'BOB', 'BOSS', 'CBS', 'CNN', 'COCO', 'COP', 'COPS', 'CPS', 'CSS', 'FCC',
  'ICON', 'ICONS', 'IPO', 'NCBI', 'NICO', 'NOP', 'NSF', 'PCB', 'PCI', 'PCP', 'POC', 'POP', 'POS', 'SCN', 'SCSI', 'SNOB',
  'SOC', 'SOP', 'SOS', 'SPF', 'SSO', 'CCC', 'CCCP', 'OOP', 'NOC', 'COC', 'SIC', 'SIP', 'FIFO', 'BIOS', 'SONIC', 'SCOOP',
]);

/** A word or acronym that parses as SMILES: a molecule only in a SMILES column or a quoted string next to a SMILES cue. */
export function isSmilesWord(text: string): boolean {
  return WORDS.has(text);
}

/** The context and capsProse are asked only when the verdict depends on them. */
export function acceptSmiles(text: string, shape: SmilesShape, contextOf: SmilesContext | (() => SmilesContext), capsProse: () => boolean): boolean {
  let known: SmilesContext | undefined;
  const context = () => (known ??= typeof contextOf === 'function' ? contextOf() : contextOf);
  // Regular expressions such as [*].* parse as wildcard atoms.
  if (shape.atoms === shape.wildcards) return false;
  if (contextOf === 'column') return true;
  if (isFormula(text)) return false;
  // A quoted string next to a mention of SMILES is one, even when it spells a word ("CC" in a list of SMILES).
  if (isSmilesWord(text)) {
    const c = context();
    if (c === 'column') return true;
    if (c !== 'cued-quoted') return false;
  }
  if (shape.strongEvidence) return shape.atoms >= 2 || shape.decoratedAtom;
  if (shape.bareBracketAtom && shape.atoms >= 3) return true;
  if (capsProse()) return false;
  if (shape.weakEvidence) {
    if (shape.atoms >= 4) return true;
    return context() !== 'none' && shape.atoms >= 2;
  }
  if (shape.atoms >= 5 && shape.carbons * 2 >= shape.atoms) return true;
  switch (context()) {
    case 'column':
      return true;
    case 'cued-quoted':
      return shape.atoms >= 2;
    case 'cued':
      return shape.atoms >= 3 && shape.carbons >= 1;
    default:
      return false;
  }
}
