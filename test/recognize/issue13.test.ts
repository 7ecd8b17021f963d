// The documents scientists write (issue 13): sequences wrapped over lines in strings, fences,
// docstrings and cell outputs are one entity each; short peptides and short SMILES count where
// their context names them; the residue alphabet, table headers, colour names and tokenizer
// vocabularies do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSmilesJudge, scanNotebook, scanText, wrap, type Entity, type TextFormat } from '../../src/recognize/index';

async function scan(text: string, format: TextFormat = 'text'): Promise<Entity[]> {
  return scanText(text, format, await loadSmilesJudge());
}

function at(e: Entity): string {
  return `${e.kind} ${e.text} ${e.range.start.line}:${e.range.start.character}-${e.range.end.line}:${e.range.end.character}`;
}

// 217 residues, written here at widths 60, 70 and 80.
const SEQ =
  'MTTGMVGSVLVNVISTQGIENWLIDEQVYSEISIKMDTLSHVVAHFIQLLAGLIDVLSIHCNTATEKGGLDLVNVREEHGKTSNALKKYLVTTSTLCGKEGKQLNRSMICTVSRGGVGTSAIEADFLARVDGSAYGYPGVNDDACECLPQGCEWQESKERAHLMQLGTVLCGPARAKFVLAGKLPVATPPGFIIAELNYGFRVMRHQSKLPLLARRL';
const rows = (width: number) => SEQ.match(new RegExp(`.{1,${width}}`, 'g'))!;

test('a sequence wrapped in a triple-quoted string, a fence, a docstring or an output is one entity from its first residue to its last', async () => {
  const r60 = rows(60);
  const r70 = rows(70);
  const r80 = rows(80);
  const cases: Array<[string, string]> = [
    [`CONSTRUCT = """\n${r60.join('\n')}\n"""\n`, `protein ${SEQ} 1:0-4:${r60[3].length}`],
    [`CONSTRUCT = """${SEQ.slice(0, 45)}\n${SEQ.slice(45).match(/.{1,60}/g)!.join('\n')}"""\n`, `protein ${SEQ} 0:15-3:${(SEQ.length - 45) % 60 || 60}`],
    ['Construct:\n\n```text\n' + r80.join('\n') + '\n```\n', `protein ${SEQ} 3:0-5:${r80[2].length}`],
    [`def ref():\n    """The chain:\n\n    ${r70.join('\n    ')}\n    """\n`, `protein ${SEQ} 3:4-6:${4 + r70[3].length}`],
    [`>sp|P0|DEMO printed\n${r60.join('\n')}\n`, `protein ${SEQ} 1:0-4:${r60[3].length}`],
    [`seq = (\n    "${SEQ.slice(0, 100)}"\n    "${SEQ.slice(100)}"\n)\n`, `protein ${SEQ} 1:5-2:${5 + SEQ.length - 100}`],
    [`seq = "${SEQ.slice(0, 100)}" \\\n      "${SEQ.slice(100)}"\n`, `protein ${SEQ} 0:7-1:${7 + SEQ.length - 100}`],
    [`const seq = "${SEQ.slice(0, 100)}" +\n  "${SEQ.slice(100)}";\n`, `protein ${SEQ} 0:13-1:${3 + SEQ.length - 100}`],
    [`const construct = \`${SEQ.slice(0, 40)}\n${SEQ.slice(40).match(/.{1,60}/g)!.join('\n')}\`;\n`, `protein ${SEQ} 0:19-3:${(SEQ.length - 40) % 60 || 60}`],
    [`record = Seq("${SEQ.slice(0, 100)}"\n             "${SEQ.slice(100)}")\n`, `protein ${SEQ} 0:14-1:${14 + SEQ.length - 100}`],
  ];
  for (const [text, expected] of cases) assert.deepEqual((await scan(text)).map(at), [expected], text);
});

