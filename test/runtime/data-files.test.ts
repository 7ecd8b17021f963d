import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDelimited } from '../../src/runtime/data/delimited';
import { parseFasta } from '../../src/runtime/data/fasta';
import { loadExamples } from '../../src/runtime/data/examples';
import { dataPath } from '../helpers/data';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-data-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('CSV quoting: delimiters, newlines and doubled quotes inside quotes; CRLF; BOM', () => {
  const t = parseDelimited('\ufeffname,smiles,y\r\n"a, b","C""O",1\r\n"multi\nline",CC,2\n\n', 'x.csv');
  assert.deepEqual(t.columns, ['name', 'smiles', 'y']);
  assert.deepEqual(t.rows, [['a, b', 'C"O', '1'], ['multi\nline', 'CC', '2']]);
  assert.deepEqual(t.lines, [2, 3]);
  assert.deepEqual(parseDelimited('a\tb\n1\t2\n', 'x.tsv').rows, [['1', '2']]);
});

test('CSV structural faults name the file and line', () => {
  assert.throws(() => parseDelimited('a,b\n1,"open\n', 'bad.csv'), /bad\.csv: line 2: a quoted field is never closed/);
  assert.throws(() => parseDelimited('a,b\n1,2\n3\n', 'bad.csv'), /bad\.csv: line 3: 1 fields, but the header has 2/);
  assert.throws(() => parseDelimited('', 'empty.csv'), /empty\.csv: the file is empty/);
});

test('FASTA joins wrapped lines and rejects data before a header', () => {
  const r = parseFasta('>p1 kinase one\nMKV\nLA\n>p2\nGG\n', 'x.fasta');
  assert.deepEqual(r.map((x) => [x.id, x.description, x.sequence, x.line]), [['p1', 'kinase one', 'MKVLA', 1], ['p2', '', 'GG', 4]]);
  assert.throws(() => parseFasta('MKV\n>p\nA\n', 'x.fasta'), /x\.fasta: line 1: sequence data before/);
});

test('bad rows are skipped and counted: unparseable SMILES, empty and NaN labels', async () => {
  const p = file('mols.csv', 'smiles,y\nCCO,1.5\nC1CC,2\nc1ccccc1,\nCCN,NaN\nCCC,abc\nO,3\n');
  const set = await loadExamples({ path: p, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'y' });
  assert.deepEqual(set.examples.map((e) => [e.inputs[0], e.label]), [['CCO', 1.5], ['O', 3]]);
  assert.equal(set.nSkipped, 4);
  assert.deepEqual(set.skipped.map((s) => [s.line, s.column]), [[3, 'smiles'], [4, 'y'], [5, 'y'], [6, 'y']]);
});

test('nothing usable is an error naming the file and column; unknown columns and labels are usage errors', async () => {
  const p = file('none.csv', 'smiles,y\nxyz,1\nC1CC,2\n');
  await assert.rejects(loadExamples({ path: p, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'y' }), /none\.csv: no usable rows in column "smiles".*2 skipped.*line 2/);
  await assert.rejects(loadExamples({ path: p, inputColumns: ['smi'], inputKinds: ['smiles'], label: 'y' }), /no input column "smi"/);
  await assert.rejects(loadExamples({ path: p, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'solubility' }), /neither a column.*qed, logp/);
});

test('computed labels: QED for SMILES, instability for proteins with illegal letters skipped', async () => {
  const mols = file('m.smi', 'CC(=O)Oc1ccccc1C(=O)O aspirin\nnot_a_smiles\n');
  const set = await loadExamples({ path: mols, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'qed' });
  assert.equal(set.examples.length, 1);
  assert.ok(set.examples[0].label! > 0.5 && set.examples[0].label! < 0.6);
  const prot = file('p.fasta', '>a\nMKVLA\n>b\nMK1V\n>c\nmkv*\n');
  const ps = await loadExamples({ path: prot, inputColumns: ['sequence'], inputKinds: ['protein'], label: 'gravy' });
  assert.deepEqual(ps.examples.map((e) => e.inputs[0]), ['MKVLA', 'MKV']);
  assert.equal(ps.nSkipped, 1);
});

