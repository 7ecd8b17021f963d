// Protein candidates in running text: whole upper-case words (no digits or '_' attached, so
// constants like MAX_SEQUENCE_LENGTH stay whole and fail).
import { acceptProtein } from './proteinRules';
import type { LineMasks } from './masks';
import type { Hit, ScanEnv } from './hits';

// Letters, digits and '_' glue a run of capitals into a longer identifier.
const NOT_WORD = 0;
const UPPER = 1;
const OTHER_WORD = 2;
const CLASS = new Uint8Array(65536);
for (let c = 48; c <= 57; c++) CLASS[c] = OTHER_WORD;
for (let c = 97; c <= 122; c++) CLASS[c] = OTHER_WORD;
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
CLASS[95] = OTHER_WORD;
const MIN_RUN = 8;

/** Appends accepted sequences in text[from, to) to hits, skipping spans already taken by SMILES. */
export function scanProteinWords(env: ScanEnv, from: number, to: number, masks: LineMasks, taken: readonly Hit[], hits: Hit[]): void {
  const { text } = env;
  let t = 0;
  let i = from;
  while (i < to) {
    if (CLASS[text.charCodeAt(i)] === NOT_WORD) {
      i++;
      continue;
    }
    // A word: keep it when it is all capitals.
    const start = i;
    let upper = true;
    for (let k = CLASS[text.charCodeAt(i)]; i < to && k !== NOT_WORD; k = CLASS[text.charCodeAt(++i)]) if (k === OTHER_WORD) upper = false;
    const end = i;
    if (!upper || end - start < MIN_RUN) continue;
    while (t < taken.length && taken[t].end <= start) t++;
    if (t < taken.length && taken[t].start < end) continue;
    const word = text.slice(start, end);
    const line = env.lines.lineOf(start);
    const context = () => (env.context.nearProteinCue(line, start, end) ? 'cued' : 'none');
    if (!acceptProtein(word, context, () => env.context.isCapsProse(line))) continue;
    if (masks.overlaps(start, end)) continue;
    hits.push({ kind: 'protein', start, end, text: word });
  }
}
