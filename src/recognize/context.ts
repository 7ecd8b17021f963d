// What the surrounding text says about a candidate: a nearby mention of SMILES or of
// proteins, quotes around it, or a line of upper-case prose. Lookups are cached per line.
import type { LineIndex } from './lineIndex';

const SMILES_CUE = /smiles|molfromsmi|\bsmi\b/i;
const PROTEIN_CUE = /peptide|protein|sequence|residue|\bseqs?\b|motif|epitope|amino|antigen|\bchain\b|fasta|\bpdb\b/i;
const CAPS_WORD = /\b[A-Z]{2,}\b/g;
const WORD = /\b[A-Za-z]{2,}\b/g;

/** How many lines above a SMILES cue may sit (a list that follows `smiles = [`), and around a protein cue. */
const SMILES_CUE_LINES_ABOVE = 3;
const PROTEIN_CUE_LINES_AROUND = 1;

export class LineContext {
  private readonly smilesCue = new Map<number, boolean>();
  private readonly proteinCue = new Map<number, boolean>();
  private readonly capsProse = new Map<number, boolean>();

  constructor(private readonly text: string, private readonly lines: LineIndex) {}

  lineText(line: number): string {
    return this.text.slice(this.lines.lineStart(line), this.lines.lineEnd(line));
  }

  /** A SMILES cue on this line or one of the few lines above it. */
  nearSmilesCue(line: number): boolean {
    for (let l = Math.max(0, line - SMILES_CUE_LINES_ABOVE); l <= line; l++) {
      if (this.cached(this.smilesCue, l, SMILES_CUE)) return true;
    }
    return false;
  }

  nearProteinCue(line: number): boolean {
    const last = Math.min(this.lines.lineCount - 1, line + PROTEIN_CUE_LINES_AROUND);
    for (let l = Math.max(0, line - PROTEIN_CUE_LINES_AROUND); l <= last; l++) {
      if (this.cached(this.proteinCue, l, PROTEIN_CUE)) return true;
    }
    return false;
  }

  /** A line shouting in capitals: at least four upper-case words, at least half of its words. */
  isCapsProse(line: number): boolean {
    let v = this.capsProse.get(line);
    if (v === undefined) {
      const t = this.lineText(line);
      const caps = t.match(CAPS_WORD)?.length ?? 0;
      const words = t.match(WORD)?.length ?? 0;
      v = caps >= 4 && caps * 2 >= words;
      this.capsProse.set(line, v);
    }
    return v;
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

const QUOTES = '\'"`';

/** The candidate is the whole content of a quoted string or code span. */
export function isQuoted(text: string, start: number, end: number): boolean {
  const before = text[start - 1];
  return before !== undefined && QUOTES.includes(before) && text[end] === before;
}
