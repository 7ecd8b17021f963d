// Protein candidates in running text: whole upper-case words (no digits or '_' attached, so
// constants like MAX_SEQUENCE_LENGTH stay whole and fail).
import { acceptProtein } from './proteinRules';
import type { MaskCursor } from './masks';
import type { Hit, ScanEnv } from './hits';

const UPPER_WORD = /(?<![A-Za-z0-9_])[A-Z]{8,}(?![A-Za-z0-9_])/g;

/** Appends accepted sequences in text[from, to) to hits, skipping spans already taken by SMILES. */
export function scanProteinWords(env: ScanEnv, from: number, to: number, masks: MaskCursor, taken: readonly Hit[], hits: Hit[]): void {
  const slice = env.text.slice(from, to);
  let t = 0;
  for (const m of slice.matchAll(UPPER_WORD)) {
    const start = from + m.index;
    const end = start + m[0].length;
    while (t < taken.length && taken[t].end <= start) t++;
    if (t < taken.length && taken[t].start < end) continue;
    const line = env.lines.lineOf(start);
    const cued = env.context.nearProteinCue(line);
    if (!acceptProtein(m[0], cued ? 'cued' : 'none', env.context.isCapsProse(line))) continue;
    if (masks.overlaps(start, end)) continue;
    hits.push({ kind: 'protein', start, end, text: m[0] });
  }
}
