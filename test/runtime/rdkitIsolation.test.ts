// RDKit-js overflows its WASM stack on large molecules and then fails on every later call. These
// tests trap a real instance: nothing takes down the caller, the instance is replaced, the input
// is named, and inputs over the limits are refused before RDKit sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { countSmilesAtoms, loadRDKit, MAX_ATOMS, moleculeInputProblem, MoleculeRejectedError, withMol } from '../../src/runtime/chem/rdkit';
import { moleculeDescriptor } from '../../src/runtime/chem/descriptors';
import { loadExamples } from '../../src/runtime/data/examples';
import { loadSmilesJudge, scanFile } from '../../src/recognize/index';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-rdkit-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const cli = resolve(__dirname, '../../dist/cli.js');

/** A chain of 900 carbons: RDKit-js 2026.9 overflows its stack parsing it. */
const LONG_CHAIN = 'C'.repeat(900);

/** Traps the shared RDKit instance, as a bad molecule would, leaving it broken for every later call. */
async function poisonSharedInstance(): Promise<void> {
  const rdkit = await loadRDKit();
  assert.throws(() => rdkit.get_mol(LONG_CHAIN), WebAssembly.RuntimeError);
  assert.throws(() => rdkit.get_mol('CCO'), WebAssembly.RuntimeError, 'a trapped instance stays broken');
}

test('atoms are counted as RDKit would count them, and the limits are named', () => {
  assert.equal(countSmilesAtoms('CC(=O)Oc1ccccc1C(=O)O'), 13);
  assert.equal(countSmilesAtoms('[NH4+].[Cl-]'), 2);
  assert.equal(countSmilesAtoms('ClCBr'), 3);
  assert.equal(moleculeInputProblem('CC(=O)Oc1ccccc1C(=O)O'), undefined);
  assert.equal(moleculeInputProblem(LONG_CHAIN), `the SMILES has 900 atoms; the limit is ${MAX_ATOMS} (RDKit-js overflows its stack on larger molecules)`);
  assert.match(moleculeInputProblem('C1CC1'.repeat(400)) ?? '', /1,?200 atoms; the limit is 500/);
  assert.match(moleculeInputProblem('CC\tXX') ?? '', /holds a tab at position 3/);
  assert.match(moleculeInputProblem('CC\x00O') ?? '', /holds a NUL character at position 3/);
  assert.match(moleculeInputProblem('C'.repeat(6000)) ?? '', /6000 characters long; the limit is 5000/);
});

test('a SMILES with a tab inside is refused, not judged by the part before it', async () => {
  const rdkit = await loadRDKit();
  assert.equal(withMol(rdkit, 'CC', () => true), true);
  assert.throws(() => withMol(rdkit, 'CC\tnot a molecule', () => true), (e: unknown) => e instanceof MoleculeRejectedError && /holds a tab at position 3/.test(e.message));
});

test('a trap inside RDKit is a MoleculeRejectedError naming the input, and the next instance works', async () => {
  const trapped = await loadRDKit();
  assert.throws(
    () => withMol(trapped, 'CCO', () => trapped.get_mol(LONG_CHAIN)),
    (e: unknown) => e instanceof MoleculeRejectedError && /RDKit-js failed on this molecule \(memory access out of bounds\) and was restarted: "CCO"/.test(e.message),
  );
  const fresh = await loadRDKit();
  assert.notEqual(fresh, trapped);
  assert.ok(Math.abs(moleculeDescriptor(fresh, 'CCO', 'mw')! - 46.069) < 1e-3);
});

test('training data: the 900-atom row and the row with a tab are skipped and named, the rest load', async () => {
  const path = join(dir, 'rows.csv');
  writeFileSync(path, `smiles,y\nCCO,1\n${LONG_CHAIN},2\n"CC\tO",3\nc1ccccc1,4\n`);
  const set = await loadExamples({ path, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'y' });
  assert.deepEqual(set.examples.map((e) => e.inputs[0]), ['CCO', 'c1ccccc1']);
  assert.equal(set.nSkipped, 2);
  assert.deepEqual(set.skipped.map((s) => s.line), [3, 4]);
  assert.match(set.skipped[0].reason, /900 atoms; the limit is 500/);
  assert.match(set.skipped[1].reason, /holds a tab at position 3/);
  // with --max-length, the length limit applies before RDKit sees the row
  const cut = await loadExamples({ path, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'y', maxInputLength: 512 });
  assert.match(cut.skipped[0].reason, /900 characters long, over the --max-length of 512/);
});

