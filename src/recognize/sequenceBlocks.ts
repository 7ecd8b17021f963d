// Sequences wrapped over several lines outside FASTA records: a 60-column block in a
// triple-quoted string, a Markdown code fence, a docstring or a printed cell output, and
// string pieces that Python or JavaScript concatenate ("MKTAYIAK" / "QRQISFVK" on the next
// line, no comma between). The block is one entity: its range runs from the first residue to
// the last, its text is the residues without line breaks or indentation.
//
// A bare block's lines are joined only when they read as one text cut at a fixed width: every
// line but the last as long as the first (a width tools wrap at: 40 or more, round or one of a
// few others), the last no longer. Sequences listed one per line have lengths of their own and
// stay apart.
import { acceptProtein } from './proteinRules';
import type { Hit, ScanEnv } from './hits';

const MIN_WIDTH = 40;
/** Residues alone on a line, indented or not, a stop '*' allowed at its end. */
const BARE = /^[ \t]*([A-Z]+)\*?[ \t]*$/;
/** The start of a triple-quoted string or a JavaScript template literal, its residues running to the line end: `seq = """MKTAY`. */
const OPENER = /(?:"""|'''|`)([A-Z]+)[ \t]*$/;
/** Residues closing a triple-quoted string or a template literal: `QRQISF"""`. */
const CLOSER = /^[ \t]*([A-Z]+)(?:"""|'''|`)/;
/** One piece of a concatenated string literal: a quoted run of residues before `+` or `\`; the first may follow `name = (`, `(` or a call (`Seq(`). */
const PIECE = /^[ \t]*(?:(?:const|let|var)[ \t]+)?(?:[\w.[\]]+[ \t]*\+?=[ \t]*)?(?:[\w.]*\()?[ \t]*(["'])([A-Z]+)\1[ \t]*([+\\]?)[ \t]*([,;)]*)[ \t]*(?:#.*|\/\/.*)?$/;
const CONTINUED_PIECE = /^[ \t]*(["'])([A-Z]+)\1[ \t]*([+\\]?)[ \t]*([,;)]*)[ \t]*(?:#.*|\/\/.*)?$/;
/** Widths that text is wrapped at: round numbers, and the few others tools use. */
const isWrapWidth = (width: number) => width >= MIN_WIDTH && (width % 10 === 0 || [64, 72, 75, 76, 79].includes(width));

interface LinePart {
  /** Offset of the first residue in the text, and the residues. */
  readonly start: number;
  readonly residues: string;
}

/** True for the lines a block can be made of: incremental rescans widen over them. */
export function isBlockLine(text: string): boolean {
  return BARE.test(text) || OPENER.test(text) || CLOSER.test(text) || PIECE.test(text);
}

export interface SequenceBlocks {
  readonly hits: Hit[];
  /** Lines [first, last] of accepted blocks; other scanners skip them. */
  readonly lineSpans: Array<[number, number]>;
}

/** Blocks that start on lines [fromLine, toLine] (they may run past toLine), skipping lines in `skip` (sorted spans). */
export function findSequenceBlocks(env: ScanEnv, fromLine: number, toLine: number, skip: ReadonlyArray<[number, number]>): SequenceBlocks {
  const hits: Hit[] = [];
  const lineSpans: Array<[number, number]> = [];
  let s = 0;
  for (let line = fromLine; line <= toLine; line++) {
    while (s < skip.length && skip[s][1] < line) s++;
    if (s < skip.length && skip[s][0] <= line) {
      line = skip[s][1];
      continue;
    }
    if (!mayStartBlock(env.text, env.lines.lineStart(line), env.lines.lineEnd(line))) continue;
    const limit = s < skip.length ? skip[s][0] - 1 : env.lines.lineCount - 1;
    const block = pieceBlock(env, line, limit) ?? wrappedBlock(env, line, limit);
    if (!block) continue;
    const last = line + block.length - 1;
    const text = block.map((p) => p.residues).join('');
    const end = block[block.length - 1].start + block[block.length - 1].residues.length;
    if (acceptProtein(text, 'none', () => false)) {
      hits.push({ kind: 'protein', start: block[0].start, end, text });
      lineSpans.push([line, last]);
    }
    line = last;
  }
  return { hits, lineSpans };
}

/**
 * A cheap look at text[start, end) before any regular expression: a block's first line ends with
 * residues (bare, or after a triple quote), or it is a string piece (ending in a quote, `+` or `\`)
 * whose first quote opens residues. Most lines of code end otherwise and are not read further.
 */
function mayStartBlock(text: string, start: number, end: number): boolean {
  let e = end;
  while (e > start && (text.charCodeAt(e - 1) === SPACE || text.charCodeAt(e - 1) === TAB)) e--;
  const last = text.charCodeAt(e - 1);
  if (isUpper(last) || last === STAR) return true;
  if (last !== QUOTE && last !== APOSTROPHE && last !== PLUS && last !== BACKSLASH) return false;
  for (let i = start; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === APOSTROPHE) return isUpper(text.charCodeAt(i + 1));
  }
  return false;
}

const SPACE = 32;
const TAB = 9;
const STAR = 42;
const QUOTE = 34;
const APOSTROPHE = 39;
const PLUS = 43;
const BACKSLASH = 92;
const isUpper = (c: number) => c >= 65 && c <= 90;

/** Concatenated string pieces from `line` on: each piece but the last ends without a comma. */
function pieceBlock(env: ScanEnv, line: number, limit: number): LinePart[] | null {
  const parts: LinePart[] = [];
  for (let l = line; l <= limit; l++) {
    const t = env.context.lineText(l);
    const m = (l === line ? PIECE : CONTINUED_PIECE).exec(t);
    if (!m) break;
    parts.push({ start: env.lines.lineStart(l) + t.indexOf(m[1] + m[2] + m[1]) + 1, residues: m[2] });
    // A comma ends the literal (a list item), a closing bracket ends the expression.
    if (m[4] !== '') break;
  }
  return parts.length >= 2 ? parts : null;
}

/** Bare residue lines cut at one width, from `line` on; the first may follow a triple-quote opener, the last may close it. */
function wrappedBlock(env: ScanEnv, line: number, limit: number): LinePart[] | null {
  const part = (l: number, re: RegExp): LinePart | null => {
    const t = env.context.lineText(l);
    const m = re.exec(t);
    return m ? { start: env.lines.lineStart(l) + (re === OPENER ? m.index + m[0].indexOf(m[1]) : t.indexOf(m[1])), residues: m[1] } : null;
  };
  const first = part(line, BARE) ?? part(line, OPENER);
  if (!first) return null;
  const opened = !BARE.test(env.context.lineText(line));
  const parts = [first];
  let width = opened ? 0 : first.residues.length;
  for (let l = line + 1; l <= limit; l++) {
    const prev = parts[parts.length - 1].residues.length;
    if (width > 0 && prev !== width) break;
    const next = part(l, BARE) ?? part(l, CLOSER);
    if (!next) break;
    if (width === 0) {
      width = next.residues.length;
      if (first.residues.length > width) break;
    }
    if (!isWrapWidth(width) || next.residues.length > width) break;
    parts.push(next);
    if (!BARE.test(env.context.lineText(l))) break;
  }
  return parts.length >= 2 ? parts : null;
}
