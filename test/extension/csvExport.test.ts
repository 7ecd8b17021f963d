import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsToCsv } from '../../src/extension/csvExport';
import type { EntityRow } from '../../src/extension/panelMessages';

const row = (over: Partial<EntityRow>): EntityRow => ({ id: 'x', kind: 'smiles', text: 'CCO', uri: 'file:///a.py', line: 0, character: 0, where: 'a.py:1', descriptors: [], predictions: [], ...over });

test('CSV export: a column per descriptor and per tag, blanks where a row has none, quoting where needed', () => {
  const csv = rowsToCsv([
    row({ text: 'CC(=O)O', descriptors: [{ name: 'MW', value: 60.05 }], predictions: [{ tag: '<QED>', value: 0.4, bundle: 'qed' }] }),
    row({ kind: 'protein', text: 'MKV,"odd"', where: 'cell 2:1', descriptors: [{ name: 'Length', value: 9 }], predictions: [] }),
  ]);
  assert.equal(csv, 'kind,text,where,MW,Length,<QED>\nsmiles,CC(=O)O,a.py:1,60.05,,0.4\nprotein,"MKV,""odd""",cell 2:1,,9,\n');
});

test('CSV export: a format-3 tag adds its percentile among approved drugs, nearest similarity and flags', () => {
  const csv = rowsToCsv([
    row({ text: 'CCO', predictions: [{ tag: '<ESOL>', value: -0.5, bundle: 'default', percentile: 88.5, similarity: 0.7, flags: [] }, { tag: '<QED>', value: 0.4, bundle: 'old' }] }),
    row({ text: 'CCCCCCCCCCCCCCCC', predictions: [{ tag: '<ESOL>', value: -9.1, bundle: 'default', percentile: 0, similarity: 0.2, flags: ['outside-domain', 'outside-training-range'] }] }),
  ]);
  assert.equal(
    csv,
    'kind,text,where,<ESOL>,<ESOL> percentile,<ESOL> similarity,<ESOL> flags,<QED>\n' +
      'smiles,CCO,a.py:1,-0.5,88.5,0.7,,0.4\n' +
      'smiles,CCCCCCCCCCCCCCCC,a.py:1,-9.1,0,0.2,outside-domain;outside-training-range,\n',
  );
});

test('CSV export: a text-output tag\'s words fill its column, quoted when they hold commas or quotes', () => {
  const csv = rowsToCsv([
    row({ predictions: [{ tag: '<QED>', value: 0.4, bundle: 'qed' }, { tag: '<Name>', text: 'ethanol, "spirit"', bundle: 'names' }] }),
    row({ text: 'CO', predictions: [{ tag: '<Name>', text: 'methanol', bundle: 'names' }] }),
  ]);
  assert.equal(csv, 'kind,text,where,<QED>,<Name>\nsmiles,CCO,a.py:1,0.4,"ethanol, ""spirit"""\nsmiles,CO,a.py:1,,methanol\n');
});
