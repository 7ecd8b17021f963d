// Entity cards: what can be said about a molecule or a sequence without a language model, computed
// by the runtime's chemistry module (RDKit-js for molecules, published scales for proteins).
import { moleculeProperties } from '../../runtime/chem/descriptors';
import { aromaticity, chargeAtPh, gravy, instabilityIndex, isoelectricPoint, normalizeProteinSequence, proteinMolecularWeight } from '../../runtime/chem/protein';
import { loadRDKit, withMol } from '../../runtime/chem/rdkit';
import { InvalidFileError } from '../../runtime/errors';
import { quote } from '../../runtime/safeText';
import type { EntityCard, EntityRef } from '../protocol';

const structureWidth = 300;
const structureHeight = 225;

export async function describeEntity(ref: EntityRef): Promise<EntityCard> {
  return ref.kind === 'smiles' ? describeMolecule(ref.text) : describeProtein(ref.text);
}

async function describeMolecule(smiles: string): Promise<EntityCard> {
  const rdkit = await loadRDKit();
  const card = withMol(rdkit, smiles, (mol): EntityCard => {
    const p = moleculeProperties(rdkit, mol);
    return {
      svg: mol.get_svg(structureWidth, structureHeight),
      descriptors: [
        { name: 'MW', value: p.mw, unit: 'g/mol' },
        { name: 'cLogP', value: p.logp },
        { name: 'TPSA', value: p.tpsa, unit: 'Å²' },
        { name: 'HBD', value: p.hbd },
        { name: 'HBA', value: p.hba },
        { name: 'Rotatable bonds', value: p.rotatableBonds },
        { name: 'QED', value: p.qed },
      ],
    };
  });
  if (!card) throw new InvalidFileError(`RDKit cannot parse the SMILES ${quote(smiles)}`);
  return card;
}

function describeProtein(raw: string): EntityCard {
  const seq = normalizeProteinSequence(raw);
  if (!seq) throw new InvalidFileError('not a protein sequence: it holds letters that are not amino acids', raw.slice(0, 40));
  const counts = new Map<string, number>();
  for (const residue of seq) counts.set(residue, (counts.get(residue) ?? 0) + 1);
  const composition = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return {
    descriptors: [
      { name: 'Length', value: seq.length, unit: 'aa' },
      { name: 'MW', value: proteinMolecularWeight(seq), unit: 'Da' },
      { name: 'pI', value: isoelectricPoint(seq) },
      { name: 'Charge at pH 7', value: chargeAtPh(seq, 7) },
      { name: 'GRAVY', value: gravy(seq) },
      { name: 'Instability index', value: instabilityIndex(seq) },
      { name: 'Aromaticity', value: aromaticity(seq) },
    ],
    composition,
  };
}
