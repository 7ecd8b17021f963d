// The incremental document: after every edit its entities must equal a full rescan of the
// new text, while it rescans only lines near the edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineIndex } from '../../src/recognize/lineIndex';
import { loadSmilesJudge, RecognizedDocument, scanText, type TextChange, type TextFormat } from '../../src/recognize/index';

const DIR = join(__dirname, '..', 'fixtures', 'recognition');

// Pieces that make and break entities, their cues and their records.
const SNIPPETS = ['"""\n', '    ', 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVL\n', '| CCO |', '- ethanol: ', 'CCO', 'c1ccccc1', ' smiles = "', '"', '\n', '\r\n', '>hdr\n', 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ', 'peptide DRVYIHPF ', '(', 'C(=O)O', '[Na+]', ',', '$$$$\n', '> <SMILES>\n', '🧪', ''];

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

function randomChange(text: string, next: () => number): TextChange {
  const lines = new LineIndex(text);
  const a = Math.floor(next() * (text.length + 1));
  // Mostly small edits, sometimes a deletion across lines.
  const b = Math.min(text.length, a + (next() < 0.7 ? 0 : Math.floor(next() * 200)));
  // Never split a surrogate pair or a CRLF: editors do not either.
  const safe = (o: number) => (/[\uDC00-\uDFFF\n]/.test(text[o] ?? '') && /[\uD800-\uDBFF\r]/.test(text[o - 1] ?? '') ? o - 1 : o);
  const [start, end] = [safe(a), safe(b)];
  return { range: { start: lines.positionAt(start), end: lines.positionAt(end) }, text: SNIPPETS[Math.floor(next() * SNIPPETS.length)] };
}

const CASES: Array<[string, TextFormat]> = [
  ['notes.md', 'text'],
  ['report.txt', 'text'],
  ['analysis.py', 'text'],
  ['design.py', 'text'],
  ['reagents.md', 'text'],
  ['proteins.fasta', 'fasta'],
  ['library.csv', 'csv'],
  ['peptides.tsv', 'tsv'],
  ['mols.sdf', 'sdf'],
  ['ligands.smi', 'smi'],
];

for (const [file, format] of CASES) {
  test(`${file}: entities after each of 150 random edits equal a full rescan`, async () => {
    const judge = await loadSmilesJudge();
    const doc = new RecognizedDocument(readFileSync(join(DIR, file), 'utf8'), format, judge);
    assert.deepEqual(doc.entities, scanText(doc.text, format, judge));
    const next = rng(file.length * 7919);
    for (let i = 0; i < 150; i++) {
      const change = randomChange(doc.text, next);
      doc.applyChanges([change]);
      assert.deepEqual(doc.entities, scanText(doc.text, format, judge), `${file}: edit ${i} ${JSON.stringify(change)}`);
    }
  });
}

test('several changes in one event apply in order, as LSP incremental sync sends them', async () => {
  const judge = await loadSmilesJudge();
  const doc = new RecognizedDocument('a\nb\nc\n', 'text', judge);
  doc.applyChanges([
    { range: { start: { line: 0, character: 1 }, end: { line: 0, character: 1 } }, text: ' smiles = "CCO"' },
    { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 1 } }, text: 'c1ccccc1' },
  ]);
  assert.equal(doc.text, 'a smiles = "CCO"\nb\nc1ccccc1\n');
  assert.deepEqual(doc.entities.map((e) => `${e.text}@${e.range.start.line}:${e.range.start.character}`), ['CCO@0:12', 'c1ccccc1@2:0']);
});

test('an edit in a long file rescans a few lines and shifts the entities below it', async () => {
  const judge = await loadSmilesJudge();
  const block = 'Some notes about the assay.\nThe reference was CC(=O)Oc1ccccc1C(=O)O in DMSO.\n\n';
  const doc = new RecognizedDocument(block.repeat(2000), 'text', judge);
  assert.equal(doc.entities.length, 2000);
  doc.applyChanges([{ range: { start: { line: 3000, character: 0 }, end: { line: 3000, character: 0 } }, text: 'Added c1ccncc1 here.\nand one more line\n' }]);
  const [from, to] = doc.lastRescan;
  assert.ok(to - from <= 25, `rescanned lines ${from}..${to}`);
  assert.equal(doc.entities.length, 2001);
  // The last aspirin was on line 3 * 1999 + 1 = 5998; two lines were inserted above it.
  assert.equal(doc.entities[2000].range.start.line, 5998 + 2);
  assert.deepEqual(doc.entities, scanText(doc.text, 'text', judge));
});

test('renaming a table column far above its rows rescans the whole table', async () => {
  const judge = await loadSmilesJudge();
  // Three-atom SMILES: molecules in a smiles column, too short to stand alone in prose.
  const rows = Array.from({ length: 60 }, (_, i) => `| cpd${i} | CC${i % 2 ? 'O' : 'N'} |`);
  const doc = new RecognizedDocument(['| name | smiles |', '| --- | --- |', ...rows].join('\n'), 'text', judge);
  assert.equal(doc.entities.length, 60);
  doc.applyChanges([{ range: { start: { line: 0, character: 9 }, end: { line: 0, character: 15 } }, text: 'label' }]);
  assert.deepEqual(doc.entities, scanText(doc.text, 'text', judge));
  assert.equal(doc.entities.length, 0);
});
