// One RDKit-js (WASM) instance per process, loaded on first use. Every Mol it hands out
// lives in WASM memory and must be deleted; `withMol` keeps that in one place.
import initRDKitModule from '@rdkit/rdkit';
import type { MainModule, Mol } from '@rdkit/rdkit';

export type RDKit = MainModule;
export type { Mol };

let loading: Promise<RDKit> | undefined;

export function loadRDKit(): Promise<RDKit> {
  loading ??= initRDKitModule().then((rdkit) => {
    rdkit.disable_logging();
    return rdkit;
  });
  return loading;
}

/**
 * Parses a SMILES and runs `fn` on the molecule, or returns undefined when RDKit cannot
 * parse it. The molecule is freed afterwards whatever `fn` does.
 */
export function withMol<T>(rdkit: RDKit, smiles: string, fn: (mol: Mol) => T): T | undefined {
  const s = smiles.trim();
  if (s.length === 0) return undefined;
  const mol = rdkit.get_mol(s);
  if (!mol) return undefined;
  try {
    if (!mol.is_valid()) return undefined;
    return fn(mol);
  } finally {
    mol.delete();
  }
}