test('ESOL loads every row with its measured solubility; Davis pairs carry their fold', async () => {
  const esol = await loadExamples({
    path: dataPath('molnet', 'esol.csv'), inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'measured log solubility in mols per litre',
  });
  assert.equal(esol.examples.length + esol.nSkipped, 1128);
  assert.ok(esol.examples.length > 1100);
  assert.equal(esol.examples[0].label, -0.77);
  const davis = await loadExamples({ path: dataPath('dti', 'davis', 'pairs.csv'), inputColumns: ['protein_id'], inputKinds: ['text'], label: 'pkd', splitColumn: 'split', limit: 10 });
  assert.equal(davis.examples[0].split, 'train3');
});

test('protein inputs are cut before their computed label; a SMILES is never cut, and one over the limit is skipped before RDKit', async () => {
  const prot = file('long.fasta', '>a\nAAAAAAAAKKKKKKKK\n');
  const ps = await loadExamples({ path: prot, inputColumns: ['sequence'], inputKinds: ['protein'], label: 'gravy', maxInputLength: 8 });
  assert.equal(ps.examples[0].inputs[0], 'AAAAAAAA');
  assert.ok(Math.abs(ps.examples[0].label! - 1.8) < 1e-12);
  const mols = file('long.smi', 'CCCCCCCCCCO\nCCO\n');
  const ms = await loadExamples({ path: mols, inputColumns: ['smiles'], inputKinds: ['smiles'], label: 'mw', maxInputLength: 3 });
  assert.deepEqual(ms.examples.map((e) => e.inputs[0]), ['CCO']);
  assert.deepEqual(ms.skipped, [{ line: 1, column: 'smiles', reason: 'the SMILES is 11 characters long, over the --max-length of 3 (a SMILES cannot be cut)' }]);
});

test('a seeded sample keeps usable rows in file order and computes labels only for the rows it visits', async () => {
  // 40 good rows, every fourth one broken; a sample of 6 must hold 6 usable rows
  const lines = Array.from({ length: 40 }, (_, i) => (i % 4 === 3 ? `C1CC,${i}` : `${'C'.repeat(1 + (i % 7))}O,${i}`));
  const p = file('many.csv', `smiles,y\n${lines.join('\n')}\n`);
  const spec = { path: p, inputColumns: ['smiles'], inputKinds: ['smiles' as const], label: 'y' };
  const a = await loadExamples({ ...spec, sample: { size: 6, seed: 1 } });
  const again = await loadExamples({ ...spec, sample: { size: 6, seed: 1 } });
  const other = await loadExamples({ ...spec, sample: { size: 6, seed: 2 } });
  assert.equal(a.examples.length, 6);
  assert.deepEqual(a.examples, again.examples);
  assert.notDeepEqual(a.examples.map((e) => e.line), other.examples.map((e) => e.line));
  const order = a.examples.map((e) => e.line);
  assert.deepEqual(order, [...order].sort((x, y) => x - y));
  for (const e of a.examples) assert.equal(e.label, e.line - 2);
  // only visited rows are judged: far fewer than the file's 10 bad rows are counted
  assert.ok(a.nSkipped < 10, `${a.nSkipped} skipped`);
  const all = await loadExamples({ ...spec, sample: { size: 1000, seed: 1 } });
  assert.equal(all.examples.length, 30);
  assert.equal(all.nSkipped, 10);
});

test('Tox21: twelve label columns read together, empty cells as missing labels (NaN)', async () => {
  const tasks = ['NR-AR', 'NR-AR-LBD', 'NR-AhR', 'NR-Aromatase', 'NR-ER', 'NR-ER-LBD', 'NR-PPAR-gamma', 'SR-ARE', 'SR-ATAD5', 'SR-HSE', 'SR-MMP', 'SR-p53'];
  const set = await loadExamples({ path: dataPath('molnet', 'tox21.csv'), inputColumns: ['smiles'], inputKinds: ['smiles'], labels: tasks, limit: 20 });
  // the file's first row: 0,0,1,,,0,0,1,0,0,0,0 for CCOc1ccc2nc(S(N)(=O)=O)sc2c1
  assert.equal(set.examples[0].inputs[0], 'CCOc1ccc2nc(S(N)(=O)=O)sc2c1');
  assert.deepEqual(set.examples[0].targets, [0, 0, 1, NaN, NaN, 0, 0, 1, 0, 0, 0, 0]);
  assert.equal(set.examples[0].label, undefined);
  assert.ok(set.examples.every((e) => e.targets!.length === 12 && e.targets!.some((v) => !Number.isNaN(v))));
});
