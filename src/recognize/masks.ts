// Spans that look like molecules or sequences piecewise but are something else: URLs,
// InChI strings and keys, UUIDs, hashes, base64 blobs. Nothing inside them is reported.
import type { LineIndex } from './lineIndex';

const PATTERNS: readonly RegExp[] = [
  /\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.)[^\s"'<>`]+/gi,
  /\bInChI=[^\s"'<>`]+/g,
  /\b[A-Z]{14}-[A-Z]{10}-[A-Z]\b/g,
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi,
  // Hex digests: hex letters other than b, c, B, C and F never occur in SMILES outside brackets.
  /\b(?=[0-9a-fA-F]*[adefADE])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{16,}\b/g,
  // base64 with mixed case, digits and a letter SMILES cannot hold outside brackets (F and the r of Br it can).
  /(?<![A-Za-z0-9+/])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[ad-kmqtuvwxyzADEGHJKLMQRTUVWXYZ])[A-Za-z0-9+/]{24,}={0,2}/g,
];

/** Disjoint, sorted [start, end) offset pairs of masked spans in text[from, to). */
function maskedSpans(text: string, from: number, to: number): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const slice = text.slice(from, to);
  for (const pattern of PATTERNS) {
    for (const m of slice.matchAll(pattern)) spans.push([from + m.index, from + m.index + m[0].length]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push(span);
  }
  return merged;
}

/**
 * Answers "is this candidate masked?" for candidates that lie within one line. Spans never
 * cross lines either, so masks are computed per line, and only for lines where a candidate
 * got this far: most lines never need the regular expressions at all.
 */
export class LineMasks {
  private line = -1;
  private spans: Array<[number, number]> = [];

  constructor(private readonly text: string, private readonly lines: LineIndex) {}

  overlaps(start: number, end: number): boolean {
    const line = this.lines.lineOf(start);
    if (line !== this.line) {
      this.line = line;
      this.spans = maskedSpans(this.text, this.lines.lineStart(line), this.lines.lineEnd(line));
    }
    return this.spans.some(([s, e]) => s < end && e > start);
  }
}
