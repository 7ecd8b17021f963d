// Molecular properties computed by RDKit-js: the computed labels of stage-2 training
// (`--label qed|logp|tpsa|mw`) and the numbers the editor's hover shows.
import { qed } from './qed';
import { withMol, type Mol, type RDKit } from './rdkit';

export const MOLECULE_DESCRIPTORS = ['qed', 'logp', 'tpsa', 'mw'] as const;
export type MoleculeDescriptor = (typeof MOLECULE_DESCRIPTORS)[number];

export function isMoleculeDescriptor(name: string): name is MoleculeDescriptor {
  return (MOLECULE_DESCRIPTORS as readonly string[]).includes(name);
}

export interface MoleculeProperties {
  readonly qed: number;
  /** Wildman–Crippen logP. */
  readonly logp: number;
  /** Topological polar surface area, Å². */
  readonly tpsa: number;
  /** Average molecular weight, g/mol. */
  readonly mw: number;
  readonly exactMass: number;
  readonly hbd: number;
  readonly hba: number;
  readonly rotatableBonds: number;
  readonly heavyAtoms: number;
  readonly aromaticRings: number;
}

export function moleculeProperties(rdkit: RDKit, mol: Mol): MoleculeProperties {
  const d = JSON.parse(mol.get_descriptors()) as Record<string, number>;
  return {
    qed: qed(rdkit, mol),
    logp: d.CrippenClogP,
    tpsa: d.tpsa,
    mw: d.amw,
    exactMass: d.exactmw,
    hbd: d.NumHBD,
    hba: d.NumHBA,
    rotatableBonds: d.NumRotatableBonds,
    heavyAtoms: d.NumHeavyAtoms,
    aromaticRings: d.NumAromaticRings,
  };
}

/** One descriptor of a SMILES, or undefined when RDKit cannot parse it. */
export function moleculeDescriptor(rdkit: RDKit, smiles: string, name: MoleculeDescriptor): number | undefined {
  return withMol(rdkit, smiles, (mol) => {
    if (name === 'qed') return qed(rdkit, mol);
    const d = JSON.parse(mol.get_descriptors()) as Record<string, number>;
    return name === 'logp' ? d.CrippenClogP : name === 'tpsa' ? d.tpsa : d.amw;
  });
}