test('sequences listed one per line stay apart: lengths of their own, list items, widths no tool wraps at', async () => {
  const [a, b, c] = [SEQ.slice(0, 45), SEQ.slice(50, 102), SEQ.slice(110, 148)];
  const printed = `${a}\n${b}\n${c}\n`;
  assert.deepEqual((await scan(printed)).map((e) => e.text), [a, b, c]);
  const list = `designs = [\n    "${SEQ.slice(0, 60)}",\n    "${SEQ.slice(60, 100)}",\n]\n`;
  assert.deepEqual((await scan(list)).map((e) => e.text), [SEQ.slice(0, 60), SEQ.slice(60, 100)]);
  const constants = `WILD_TYPE = "${SEQ.slice(0, 40)}"\nMUTANT = "${SEQ.slice(40, 80)}"\n`;
  assert.deepEqual((await scan(constants)).map((e) => e.text), [SEQ.slice(0, 40), SEQ.slice(40, 80)]);
});

test('a notebook joins lines within a cell, never across cells, in sources and outputs alike', async () => {
  const r60 = rows(60);
  const raw = (lines: string[]) => ({ cell_type: 'raw', source: lines.map((l) => l + '\n') });
  const printed = { cell_type: 'code', source: 'print(textwrap.fill(seq, 60))\n', outputs: [{ output_type: 'stream', text: r60.map((l) => l + '\n') }] };
  const nb = JSON.stringify({ nbformat: 4, cells: [raw(r60.slice(0, 2)), raw(r60.slice(2)), printed] });
  const found = scanNotebook(nb, await loadSmilesJudge()).entities;
  assert.deepEqual(
    found.map((e) => `${e.cell}${e.inOutput ? '/out' : ''} ${at(e)}`),
    [`0 protein ${r60[0] + r60[1]} 0:0-1:60`, `1 protein ${r60[2] + r60[3]} 0:0-1:${r60[3].length}`, `2/out protein ${SEQ} 0:0-3:${r60[3].length}`],
  );
});

test('wrapping a wrapped sequence inserts its tag before the first residue; the tagged text is the whole sequence', async () => {
  const text = `CONSTRUCT = """\n${rows(60).join('\n')}\n"""\n`;
  const [entity] = await scan(text);
  const wrapped = wrap(entity);
  assert.equal(wrapped.taggedText, `<Protein> ${SEQ}`);
  assert.deepEqual(wrapped.edit, { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, newText: '<Protein> ' });
});

test('short peptides (8 to 20 residues) named by their context: prose, Python lists, tables and printed frames', async () => {
  const text = [
    'The substrate peptide KRTLRRLSAW was phosphorylated; the motif RRASVAGLP was not.',
    'epitopes = ["ELAGIGILTV", "KLVALGINAV", "FLPSDFFPSV"]',
    '',
    '| epitope | HLA |',
    '| --- | --- |',
    '| SIINFEKL | H-2Kb |',
    '',
    '        peptide  kcat_km',
    '0     LRRASLGKY     1.20',
    '1    KKRNRTLSVA     0.35',
    '2  PLSRTLSVAAKK     0.08',
    '',
    'motif = "RKRSRAE"  # seven residues',
    '',
    'We measured KRTLRRLSAW at 2 µM.',
  ].join('\n');
  assert.deepEqual((await scan(text)).map((e) => `${e.text} ${e.range.start.line}`), [
    'KRTLRRLSAW 0',
    'RRASVAGLP 0',
    'ELAGIGILTV 1',
    'KLVALGINAV 1',
    'FLPSDFFPSV 1',
    'SIINFEKL 5',
    'LRRASLGKY 8',
    'KKRNRTLSVA 9',
    'PLSRTLSVAAKK 10',
  ]);
});

