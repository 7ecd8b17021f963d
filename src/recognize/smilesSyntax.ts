// A strict lexical reading of SMILES (OpenSMILES grammar, no relaxed parses). It rejects most
// non-SMILES before RDKit sees them, and describes what evidence a candidate carries: a word
// like "COCO" is valid SMILES, but shows none of the marks that real molecules carry.

export interface SmilesShape {
  /** Atoms written in the string (organic subset, aromatic and bracket atoms). */
  readonly atoms: number;
  readonly carbons: number;
  /** '*' atoms: attachment points in a fragment, never a molecule on their own. */
  readonly wildcards: number;
  /** Ring-closure digits, decorated bracket atoms (chirality @ lives in them) or lowercase aromatic atoms. */
  readonly strongEvidence: boolean;
  /** A bracket atom that says more than its element: isotope, hydrogens, charge or chirality ("[13CH4]", "[Na+]"). */
  readonly decoratedAtom: boolean;
  /** A bracket atom with its element alone ("[Pt]"); code writes the same shape (P[K], T[N]). */
  readonly bareBracketAtom: boolean;
  /** Branches, double or triple bonds, cis/trans marks: weaker, since prose makes them too ("C=O stretch", "O(N)", "I/O"). */
  readonly weakEvidence: boolean;
}

const BRACKET_ATOM = /^(\d{1,3})?(\*|[A-Z][a-z]?|[a-z][a-z]?)(@@?(?:TH[12]|AL[12]|SP[123]|TB\d{1,2}|OH\d{1,2})?)?(H\d?)?([+-](?:\d{1,2}|[+-]{0,3})?)?(:\d{1,4})?$/;

const enum Prev {
  Start,
  Atom,
  Bond,
  Open,
  Dot,
}

/** The candidate's shape, or null when it is not lexically SMILES (or is longer than 4,096 characters). */
export function smilesShape(s: string): SmilesShape | null {
  if (s.length === 0 || s.length > 4096) return null;
  let atoms = 0;
  let carbons = 0;
  let wildcards = 0;
  let strong = false;
  let weak = false;
  let decorated = false;
  let bare = false;
  let directional = false;
  let depth = 0;
  let prev: Prev = Prev.Start;
  const openRings = new Set<number>();
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    let atom = '';
    if (c === '[') {
      const close = s.indexOf(']', i + 1);
      if (close < 0 || close - i > 24) return null;
      const m = BRACKET_ATOM.exec(s.slice(i + 1, close));
      if (!m) return null;
      atom = m[2];
      if (m[1] || m[3] || m[4] || m[5] || m[6]) {
        decorated = true;
        strong = true;
      } else bare = true;
      i = close;
    } else if (c === 'C' && s[i + 1] === 'l') {
      atom = 'Cl';
      i++;
    } else if (c === 'B' && s[i + 1] === 'r') {
      atom = 'Br';
      i++;
    } else if ('BCNOPSFI*'.includes(c)) {
      atom = c;
    } else if ('bcnops'.includes(c)) {
      atom = c;
      strong = true;
    }
    if (atom) {
      atoms++;
      if (atom === 'C' || atom === 'c') carbons++;
      else if (atom === '*') wildcards++;
      prev = Prev.Atom;
      continue;
    }
    if (c >= '0' && c <= '9' || c === '%') {
      if (prev !== Prev.Atom && prev !== Prev.Bond) return null;
      let ring: number;
      if (c === '%') {
        const d = s.slice(i + 1, i + 3);
        if (!/^\d\d$/.test(d)) return null;
        ring = Number(d);
        i += 2;
      } else ring = c.charCodeAt(0) - 48;
      if (openRings.has(ring)) openRings.delete(ring);
      else openRings.add(ring);
      strong = true;
      prev = Prev.Atom;
      continue;
    }
    switch (c) {
      case '-':
      case '=':
      case '#':
      case '/':
      case '\\':
        if (prev !== Prev.Atom && prev !== Prev.Open) return null;
        if (c === '=' || c === '#') weak = true;
        else if (c !== '-') directional = true;
        prev = Prev.Bond;
        break;
      case '(':
        if (prev !== Prev.Atom) return null;
        depth++;
        weak = true;
        prev = Prev.Open;
        break;
      case ')':
        if (prev !== Prev.Atom || depth === 0) return null;
        depth--;
        break;
      case '.':
        if (prev !== Prev.Atom || depth !== 0) return null;
        prev = Prev.Dot;
        break;
      default:
        return null;
    }
  }
  if (prev !== Prev.Atom || depth !== 0 || openRings.size > 0) return null;
  // Cis/trans marks mean something only around a double bond; "CC/CO" is prose.
  return { atoms, carbons, wildcards, strongEvidence: strong, decoratedAtom: decorated, bareBracketAtom: bare, weakEvidence: weak || (directional && s.includes('=')) };
}

const FORMULA = /^(?:[A-Z][a-z]?\d*)+$/;
const ELEMENT = /[A-Z][a-z]?/g;

/** A molecular formula such as C6H12O6: element counts, each element once, with at least one count. */
export function isFormula(s: string): boolean {
  if (!FORMULA.test(s) || !/\d/.test(s)) return false;
  const elements = s.match(ELEMENT) ?? [];
  return new Set(elements).size === elements.length;
}
