// Recall on real molecules and sequences from the shared data (read at run time, never
// copied), each embedded in the kinds of context users write; and false positives on real
// prose and real compound names, which should find nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { loadSmilesJudge, scanText, type SmilesJudge, type TextFormat } from '../../src/recognize/index';

/** ESOL rows: compound name (first field) and SMILES (last field); names hold no commas there. */
function esol(): Array<{ name: string; smiles: string }> {
  return readFileSync(dataPath('molnet', 'esol.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((row) => {
      const fields = row.split(',');
      return { name: fields[0], smiles: fields[fields.length - 1].trim() };
    });
}

/** Contexts a SMILES is written in, from a bare table cell to a sentence with no cue at all. */
const SMILES_CONTEXTS: Record<string, { format: TextFormat; make: (s: string) => string; min: number }> = {
  'csv smiles column': { format: 'csv', make: (s) => `id,smiles,logS\nx1,${s},-1.5\n`, min: 0.99 },
  'python string after smiles =': { format: 'text', make: (s) => `smiles = "${s}"\n`, min: 0.99 },
  'json "smiles" field': { format: 'text', make: (s) => `  {"smiles": "${s}", "logS": -1.5},\n`, min: 0.99 },
  'markdown "SMILES:" then backticks': { format: 'text', make: (s) => `- SMILES: \`${s}\` (from ESOL)\n`, min: 0.99 },
  'prose with no cue': { format: 'text', make: (s) => `We measured ${s} twice at 25 °C.\n`, min: 0.85 },
};

function recall(judge: SmilesJudge, smiles: string[], format: TextFormat, make: (s: string) => string): { recall: number; misses: string[] } {
  const misses = smiles.filter((s) => !scanText(make(s), format, judge).some((e) => e.kind === 'smiles' && e.text === s));
  return { recall: 1 - misses.length / smiles.length, misses };
}

test('every ESOL SMILES is found in generated contexts', async () => {
  const judge = await loadSmilesJudge();
  const smiles = esol().map((r) => r.smiles);
  for (const [name, { format, make, min }] of Object.entries(SMILES_CONTEXTS)) {
    const r = recall(judge, smiles, format, make);
    console.log(`${name}: recall ${r.recall.toFixed(4)} over ${smiles.length}; misses: ${r.misses.slice(0, 12).join(' ')}${r.misses.length > 12 ? ' ...' : ''}`);
    assert.ok(r.recall >= min, `${name}: recall ${r.recall.toFixed(4)} < ${min}`);
  }
});

test('ESOL SMILES next to their compound names, in a Markdown list and in parentheses', async () => {
  const judge = await loadSmilesJudge();
  // Quoted names hold commas and split the row wrongly: left out.
  const rows = esol().filter((r) => !r.name.startsWith('"'));
  const contexts: Record<string, (name: string, smiles: string) => string> = {
    'list "- name: SMILES"': (n, s) => `- ${n}: ${s}\n`,
    'prose "name (SMILES)"': (n, s) => `We used ${n} (${s}) as supplied.\n`,
    'prose "SMILES (name)"': (n, s) => `We used ${s} (${n}) as supplied.\n`,
  };
  for (const [name, make] of Object.entries(contexts)) {
    const misses = rows.filter((r) => !scanText(make(r.name, r.smiles), 'text', judge).some((e) => e.kind === 'smiles' && e.text === r.smiles));
    const recall = 1 - misses.length / rows.length;
    console.log(`${name}: recall ${recall.toFixed(4)} over ${rows.length}; misses: ${misses.map((r) => r.smiles).join(' ')}`);
    // The misses are one- and two-atom molecules that spell words and formulas (C, CC, CO, CBr).
    assert.ok(recall >= 0.99, `${name}: recall ${recall.toFixed(4)} < 0.99`);
  }
});

test('ESOL compound names (common and IUPAC) in prose give no SMILES', async () => {
  const judge = await loadSmilesJudge();
  const names = esol().map((r) => r.name);
  const text = names.map((n) => `The sample of ${n} was dissolved; ${n.toUpperCase()} IS LISTED.\n`).join('');
  const found = scanText(text, 'text', judge);
  console.log(`names: ${names.length}, entities found: ${found.length} ${found.slice(0, 10).map((e) => e.text).join(' ')}`);
  assert.ok(found.length <= names.length * 0.002, `${found.length} entities in ${names.length} compound names`);
});

