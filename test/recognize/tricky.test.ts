// Single hard cases: SMILES features and the places they are written, short peptides in
// prose, a long wrapped FASTA record, positions after emoji and with CRLF or CR line ends,
// notebooks, and the negatives a scanner must never report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSmilesJudge, scanNotebook, scanText, wrap, type Entity, type TextFormat } from '../../src/recognize/index';
import { NAMED_TEMPLATES } from '../../src/runtime/tags/template';

async function scan(text: string, format: TextFormat = 'text'): Promise<Entity[]> {
  return scanText(text, format, await loadSmilesJudge());
}

function at(e: Entity): string {
  return `${e.kind} ${e.text} ${e.range.start.line}:${e.range.start.character}-${e.range.end.line}:${e.range.end.character}`;
}

test('stereo, charges, isotopes, %10 ring closures and salts are found whole', async () => {
  const cases = [
    'N[C@@H](C)C(=O)O',
    'C[C@H](N)C(=O)O',
    'F/C=C/F',
    'F/C=C\\F',
    'C[N+](C)(C)C',
    '[O-]C(=O)C',
    '[13CH3]O',
    '[2H]C([2H])([2H])O',
    'C%10CCCC%11CC%10CCCC%11',
    '[Na+].[Cl-]',
    'CC(=O)[O-].[K+]',
    'Cl[Pt](Cl)([NH3])[NH3]',
  ];
  for (const s of cases) {
    const found = await scan(`mol = Chem.MolFromSmiles("${s}")\n`);
    assert.deepEqual(found.map(at), [`smiles ${s} 0:26-0:${26 + s.length}`], s);
  }
});

test('SMILES in quotes, f-strings, backticks, parentheses and at line ends', async () => {
  const aspirin = 'CC(=O)Oc1ccccc1C(=O)O';
  const places = [
    `x = '${aspirin}'`,
    `x = "${aspirin}"`,
    `print(f"{name}: ${aspirin} ({mw:.1f})")`,
    `Use \`${aspirin}\` here.`,
    `Aspirin (${aspirin}).`,
    `the SMILES is ${aspirin}`,
    `the SMILES is ${aspirin}.`,
    `--smiles=${aspirin}`,
    `**${aspirin}**`,
  ];
  for (const line of places) {
    for (const end of ['', '\n', '\r\n']) {
      const found = await scan(line + end);
      const character = line.indexOf(aspirin);
      assert.deepEqual(found.map(at), [`smiles ${aspirin} 0:${character}-0:${character + aspirin.length}`], JSON.stringify(line + end));
    }
  }
});

test('words, acronyms, formulas, identifiers and other look-alikes are not SMILES', async () => {
  const negatives = [
    'CC: the CO said NO to OC and COCO.',
    'The SCN meeting is at 3 pm; ICON, BOSS, SOS, CNN and BBC covered it.',
    'Glucose is C6H12O6, salt is NaCl, and CO2, NO2, H2O, CH4, SF6 are gases.',
    'InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3 (key LFQSCWFLJHTTHZ-UHFFFAOYSA-N)',
    'run 3f2b8c1e-9a4d-4e6f-8b2a-7c1d0e5f9a3b, sha1 9c1185a5c5e9fc54612808977ee8f548b2258d31',
    'blob Q0NPYzFjY2NjYzFDKD1PKU8gaXMgbm90IGEgbW9sZWN1bGU= and https://example.org/c1ccccc1/CCO',
    're.compile(r"[A-Z][a-z]?\\d*|C=O|N#N") and /^C+O?$/.test(s)',
    '!function(e){var CC=1,CO=e.NO?OC:"C";return e&&e.c(n)}(this);',
    'The C=O stretch, the C-H bond, O(N) time, I/O and S/N, CC/CO review.',
    'PLEASE NOTE: ALL SHIPMENTS OF NO AND CO CYLINDERS ARE ON HOLD.',
    '2-methylpropan-1-ol, N,N-dimethylformamide, (S)-ibuprofen and 1H-indole.',
    'footnotes [C] and [I], roman II and III, elements C, N, O and S.',
  ];
  for (const line of negatives) assert.deepEqual((await scan(line + '\n')).map(at), [], line);
});