test('short SMILES that a table, a list or a sentence names as molecules', async () => {
  const text = [
    '| `CCOc1ccccc1` | ethyl phenyl ether |',
    '- 1-chloropropane: CCCCl',
    'The simplest case is n-butane (CCCC).',
    '',
    '| id | structure |',
    '| --- | --- |',
    '| 1 | CCO |',
    '| 2 | `CC=O` |',
    '',
    '| # | | score |',
    '| --- | --- | --- |',
    '| 1 | c1ccc2[nH]ccc2c1 | -9.1 |',
    '| 2 | CCS | -5.2 |',
    '',
    'Solvents screened:',
    '- CCO',
    '- CC(C)=O',
    '',
    'CCCC (n-butane) and the solvents CCN and CC#N.',
    '**Ethanethiol**: `CCS`, and `CCCO` (**propanol**).',
    'CCCCC = n-pentane',
  ].join('\n');
  assert.deepEqual((await scan(text)).map((e) => `${e.text} ${e.range.start.line}:${e.range.start.character}`), [
    'CCOc1ccccc1 0:3',
    'CCCCl 1:19',
    'CCCC 2:31',
    'CCO 6:6',
    'CC=O 7:7',
    'c1ccc2[nH]ccc2c1 11:6',
    'CCS 12:6',
    'CCO 15:2',
    'CC(C)=O 16:2',
    'CCCC 18:0',
    'CCN 18:33',
    'CC#N 18:41',
    'CCS 19:18',
    'CCCO 19:29',
    'CCCCC 20:0',
  ]);
  // Without a name, a list or a column, short ones stay words and acronyms.
  assert.deepEqual(await scan('The central nervous system (CNS), the CCN grant and CCCC in the log.\n- NO\n- CO\n'), []);
});

test('the residue alphabet, header words, colour names and tokenizer vocabularies are no entities', async () => {
  const negatives: Array<[string, TextFormat]> = [
    ['AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"\nORDER = "ARNDCQEGHILKMFPSTWYV"\n', 'text'],
    ['VALID = re.compile(r"^[ACDEFGHIKLMNPQRSTVWY]+$")  # amino acid sequences only\n', 'text'],
    ['The twenty amino acids, ARNDCQEGHILKMFPSTWYV in the order of their names, and ACDEFGHIKLMNPQRSTVWYX with the unknown.\n', 'text'],
    ['HEADER_COLOR = "CCCCCC"\nCCCCCC = 0.25\nconst CCCCCC = 6;\npalette = {"grid": "CCCCCC"}\n', 'text'],
    ['vocab = {"[N+]": 5, "[O-]": 6, "[nH]": 7, "[C@@H]": 9}\nspecial = ["[N+]", "[O-]", "[NH3+]"]\n[N+]\t5\n[O-]\t6\n', 'text'],
    [['[PAD]', '[CLS]', 'C', 'c', '(', ')', 'Cl', 'Br', '[N+]', '[O-]', '[nH]', '[C@@H]', '[NH3+]', '[Na+]'].join('\n') + '\n', 'text'],
  ];
  for (const [text, format] of negatives) assert.deepEqual((await scan(text, format)).map(at), [], text);
  // A translation column (GenBank, UniProt) names its sequences; its header is no protein.
  const tsv = `locus_tag\tproduct\ttranslation\nb0001\tleader peptide\t${SEQ.slice(0, 40)}\nb0002\tkinase\t${SEQ.slice(40, 120)}\n`;
  assert.deepEqual((await scan(tsv, 'tsv')).map((e) => `${e.text} ${e.range.start.line}`), [`${SEQ.slice(0, 40)} 1`, `${SEQ.slice(40, 120)} 2`]);
  const unnamed = `id\tname\n1\t${SEQ.slice(0, 40)}\n2\t${SEQ.slice(40, 90)}\n3\t${SEQ.slice(90, 140)}\n4\t${SEQ.slice(140, 200)}\n`;
  assert.deepEqual((await scan(unnamed.replace('name', 'translation_notes'), 'tsv')).length, 4);
  // With no header at all, a first row of sequences (in lower case too) is data.
  const headless = [0, 50, 100, 150].map((i, k) => `P${k}\t${SEQ.slice(i, i + 50).toLowerCase()}\n`).join('');
  assert.deepEqual((await scan(headless, 'tsv')).map((e) => e.range.start.line), [0, 1, 2, 3]);
  // Words in a sequence column are no sequences; sequences in lower case are.
  const words = 'id,sequence\n1,MKTAYIAKQRQISF\n2,unknown\n3,missing\n4,mktayiakqrqisfvk\n5,none\n';
  assert.deepEqual((await scan(words, 'csv')).map((e) => e.text), ['MKTAYIAKQRQISF', 'mktayiakqrqisfvk']);
  // With a cue or an assignment, one bracket atom is still a molecule.
  assert.deepEqual((await scan('ion = "[Na+]"\nSMILES: [NH4+]\n')).map((e) => e.text), ['[Na+]', '[NH4+]']);
});
