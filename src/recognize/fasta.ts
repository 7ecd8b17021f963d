// FASTA records: a '>' header line, then sequence lines. A record wrapped over many lines is
// one entity whose range runs from its first residue to its last, and whose text is the
// sequence without line breaks.
import { acceptProtein } from './proteinRules';
import type { Hit, ScanEnv } from './hits';

/** In a FASTA file any case goes; inside other text only upper-case sequence lines count. */
export type FastaMode = 'file' | 'embedded';

const FILE_LINE = /^[A-Za-z]+\*?$/;
const EMBEDDED_LINE = /^[A-Z]+\*?$/;
const FILE_HEADER = /^>/;
// Markdown quotes are "> text"; FASTA headers start right after the '>'.
const EMBEDDED_HEADER = /^>\S/;
const EMBEDDED_MIN = 10;
const GT = 62;

export interface FastaRecords {
  readonly hits: Hit[];
  /** Lines [first, last] that belong to records, header included; other scanners skip them. */
  readonly lineSpans: Array<[number, number]>;
}

export function findFastaRecords(env: ScanEnv, fromLine: number, toLine: number, mode: FastaMode): FastaRecords {
  const { lines } = env;
  const hits: Hit[] = [];
  const lineSpans: Array<[number, number]> = [];
  const seqLine = mode === 'file' ? FILE_LINE : EMBEDDED_LINE;
  const header = mode === 'file' ? FILE_HEADER : EMBEDDED_HEADER;
  for (let line = fromLine; line <= toLine; line++) {
    if (env.text.charCodeAt(lines.lineStart(line)) !== GT || !header.test(env.context.lineText(line))) continue;
    const parts: string[] = [];
    let first = -1;
    let end = -1;
    let next = line + 1;
    for (; next < lines.lineCount; next++) {
      const raw = env.context.lineText(next).trimEnd();
      if (!seqLine.test(raw)) break;
      const seq = raw.endsWith('*') ? raw.slice(0, -1) : raw;
      if (first < 0) first = lines.lineStart(next);
      end = lines.lineStart(next) + seq.length;
      parts.push(seq);
      if (seq.length < raw.length) {
        next++;
        break;
      }
    }
    if (parts.length === 0) continue;
    const seq = parts.join('');
    const upper = seq.toUpperCase();
    if (acceptProtein(upper, 'fasta', () => false) && (mode === 'file' || seq.length >= EMBEDDED_MIN)) {
      hits.push({ kind: 'protein', start: first, end, text: seq });
    }
    lineSpans.push([line, next - 1]);
    line = next - 1;
  }
  return { hits, lineSpans };
}
