// The SMILES lexer: runs of characters SMILES can contain, cut at whitespace, quotes,
// commas and other characters SMILES never holds, then trimmed of prose punctuation.
import { smilesShape } from './smilesSyntax';
import { acceptSmiles, isSmilesWord, type SmilesContext } from './smilesRules';
import { isQuoted } from './context';
import type { LineMasks } from './masks';
import type { Hit, ScanEnv } from './hits';

// Inside a run: letters, digits, '_' (so identifiers stay whole and fail), and SMILES punctuation.
const RUN_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@+-[]()=#%/\\.*') RUN_CHAR[c.charCodeAt(0)] = 1;
const COLON = 58;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
// Character classes for the quick look a run gets before any string is made of it.
const ATOM = 1;
const FOREIGN = 2;
const UNDERSCORE = 3;
const EQUALS = 4;
const CLASS = new Uint8Array(128);
for (const c of 'BCNOPSFIbcnosp*') CLASS[c.charCodeAt(0)] = ATOM;
for (const c of 'ADEGHJKLMQRTUVWXYZadefghijklmqrtuvwxyz') CLASS[c.charCodeAt(0)] = FOREIGN;
CLASS['_'.charCodeAt(0)] = UNDERSCORE;
CLASS['='.charCodeAt(0)] = EQUALS;
const LOWER_L = 108;
const LOWER_R = 114;
const UPPER_C = 67;
const UPPER_B = 66;

/** Appends accepted SMILES in text[from, to) to hits. */
export function scanSmilesRuns(env: ScanEnv, from: number, to: number, masks: LineMasks, hits: Hit[]): void {
  const { text } = env;
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c >= 128 || RUN_CHAR[c] === 0) {
      i++;
      continue;
    }
    let j = i;
    let inBracket = false;
    // Outside brackets a SMILES holds no letters but its atoms (and the l of Cl, the r of Br);
    // most runs in code and prose (identifiers, words) show a foreign letter at once.
    let atoms = 0;
    let foreign = 0;
    let underscores = 0;
    let equals = false;
    while (j < to) {
      const d = text.charCodeAt(j);
      if (d === OPEN_BRACKET) {
        inBracket = true;
        atoms++;
      } else if (d === CLOSE_BRACKET) inBracket = false;
      // Atom maps ([CH3:1]) are the only colons we accept.
      else if (!(d < 128 && (RUN_CHAR[d] === 1 || (d === COLON && inBracket)))) break;
      else if (!inBracket) {
        const k = CLASS[d];
        if (k === ATOM) atoms++;
        else if (k === FOREIGN) {
          const prev = text.charCodeAt(j - 1);
          if (!((d === LOWER_L && prev === UPPER_C) || (d === LOWER_R && prev === UPPER_B))) foreign++;
        } else if (k === UNDERSCORE) underscores++;
        else if (k === EQUALS) equals = true;
      }
      j++;
    }
    // Emphasis marks (_CCO_) are trimmed later; an underscore inside makes an identifier.
    const innerUnderscore = underscores > 0 && text.slice(i + 1, j - 1).includes('_');
    if (atoms > 0 && ((foreign === 0 && !innerUnderscore) || equals)) considerRun(env, i, j, masks, hits);
    i = j;
  }
}

function considerRun(env: ScanEnv, runStart: number, runEnd: number, masks: LineMasks, hits: Hit[]): void {
  const { text } = env;
  // A run opened by '#' is a colour (#CCCCCC), an anchor or a tag; by '@', a decorator or a handle.
  if (text[runStart] === '#' || text[runStart] === '@') return;
  // Stars around a run are markdown emphasis, unless quotes say it is a polymer ("*CC(C)*").
  const quoted = isQuoted(text, runStart, runEnd);
  let [start, end] = trim(text, runStart, runEnd, !quoted);
  if (end - start < 1) return;
  let candidate = text.slice(start, end);
  let shape = smilesShape(candidate);
  if (!shape && quoted && candidate.includes('\\\\')) {
    // A cis/trans backslash escaped in a source string ("C\\C=C/C" in Python or JS): the molecule is the unescaped text.
    candidate = candidate.replaceAll('\\\\', '\\');
    shape = smilesShape(candidate);
  }
  if (!shape) {
    // `key=VALUE` with no spaces (command lines, config files): the value may be a SMILES.
    const eq = candidate.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_][\w.-]*$/.test(candidate.slice(0, eq))) return;
    [start, end] = trim(text, start + eq + 1, end, !quoted);
    candidate = text.slice(start, end);
    shape = smilesShape(candidate);
    if (!shape) return;
  }
  const line = env.lines.lineOf(start);
  const context = (): SmilesContext => {
    if (env.context.underSmilesHeader(line, start, end)) return 'column';
    const quoted = isQuoted(text, start, end);
    // An unquoted word (CC, NO) is refused whatever cue is near: the cues need not be looked for.
    if (!quoted && isSmilesWord(candidate)) return 'none';
    if (env.context.nearSmilesCue(line, start, end)) return quoted ? 'cued-quoted' : 'cued';
    return 'none';
  };
  if (!acceptSmiles(candidate, shape, context, () => env.context.isCapsProse(line))) return;
  // One bracket atom ([N+], [O-]) is a token of a SMILES vocabulary unless a cue or an assignment (`ion = "[Na+]"`) says it is a molecule.
  if (shape.atoms === 1 && context() === 'none' && !ASSIGNED_STRING.test(text.slice(Math.max(0, start - 8), start))) return;
  // Letters alone (CCCCCC) may name a constant or a colour instead, unless a name says otherwise ("CCO = ethanol").
  if (!shape.strongEvidence && !shape.weakEvidence) {
    if (isColour(candidate, env.context.lineText(line)) || (isDeclaredName(text, start, end) && context() === 'none')) return;
  }
  if (masks.overlaps(start, end)) return;
  if (!env.judge.parses(candidate)) return;
  hits.push({ kind: 'smiles', start, end, text: candidate });
}

const ASSIGNED_STRING = /[^=!<>]=\s*["']$/;
const DECLARATION = /\b(?:const|let|var|final|static|readonly|enum|def|class|function|val)\s+$/;
/** A name being assigned (CCCCCC = 6, but not CCCCCC == x) or declared (const CCCCCC). */
function isDeclaredName(text: string, start: number, end: number): boolean {
  if (/^\s*=(?!=)/.test(text.slice(end, end + 8))) return true;
  return DECLARATION.test(text.slice(Math.max(0, start - 16), start));
}

const HEX_COLOUR = /^(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$/;
const COLOUR_WORD = /colou?r|fill|stroke|background|border|palette|theme|rgb|hex(?![a-z])/i;
function isColour(candidate: string, line: string): boolean {
  return HEX_COLOUR.test(candidate) && COLOUR_WORD.test(line);
}

/** Drops what prose and markup put around a SMILES: sentence punctuation, brackets, emphasis. */
function trim(text: string, start: number, end: number, emphasis: boolean): [number, number] {
  for (;;) {
    const first = text[start];
    const last = text[end - 1];
    if (emphasis && end - start >= 2 && (first === '*' || first === '_') && (last === '*' || last === '_')) {
      start++;
      end--;
    } else if (end > start && '.-=#/\\_'.includes(last)) end--;
    else if (end > start && '(.-=#/\\_)'.includes(first)) start++;
    else if (last === ')' && count(text, start, end, ')') > count(text, start, end, '(')) end--;
    else return [start, end];
  }
}

function count(text: string, start: number, end: number, c: string): number {
  let n = 0;
  for (let i = start; i < end; i++) if (text[i] === c) n++;
  return n;
}
