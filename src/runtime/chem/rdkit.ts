// One RDKit-js (WASM) instance per process, loaded on first use. Every Mol it hands out
// lives in WASM memory and must be deleted; `withMol` keeps that in one place.
//
// RDKit-js 2026.9 has two failure modes that plain input can trigger:
// - its recursive code overflows the WASM stack on large molecules ("memory access out of
//   bounds"): the default parse (through RemoveHs) at about 860 atoms in a chain, and with
//   `removeHs: false` the parse survives but descriptors, fingerprints and drawing overflow
//   near 1,000 atoms. No parse option avoids it, so molecules are limited to MAX_ATOMS before
//   RDKit sees them. A trap that still happens leaves the instance broken for every later call
//   (even "CCO"), so the instance is dropped and the next `loadRDKit()` creates a fresh one.
// - it cuts a SMILES at the first whitespace or NUL (the rest is read as a name), so "CC\tXX"
//   would pass as ethane: such strings are refused here.
// Its WASM memory needs about 10 GiB of address space (V8 reserves guard regions), which a
// `ulimit -v` often denies; that ends in a ResourceLimitError that says what to do.
import { readFileSync } from 'node:fs';
import initRDKitModule from '@rdkit/rdkit';
import type { MainModule, Mol } from '@rdkit/rdkit';
import { ResourceLimitError, UnsupportedError } from '../errors';
import { escapeControl, quote } from '../safeText';

export type RDKit = MainModule;
export type { Mol };

/** Far above drug-like molecules (vancomycin has 101 heavy atoms), well below where RDKit-js overflows. */
export const MAX_ATOMS = 500;
/** A SMILES of MAX_ATOMS bracket atoms with ring bonds and stereo fits in this many characters. */
export const MAX_SMILES_LENGTH = 5000;

/** RDKit-js failed on one input (a trap inside WASM, or an input over a limit); the input is named. */
export class MoleculeRejectedError extends UnsupportedError {
  constructor(readonly reason: string, readonly input: string) {
    super(`${reason}: ${quote(input)}`);
  }
}

let loading: Promise<RDKit> | undefined;
let loaded: RDKit | undefined;

export function loadRDKit(): Promise<RDKit> {
  // printErr: a failed start is reported once, by startupError, not also by Emscripten on stderr
  loading ??= initRDKitModule({ printErr: () => {} }).then(
    (rdkit) => {
      rdkit.disable_logging();
      loaded = rdkit;
      return rdkit;
    },
    (error: unknown) => {
      loading = undefined;
      throw startupError(error);
    },
  );
  return loading;
}

/** Forget a trapped instance so that the next `loadRDKit()` creates a fresh one. */
function discard(rdkit: RDKit): void {
  if (loaded !== rdkit) return;
  loaded = undefined;
  loading = undefined;
}

function isTrap(error: unknown): boolean {
  return error instanceof WebAssembly.RuntimeError || (error instanceof RangeError && /call stack/i.test(error.message));
}

/** The address-space limit of this process (`ulimit -v`) in bytes, or undefined when unlimited or unknown. */
export function addressSpaceLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const row = /^Max address space\s+(\S+)/m.exec(readFileSync(limitsFile, 'utf8'));
    return row && row[1] !== 'unlimited' ? Number(row[1]) : undefined;
  } catch {
    return undefined;
  }
}

const GIB = 1024 ** 3;

function startupError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (!/Cannot allocate Wasm memory|Out of memory/i.test(message)) return error instanceof Error ? error : new Error(message);
  const limit = addressSpaceLimit();
  const limitText = limit === undefined ? 'the address space this process may use' : `the address-space limit (ulimit -v) of ${(limit / GIB).toFixed(1)} GiB`;
  return new ResourceLimitError(
    `RDKit (WebAssembly) could not reserve its memory under ${limitText}: it needs about 10 GiB of address space ` +
      '(not of RAM). Raise the limit (ulimit -v unlimited), or run Node with NODE_OPTIONS=--disable-wasm-trap-handler, which reserves only the memory RDKit uses',
  );
}

const V2000_COUNTS_LINE = 3;

/** What makes a SMILES (or an SD molblock) unfit for RDKit-js, or undefined when it may be parsed. */
export function moleculeInputProblem(input: string): string | undefined {
  if (input.includes('M  END')) {
    const counts = input.split('\n')[V2000_COUNTS_LINE] ?? '';
    const atoms = Number(counts.slice(0, 3));
    return atoms > MAX_ATOMS ? `the molblock has ${atoms} atoms; the limit is ${MAX_ATOMS}` : undefined;
  }
  const odd = /[\s\x00-\x1f\x7f]/.exec(input);
  if (odd) return `the SMILES holds ${characterName(odd[0])} at position ${odd.index + 1} (RDKit would read only the part before it)`;
  if (input.length > MAX_SMILES_LENGTH) return `the SMILES is ${input.length} characters long; the limit is ${MAX_SMILES_LENGTH}`;
  const atoms = countSmilesAtoms(input);
  if (atoms > MAX_ATOMS) return `the SMILES has ${atoms} atoms; the limit is ${MAX_ATOMS} (RDKit-js overflows its stack on larger molecules)`;
  return undefined;
}

const CHARACTER_NAMES: ReadonlyMap<string, string> = new Map([
  [' ', 'a space'],
  ['\t', 'a tab'],
  ['\n', 'a line break'],
  ['\r', 'a carriage return'],
  ['\0', 'a NUL character'],
]);

function characterName(c: string): string {
  return CHARACTER_NAMES.get(c) ?? `the character ${escapeControl(c)} (U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()})`;
}

// bracket atoms, two-letter organic-subset atoms, one-letter ones (aromatic in lower case), and *
const ATOM = /\[[^\]]*\]|Cl|Br|[BCNOPSFI]|[bcnops]|\*/g;

export function countSmilesAtoms(smiles: string): number {
  return smiles.match(ATOM)?.length ?? 0;
}

/**
 * Parses a SMILES (or molblock) and runs `fn` on the molecule, or returns undefined when RDKit
 * cannot parse it. The molecule is freed afterwards whatever `fn` does. An input over a limit,
 * or one that traps RDKit (the instance is then replaced), throws MoleculeRejectedError.
 */
export function withMol<T>(rdkit: RDKit, smiles: string, fn: (mol: Mol) => T, parseOptions?: string): T | undefined {
  const s = smiles.trim();
  if (s.length === 0) return undefined;
  const problem = moleculeInputProblem(s);
  if (problem) throw new MoleculeRejectedError(problem, s);
  let mol: Mol | null = null;
  try {
    mol = parseOptions === undefined ? rdkit.get_mol(s) : rdkit.get_mol(s, parseOptions);
    if (!mol?.is_valid()) return undefined;
    return fn(mol);
  } catch (error) {
    if (!isTrap(error)) throw error;
    mol = null; // its memory went with the instance
    discard(rdkit);
    throw new MoleculeRejectedError(`RDKit-js failed on this molecule (${(error as Error).message}) and was restarted`, s);
  } finally {
    mol?.delete();
  }
}