test('training data read after RDKit trapped uses a fresh instance: only the row that met the broken one is skipped, by name', async () => {
  await poisonSharedInstance();
  const path = join(dir, 'after-trap.csv');
  writeFileSync(path, 'smiles\nCCO\nc1ccccc1O\n');
  const set = await loadExamples({ path, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'mw' });
  // the first row meets the broken instance and is skipped by name; the next ones get a fresh one
  assert.equal(set.nSkipped, 1);
  assert.match(set.skipped[0].reason, /RDKit-js failed on this molecule/);
  assert.deepEqual(set.examples.map((e) => e.inputs[0]), ['c1ccccc1O']);
});

test('a scan that meets a trapped RDKit rescans on a fresh one and reports the candidate by position', async () => {
  const judge = await loadSmilesJudge();
  await poisonSharedInstance();
  const path = join(dir, 'molecules.smi');
  writeFileSync(path, 'CC(=O)Oc1ccccc1C(=O)O\nc1ccncc1\n');
  const scan = await scanFile(path, judge);
  assert.ok(scan.skipped === undefined);
  assert.deepEqual(scan.rejected, [{ text: 'CC(=O)Oc1ccccc1C(=O)O', line: 0, character: 0 }]);
  assert.deepEqual(scan.entities.map((e) => e.text), ['c1ccncc1']);
  // and the judge goes on working
  assert.equal(judge.parses('CCN'), true);
});

test('scan of long molecules through the CLI ends cleanly', () => {
  const path = join(dir, 'long.smi');
  writeFileSync(path, `${LONG_CHAIN}\n${'c1ccccc1'.repeat(200)}\nCCO\n`);
  const run = spawnSync(process.execPath, [cli, 'scan', '--json', path], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.text), ['CCO']);
});

test('under ulimit -v 4 GiB, RDKit names the limit and what it needs', () => {
  const path = join(dir, 'small.smi');
  writeFileSync(path, 'CCO\n');
  const run = spawnSync('bash', ['-c', `ulimit -v 4194304 && exec "${process.execPath}" "${cli}" scan "${path}"`], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /^tagllm: RDKit \(WebAssembly\) could not reserve its memory under the address-space limit \(ulimit -v\) of 4\.0 GiB: it needs about 10 GiB of address space/);
  assert.match(run.stderr, /NODE_OPTIONS=--disable-wasm-trap-handler/);
  // and the way out it names works
  const ok = spawnSync('bash', ['-c', `ulimit -v 4194304 && NODE_OPTIONS=--disable-wasm-trap-handler exec "${process.execPath}" "${cli}" scan --json "${path}"`], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).text, 'CCO');
});

test('an SD molblock is bounded by its atoms, not by --max-length; its SMILES is what the limit sees', async () => {
  const path = join(dir, 'ethanol.sdf');
  const molblock = 'ethanol\n  RDKit          2D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n    1.2990    0.7500    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n    2.5981   -0.0000    0.0000 O   0  0  0  0  0  0  0  0  0  0  0  0\n  1  2  1  0\n  2  3  1  0\nM  END\n';
  writeFileSync(path, `${molblock}> <y>\n1.5\n\n$$$$\n`);
  const set = await loadExamples({ path, inputColumns: ['molblock'], inputKinds: ['smiles'], label: 'y', maxInputLength: 16 });
  assert.deepEqual(set.examples.map((e) => e.inputs[0]), ['CCO']);
  const tight = await loadExamples({ path, inputColumns: ['molblock'], inputKinds: ['smiles'], label: 'y', maxInputLength: 2 }).catch((e: Error) => e.message);
  assert.match(String(tight), /the SMILES is 3 characters long, over the --max-length of 2/);
});
