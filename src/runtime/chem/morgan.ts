// Morgan (ECFP-like) fingerprints from RDKit-js, unpacked to 0/1 features for the
// fingerprint ridge baseline.
import { withMol, type RDKit } from './rdkit';

export const DEFAULT_MORGAN = { radius: 2, nBits: 1024 } as const;

/** The fingerprint as nBits values of 0 or 1, or undefined for an unparseable SMILES. */
export function morganBits(rdkit: RDKit, smiles: string, radius: number = DEFAULT_MORGAN.radius, nBits: number = DEFAULT_MORGAN.nBits): Uint8Array | undefined {
  return withMol(rdkit, smiles, (mol) => {
    const packed = mol.get_morgan_fp_as_uint8array(JSON.stringify({ radius, nBits })) as Uint8Array;
    const bits = new Uint8Array(nBits);
    // RDKit packs bit i into byte i>>3 at position i&7 (least significant first)
    for (let i = 0; i < nBits; i++) bits[i] = (packed[i >> 3] >> (i & 7)) & 1;
    return bits;
  });
}
