import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRDKit, withMol } from '../../src/runtime/chem/rdkit';
import { qed } from '../../src/runtime/chem/qed';
import { moleculeDescriptor, moleculeProperties } from '../../src/runtime/chem/descriptors';
import { morganBits } from '../../src/runtime/chem/morgan';
import {
  gravy, instabilityIndex, isoelectricPoint, chargeAtPh, proteinMolecularWeight, aromaticity, aminoAcidComposition, normalizeProteinSequence,
} from '../../src/runtime/chem/protein';

// RDKit's QED (the implementation scientists compare against) gives 0.253…, 0.234…, 0.234…
// for the paper's three examples; Pipeline Pilot's published figures differ in the logP model.
test('QED matches RDKit on the three examples of Bickerton et al.', async () => {
  const rdkit = await loadRDKit();
  const cases: [string, number][] = [
    ['N=C(CCSCc1csc(N=C(N)N)n1)NS(N)(=O)=O', 0.253], // famotidine
    ['CNC(=NCCSCc1nc[nH]c1C)NC#N', 0.234], // cimetidine
    ['CCCCCNC(=N)NN=Cc1c[nH]c2ccc(CO)cc12', 0.234],
  ];
  for (const [smiles, expected] of cases) {
    const q = withMol(rdkit, smiles, (m) => qed(rdkit, m))!;
    assert.ok(q >= expected && q < expected + 0.001, `${smiles}: ${q} vs ${expected}`);
  }
});

test('aspirin descriptors: textbook MW and TPSA, Crippen logP, QED in (0, 1)', async () => {
  const rdkit = await loadRDKit();
  const p = withMol(rdkit, 'CC(=O)Oc1ccccc1C(=O)O', (m) => moleculeProperties(rdkit, m))!;
  assert.ok(Math.abs(p.mw - 180.159) < 0.01);
  assert.ok(Math.abs(p.tpsa - 63.6) < 0.01);
  assert.ok(Math.abs(p.logp - 1.31) < 0.01);
  assert.ok(p.qed > 0.5 && p.qed < 0.6, `qed ${p.qed}`);
  assert.equal(moleculeDescriptor(rdkit, 'notasmiles', 'logp'), undefined);
  // RDKit would read only the part before the space ("not"): refused, naming the space
  assert.throws(() => moleculeDescriptor(rdkit, 'not a smiles', 'logp'), /holds a space at position 4/);
  assert.equal(moleculeDescriptor(rdkit, 'C1CC', 'mw'), undefined);
  assert.ok(Math.abs(moleculeDescriptor(rdkit, 'O', 'mw')! - 18.015) < 0.01);
});

test('Morgan bits unpack in RDKit bit order', async () => {
  const rdkit = await loadRDKit();
  const smiles = 'c1ccccc1CCN';
  const bits = morganBits(rdkit, smiles, 2, 256)!;
  const reference = withMol(rdkit, smiles, (m) => m.get_morgan_fp(JSON.stringify({ radius: 2, nBits: 256 })))!;
  assert.equal(Array.from(bits).join(''), reference);
  assert.ok(bits.reduce((a, b) => a + b, 0) > 3);
  assert.equal(morganBits(rdkit, '((('), undefined);
});

test('protein descriptors against hand-computed values', () => {
  assert.equal(gravy('AC'), (1.8 + 2.5) / 2);
  // dipeptides AC (44.94) and CD (20.26), length 3
  assert.ok(Math.abs(instabilityIndex('ACD') - (10 / 3) * (44.94 + 20.26)) < 1e-9);
  assert.ok(Math.abs(instabilityIndex('AAAA') - (10 / 4) * 3) < 1e-9);
  // glycine: only the termini ionise, so pI is the mean of their pKa values
  assert.ok(Math.abs(isoelectricPoint('G') - (7.5 + 3.55) / 2) < 1e-6);
  assert.ok(isoelectricPoint('KKKKRK') > 10 && isoelectricPoint('DDEEDE') < 4);
  // four lysines add 4 / (1 + 10^(7 - 10)) to the termini's charge
  assert.ok(Math.abs(chargeAtPh('KKKK', 7) - chargeAtPh('G', 7) - 4 / (1 + 10 ** -3)) < 1e-9);
  assert.ok(Math.abs(proteinMolecularWeight('G') - 75.067) < 0.01);
  assert.equal(aromaticity('FWYA'), 0.75);
  const comp = aminoAcidComposition('AAC');
  assert.ok(Math.abs(comp[0] - 2 / 3) < 1e-12 && Math.abs(comp[1] - 1 / 3) < 1e-12);
  assert.equal(normalizeProteinSequence(' mkv\nla* '), 'MKVLA');
  assert.equal(normalizeProteinSequence('MK1V'), undefined);
  assert.equal(normalizeProteinSequence('MKJ'), undefined);
  assert.equal(normalizeProteinSequence(''), undefined);
});