test('peptides of 8 to 20 residues in prose are found next to a cue, DNA and RNA never', async () => {
  const peptides = ['DRVYIHPF', 'CYIQNCPLG', 'GIGKFLHSAKKF', 'KLAKLAKKLAKLAK', 'GLFDIIKKIAESF', 'RRWQWRMKKLGAPSITCVRRAF'.slice(0, 20)];
  for (const p of peptides) {
    const line = `The synthetic peptide ${p} was tested at 2 µM.`;
    assert.deepEqual((await scan(line)).map(at), [`protein ${p} 0:22-0:${22 + p.length}`], p);
    // Without a cue, a run this short could be a word: nothing is reported.
    assert.deepEqual(await scan(`We tested ${p} at 2 µM.`), [], p);
  }
  const nucleotides = ['ATGGCTAGCTTGACCGGTAA', 'GGNTAYGARGGNCARAA', 'AUGGCUAGCUUGACCGGUAAUGA', 'ATGAGTAAAGGAGAAGAACTTTTCACTGGAGTTGTCCCAATTCTTG'];
  for (const n of nucleotides) assert.deepEqual(await scan(`The primer sequence ${n} amplified the protein gene.`), [], n);
  for (const w of ['PEPTIDES', 'STRENGTHS', 'CHANNELS', 'DEFINITELY', 'METHYLANILINE']) {
    assert.deepEqual(await scan(`The protein sequence ${w} is shown.`), [], w);
  }
});

test('a 2,500-residue FASTA record wrapped at 60 is one entity spanning all its lines', async () => {
  let state = 12345;
  const residues = 'ACDEFGHIKLMNPQRSTVWY';
  const seq = Array.from({ length: 2500 }, () => residues[(state = (state * 1103515245 + 12345) % 2 ** 31) % 20]).join('');
  const lines = seq.match(/.{1,60}/g)!;
  const text = `>sp|TEST|LONG a long one\n${lines.join('\n')}\n>next\nMKTAYIAKQR\n`;
  for (const format of ['fasta', 'text'] as const) {
    const found = await scan(text, format);
    assert.equal(found[0].text, seq);
    assert.deepEqual(found[0].range, { start: { line: 1, character: 0 }, end: { line: lines.length, character: lines[lines.length - 1].length } });
    assert.deepEqual(found.slice(1).map(at), ['protein MKTAYIAKQR 44:0-44:10'], format);
  }
});

test('positions count UTF-16 code units after emoji, and CRLF or CR never shifts a line', async () => {
  // 🧪 and 🧬 are two UTF-16 units each: "🧪🧬 SMILES: `" is 2+2+1+7+1+1 = 14 units.
  const crlf = '🧪🧬 SMILES: `CCO` done\r\nnext 😀 c1ccccc1\r\n\r\n😀😀 [Na+].[Cl-]';
  const expected = ['smiles CCO 0:14-0:17', 'smiles c1ccccc1 1:8-1:16', 'smiles [Na+].[Cl-] 3:5-3:16'];
  assert.deepEqual((await scan(crlf)).map(at), expected);
  assert.deepEqual((await scan(crlf.replace(/\r\n/g, '\n'))).map(at), expected);
  assert.deepEqual((await scan(crlf.replace(/\r\n/g, '\r'))).map(at), expected);
  const csv = 'name,smiles\r\n☕ caffeine,Cn1cnc2c1c(=O)n(C)c(=O)n2C\r\n';
  assert.deepEqual((await scan(csv, 'csv')).map(at), ['smiles Cn1cnc2c1c(=O)n(C)c(=O)n2C 1:11-1:37']);
});

test('notebook cells as a string or a list of lines give the same entities, with cell and output', async () => {
  const judge = await loadSmilesJudge();
  const source = 'smiles = "CCO"\nprint(smiles, "c1ccccc1")\n';
  const cell = (src: string | string[]) => ({ cell_type: 'code', source: src, outputs: [{ output_type: 'stream', text: ['x\n', 'CCO c1ccccc1\n'] }] });
  const asString = scanNotebook(JSON.stringify({ nbformat: 4, cells: [{ cell_type: 'markdown', source: 'no molecules' }, cell(source)] }), judge);
  const asLines = scanNotebook(JSON.stringify({ nbformat: 4, cells: [{ cell_type: 'markdown', source: ['no molecules'] }, cell(source.split(/(?<=\n)/))] }), judge);
  assert.deepEqual(asString, asLines);
  assert.deepEqual(
    asString.entities.map((e) => `${e.cell}${e.inOutput ? `/out${e.output}` : ''} ${at(e)}`),
    ['1 smiles CCO 0:10-0:13', '1 smiles c1ccccc1 1:15-1:23', '1/out0 smiles c1ccccc1 1:4-1:12'],
  );
});

