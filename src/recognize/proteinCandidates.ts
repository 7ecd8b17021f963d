// Protein candidates in running text: whole upper-case words (no digits or '_' attached, so
// constants like MAX_SEQUENCE_LENGTH stay whole and fail).
import { acceptProtein } from './proteinRules';
import type { LineMasks } from './masks';
import type { Hit, ScanEnv } from './hits';

const A = 65;
const Z = 90;
/** Letters, digits and '_' glue a run of capitals into a longer identifier. */
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
const MIN_RUN = 8;

/** Appends accepted sequences in text[from, to) to hits, skipping spans already taken by SMILES. */
export function scanProteinWords(env: ScanEnv, from: number, to: number, masks: LineMasks, taken: readonly Hit[], hits: Hit[]): void {
  const { text } = env;
  let t = 0;
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (!isWordChar(c)) {
      i++;
      continue;
    }
    // A word: keep it when it is all capitals.
    const start = i;
    let upper = true;
    while (i < to && isWordChar(text.charCodeAt(i))) {
      const d = text.charCodeAt(i);
      if (d < A || d > Z) upper = false;
      i++;
    }
    const end = i;
    if (!upper || end - start < MIN_RUN) continue;
    while (t < taken.length && taken[t].end <= start) t++;
    if (t < taken.length && taken[t].start < end) continue;
    const word = text.slice(start, end);
    const line = env.lines.lineOf(start);
    if (!acceptProtein(word, env.context.nearProteinCue(line) ? 'cued' : 'none', env.context.isCapsProse(line))) continue;
    if (masks.overlaps(start, end)) continue;
    hits.push({ kind: 'protein', start, end, text: word });
  }
}