test('captions of everyday English, as written and upper-cased, give no entities', async () => {
  const judge = await loadSmilesJudge();
  const lines = readFileSync(dataPath('translation', 'multi30k', 'test_2016_flickr.en'), 'utf8').split('\n');
  const text = lines.join('\n') + '\n' + lines.map((l) => l.toUpperCase()).join('\n');
  const found = scanText(text, 'text', judge);
  console.log(`captions: ${2 * lines.length} lines, entities found: ${found.length} ${found.slice(0, 10).map((e) => e.text).join(' ')}`);
  assert.ok(found.length <= 2, `${found.length} entities in ${2 * lines.length} caption lines`);
});

function fastaRecords(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('>')
    .slice(1)
    .map((rec) => rec.split('\n').slice(1).join('').trim().replace(/\*$/, ''));
}

for (const file of ['dtc_targets.fasta', 'bacterial_proteome.faa']) {
  test(`every record of proteins/${file} is one protein entity with its whole sequence`, async () => {
    const judge = await loadSmilesJudge();
    const path = dataPath('proteins', file);
    const expected = fastaRecords(path);
    const found = scanText(readFileSync(path, 'utf8'), 'fasta', judge);
    const foundSet = new Set(found.map((e) => e.text));
    const misses = expected.filter((s) => !foundSet.has(s));
    console.log(`${file}: ${expected.length} records, ${found.length} entities, ${misses.length} misses`);
    assert.ok(found.every((e) => e.kind === 'protein'));
    assert.ok(1 - misses.length / expected.length >= 0.99, `${misses.length} of ${expected.length} records missed`);
    assert.ok(found.length <= expected.length);
  });
}

test('protein targets quoted in prose with a cue, and bare in prose', async () => {
  const judge = await loadSmilesJudge();
  const seqs = fastaRecords(dataPath('proteins', 'dtc_targets.fasta')).slice(0, 300);
  const cued = recallOf(judge, seqs, (s) => `The target sequence is ${s}, expressed in E. coli.\n`);
  const bare = recallOf(judge, seqs, (s) => `We expressed ${s} in E. coli.\n`);
  console.log(`targets in prose: cued recall ${cued.toFixed(4)}, bare recall ${bare.toFixed(4)}`);
  assert.ok(cued >= 0.99 && bare >= 0.99);
});

test('antimicrobial peptides and UniProt fragments in a headerless CSV are found by column inference', async () => {
  const judge = await loadSmilesJudge();
  const text = readFileSync(dataPath('proteins', 'amp_vs_uniprot.csv'), 'utf8');
  const rows = text.trim().split('\n').slice(1).map((r) => r.split(',')[0].trim());
  const found = new Set(scanText(text, 'csv', judge).filter((e) => e.kind === 'protein').map((e) => e.text));
  const r = rows.filter((s) => found.has(s)).length / rows.length;
  console.log(`amp_vs_uniprot.csv: ${rows.length} peptides, recall ${r.toFixed(4)}`);
  assert.ok(r >= 0.95);
});

function recallOf(judge: SmilesJudge, seqs: string[], make: (s: string) => string): number {
  return seqs.filter((s) => scanText(make(s), 'text', judge).some((e) => e.kind === 'protein' && e.text === s)).length / seqs.length;
}

test('ligands of molnet/dtc_ligands.smi are found in a .smi file and in Python strings', async () => {
  const judge = await loadSmilesJudge();
  const text = readFileSync(dataPath('molnet', 'dtc_ligands.smi'), 'utf8');
  // The first 4,000 ligands keep the test to seconds (each distinct molecule costs RDKit ~0.3 ms).
  const lines = text.trim().split('\n').slice(0, 4000);
  const smiles = lines.map((l) => l.split(/\s+/)[0]);
  const inFile = new Set(scanText(lines.join('\n'), 'smi', judge).map((e) => e.text));
  const fileRecall = smiles.filter((s) => inFile.has(s)).length / smiles.length;
  // Every fourth ligand, quoted in code with no cue at all.
  const sample = smiles.filter((_, i) => i % 4 === 0);
  const code = recall(judge, sample, 'text', (s) => `ligand = "${s}"\n`);
  console.log(`dtc_ligands.smi: first ${smiles.length} ligands, recall in the file ${fileRecall.toFixed(4)}, quoted in code ${code.recall.toFixed(4)} (misses: ${code.misses.slice(0, 8).join(' ')})`);
  assert.ok(fileRecall >= 0.99);
  assert.ok(code.recall >= 0.97);
});