test('wrap gives the runtime template form and an edit that produces it', async () => {
  const text = 'x = "CC(=O)Oc1ccccc1C(=O)O"\n>seq\nMKTAYIAKQRQISFVKSHFS\nRQLEERLGLIEVQAPILSRV\n';
  const [smiles, protein] = await scan(text);
  const smilesTemplate = NAMED_TEMPLATES['smiles-domain'].text;
  const proteinTemplate = NAMED_TEMPLATES['protein-domain'].text;
  assert.equal(wrap(smiles).taggedText, smilesTemplate.replace('{text}', smiles.text));
  assert.equal(wrap(protein).taggedText, proteinTemplate.replace('{text}', protein.text));
  assert.equal(wrap(smiles).tag, '<SMILES>');
  // Applying the edit to the document puts the tag right before the entity, nothing else changes.
  const lines = text.split('\n');
  for (const e of [smiles, protein]) {
    const { range, newText } = wrap(e).edit;
    assert.deepEqual(range.start, range.end);
    const line = lines[range.start.line];
    const edited = line.slice(0, range.start.character) + newText + line.slice(range.start.character);
    assert.ok(edited.includes(newText + e.text.slice(0, 20)), edited);
  }
});

test('markdown tables: a smiles or sequence column is read cell by cell, other tables as prose', async () => {
  const text = [
    'Results:',
    '',
    '| name | SMILES | peptide sequence | note |',
    '| :--- | --- | --- | --- |',
    '| methane | C | YGGFL | CC and CO |',
    '| ethanol | CCO | CYIQNCPLG | NO |',
    '| broken | C1CC | ACGTACGT | |',
    '',
    '| CC | CO |',
    '| --- | --- |',
    '| NO | OC |',
  ].join('\n');
  assert.deepEqual((await scan(text)).map(at), [
    'smiles C 4:12-4:13',
    'protein YGGFL 4:16-4:21',
    'smiles CCO 5:12-5:15',
    'protein CYIQNCPLG 5:18-5:27',
  ]);
});

test('a printed data frame: values right- or left-aligned under a smiles header are molecules', async () => {
  const text = [
    '  compound_id  smiles      name',
    '0    CPD-0001     CCO   ethanol',
    '1    CPD-0002      CC    ethane',
    '2    CPD-0003  C=CC#N  acrylonitrile',
    '',
    'x = 1  # CC and CCO again, no header above',
  ].join('\n');
  assert.deepEqual((await scan(text)).map(at), ['smiles CCO 1:18-1:21', 'smiles CC 2:19-2:21', 'smiles C=CC#N 3:15-3:21']);
});

test('wildcard-only strings (regular expressions such as [*].*) and CSS colours are not molecules', async () => {
  for (const line of ['pattern = r"[*].*"', "tokens = r'[*@]'", 'color: #CCCCCC; border: 1px solid #CCC;', 'h1 { color: #CCCCCC }']) {
    assert.deepEqual((await scan(line + '\n')).map(at), [], line);
  }
  assert.deepEqual((await scan('smiles = "*CC(C)*"\n')).map(at), ['smiles *CC(C)* 0:10-0:17']);
});

test('an escaped backslash in a source string is unescaped in the entity, its range stays on the source', async () => {
  const line = 'cis = "C/C=C\\\\C"  # cis-2-butene';
  assert.deepEqual((await scan(line)).map(at), ['smiles C/C=C\\C 0:7-0:15']);
});

test('a list opened on a cue line: each item below it has the cue', async () => {
  const text = ['peptides = [', '    "GIGKFLHSAKKF",', '    "DRVYIHPF",  # angiotensin II', ']', 'smiles = [', "    'CCO',", "    'CC',", ']', 'tags = [', '    "CO",', '    "GIGKFLHSAKKF",', ']'].join('\n');
  assert.deepEqual((await scan(text)).map(at), ['protein GIGKFLHSAKKF 1:5-1:17', 'protein DRVYIHPF 2:5-2:13', 'smiles CCO 5:5-5:8', 'smiles CC 6:5-6:7']);
});

test('code shapes found in real code bases: indexed types, HTML tag names far from a cue', async () => {
  const typeScript = 'type Pick2<T, K extends keyof T> = { [P in K]: T[P] }; type V = P[K] | O[N];';
  assert.deepEqual((await scan(typeScript)).map(at), []);
  const minified = `var t={sequence:1};${'x'.repeat(200)};e.tagName==="FIELDSET"||e.tagName==="TEXTAREA"`;
  assert.deepEqual((await scan(minified)).map(at), []);
  // Metals in brackets still count when the molecule has more to it.
  assert.deepEqual((await scan('cisplatin is Cl[Pt]Cl here')).map(at), ['smiles Cl[Pt]Cl 0:13-0:21']);
});

test('SMILES that look like hex digests or base64 (letters, digits, no punctuation) are not masked', async () => {
  for (const s of ['FC1CCC2CCCCC2CC1CCF', 'Fc1ccccc1CNc2ccc3ccccc3n2', 'CC1CCC2CCCCC2CC1C3CCCCC3']) {
    assert.deepEqual((await scan(`x = "${s}"\n`)).map((e) => e.text), [s], s);
  }
});
