// What the surrounding text says about a candidate: a nearby mention of SMILES or of
// proteins, quotes around it, or a line of upper-case prose. Lookups are cached per line.
import type { LineIndex } from './lineIndex';

const SMILES_CUE = /smiles|molfromsmi|\bsmi\b/i;
// Words that say the next thing is a molecule: "the solvents CCO and CC(C)=O".
const MOLECULE_CUE = /\b(?:molecules?|compounds?|solvents?|ligands?|reagents?|metabolites?|fragments?|analogu?es?)\b[^.;!?]*$/i;
// A chemical name right before the candidate ("n-butane (CCCC)", "- 1-chloropropane: CCCCl", "| ethanol | CCO |")
// or right after it ("CCCC (n-butane)"): systematic and common names end in these.
const CHEMICAL_NAME = String.raw`[A-Za-z0-9,()'-]*(?:ane|ene|yne|yl|ol|al|one|ide|ine|ate|ite|ile|yde|ether|ester|acid|urea|furan|pyrrole|benzene|toluene|xylene|ium)`;
const NAME_END = new RegExp(String.raw`${CHEMICAL_NAME}$`, 'i');
// A separator between name and candidate is required: "the carbonyl C=O stretch" names a bond, not a molecule.
const NAME_BEFORE_TAIL = /\s*(?:[:=(,|]|--?|—|–|\bis)\s*[`'"*_]*$/;
const NAME_AFTER = new RegExp(String.raw`^[\`'"*_]*\s*(?:[:=(,|]|--?|—|–|is)\s*[*_]*${CHEMICAL_NAME}(?![A-Za-z])`, 'i');
const PROTEIN_CUE = /peptide|protein|sequence|residue|\bseqs?\b|motif|epitope|substrate|amino|antigen|\bchain\b|fasta|\bpdb\b/i;
// One quoted string per line, or one token per Markdown list item.
const LIST_ITEM = /^\s*(?:(["'`])[^"'`:]*\1\s*,?\s*(#.*|\/\/.*)?|(?:[-*+]|\d+[.)])\s+`?[^\s`]+`?\s*)$/;
const HEADER_WORD = /(?<![\w-])[\w-]*smiles[\w-]*(?![\w-])/gi;
const PROTEIN_HEADER_CUE = /peptide|sequence|\bseq\b|epitope|motif|substrate|translation/i;
const PROTEIN_HEADER_WORD = /(?<![\w-])[\w-]*(?:peptide|sequence|seq|epitope|motif|substrate|translation)[\w-]*(?![\w-])/gi;
// A printed table's header: names and spaces, no code.
const HEADER_LINE = /^[\w .|-]+$/;
const LIST_OPENER = /[[({:]\s*$/;
// Upper-case words with a letter no organic-subset atom has: SMILES fragments (CC, CCN) are not shouting,
// and neither are quoted strings (a list of peptides on one line).
const CAPS_WORD = /(?<!["'`])\b(?=[A-Z]*[ADEGHJKLMQRTUVWXYZ])[A-Z]{2,}\b/g;
const WORD = /\b[A-Za-z]{2,}\b/g;

const SMILES_OR_MOLECULE_CUE = new RegExp(`${SMILES_CUE.source}|${MOLECULE_CUE.source.replace('[^.;!?]*$', '')}`, 'i');

/** How many lines above a cue may sit when it opens a list (or heads a printed table), and around a protein cue. */
const LIST_LINES_ABOVE = 20;
/** Lines whose verdicts an edit of one line can change: one above (protein cues), and down to the end of a list it may open. */
export const CONTEXT_LINES_ABOVE = 1;
export const CONTEXT_LINES_BELOW = LIST_LINES_ABOVE;
/** How many characters before a candidate a SMILES cue may end. */
const SMILES_CUE_REACH = 48;
const PROTEIN_CUE_LINES_AROUND = 1;
/** How many characters around a candidate a protein cue on its own line may be. */
const PROTEIN_CUE_REACH = 80;
/** Longer lines (minified code, data blobs) lend no cue to their neighbours. */
const ORDINARY_LINE = 300;

export class LineContext {
  private readonly smilesCue = new Map<number, boolean>();
  private readonly moleculeListCue = new Map<number, boolean>();
  private readonly proteinCue = new Map<number, boolean>();
  private readonly proteinHeader = new Map<number, boolean>();
  private readonly capsProse = new Map<number, boolean>();

  constructor(private readonly text: string, private readonly lines: LineIndex) {}

  lineText(line: number): string {
    return this.text.slice(this.lines.lineStart(line), this.lines.lineEnd(line));
  }

  /**
   * A SMILES cue just before the candidate on its line ("SMILES: CCO", `"smiles": "CO"`), or
   * on a line that opens a list whose items (one quoted string per line) run down to this one:
   * `smiles = [` followed by `"CCO",`. A cue further away does not count: in
   * `"tags": ["CO", "NO"]` below a record's SMILES, or in a long minified line, it says nothing.
   */
  nearSmilesCue(line: number, start: number, end: number): boolean {
    const lineStart = this.lines.lineStart(line);
    const before = this.text.slice(Math.max(lineStart, start - SMILES_CUE_REACH), start);
    if (SMILES_CUE.test(before) || MOLECULE_CUE.test(before) || nameBefore(before)) return true;
    if (NAME_AFTER.test(this.text.slice(end, Math.min(this.lines.lineEnd(line), end + SMILES_CUE_REACH)))) return true;
    return this.inCuedList(line, this.moleculeListCue, SMILES_OR_MOLECULE_CUE);
  }

  /** The line is an item (one quoted string) of a list whose opening line carries the cue. */
  private inCuedList(line: number, cache: Map<number, boolean>, cue: RegExp): boolean {
    if (!LIST_ITEM.test(this.lineText(line))) return false;
    for (let l = line - 1; l >= Math.max(0, line - LIST_LINES_ABOVE); l--) {
      const t = this.lineText(l);
      if (this.cached(cache, l, cue)) return LIST_OPENER.test(t);
      if (!LIST_ITEM.test(t)) return false;
    }
    return false;
  }

  /**
   * The candidate stands in a text column headed "smiles", as a printed data frame shows it:
   * a line above (no blank line between) holds the word smiles, left- or right-aligned with
   * the candidate.
   */
  underSmilesHeader(line: number, start: number, end: number): boolean {
    return this.underHeader(line, start, end, this.smilesCue, SMILES_CUE, HEADER_WORD);
  }

  /** As underSmilesHeader, for a column headed peptide, sequence, epitope, motif or substrate. */
  underProteinHeader(line: number, start: number, end: number): boolean {
    return this.underHeader(line, start, end, this.proteinHeader, PROTEIN_HEADER_CUE, PROTEIN_HEADER_WORD);
  }

  private underHeader(line: number, start: number, end: number, cache: Map<number, boolean>, cue: RegExp, word: RegExp): boolean {
    const lineStart = this.lines.lineStart(line);
    const [left, right] = [start - lineStart, end - lineStart];
    // Most lines are settled by their cached cue verdict: the header must carry the cue, and only
    // then are the lines between looked at (a blank one ends the table).
    let blankFrom = line;
    for (let l = line - 1; l >= Math.max(0, line - LIST_LINES_ABOVE); l--) {
      if (!this.cached(cache, l, cue)) continue;
      for (; blankFrom > l; blankFrom--) if (this.isBlank(blankFrom - 1)) return false;
      const t = this.lineText(l);
      if (!HEADER_LINE.test(t)) continue;
      for (const m of t.matchAll(word)) {
        if (m.index === left || m.index + m[0].length === right) return true;
      }
    }
    return false;
  }

  /**
   * A protein cue near the candidate on its line, anywhere on a neighbouring line of ordinary
   * length, or opening a list this line is an item of. Within a long minified line, a cue
   * far away says nothing.
   */
  nearProteinCue(line: number, start: number, end: number): boolean {
    const lineStart = this.lines.lineStart(line);
    const lineEnd = this.lines.lineEnd(line);
    const around = this.text.slice(Math.max(lineStart, start - PROTEIN_CUE_REACH), Math.min(lineEnd, end + PROTEIN_CUE_REACH));
    if (PROTEIN_CUE.test(around)) return true;
    const last = Math.min(this.lines.lineCount - 1, line + PROTEIN_CUE_LINES_AROUND);
    for (let l = Math.max(0, line - PROTEIN_CUE_LINES_AROUND); l <= last; l++) {
      if (l !== line && this.lines.lineEnd(l) - this.lines.lineStart(l) <= ORDINARY_LINE && this.cached(this.proteinCue, l, PROTEIN_CUE)) return true;
    }
    return this.inCuedList(line, this.proteinCue, PROTEIN_CUE) || this.underProteinHeader(line, start, end);
  }

  /** A line shouting in capitals: at least three upper-case words, at least half of its words. */
  isCapsProse(line: number): boolean {
    let v = this.capsProse.get(line);
    if (v === undefined) {
      const t = this.lineText(line);
      const caps = t.match(CAPS_WORD)?.length ?? 0;
      const words = t.match(WORD)?.length ?? 0;
      v = caps >= 3 && caps * 2 >= words;
      this.capsProse.set(line, v);
    }
    return v;
  }

  private isBlank(line: number): boolean {
    const end = this.lines.lineEnd(line);
    for (let i = this.lines.lineStart(line); i < end; i++) {
      const c = this.text.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 13 && c !== 12 && c !== 11) return false;
    }
    return true;
  }

  private cached(cache: Map<number, boolean>, line: number, cue: RegExp): boolean {
    let v = cache.get(line);
    if (v === undefined) {
      v = cue.test(this.lineText(line));
      cache.set(line, v);
    }
    return v;
  }
}

/** `before` ends with a chemical name and at most one separator: "n-butane (", "1-chloropropane: ", "| ethanol | ". */
function nameBefore(before: string): boolean {
  const tail = NAME_BEFORE_TAIL.exec(before);
  if (!tail) return false;
  // Emphasis around the name: "**Ethanol**: `CCO`".
  const rest = before.slice(0, tail.index).replace(/[*_]+$/, '');
  let i = rest.length;
  while (i > 0 && /[A-Za-z0-9,()'-]/.test(rest[i - 1])) i--;
  return i < rest.length && (i === 0 || /[\s|(*_]/.test(rest[i - 1])) && NAME_END.test(rest.slice(i));
}

const QUOTES = '\'"`';

/** The candidate is the whole content of a quoted string or code span. */
export function isQuoted(text: string, start: number, end: number): boolean {
  const before = text[start - 1];
  return before !== undefined && QUOTES.includes(before) && text[end] === before;
}
