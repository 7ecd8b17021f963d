import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, hoverMarkdown, svgDataUri } from '../../src/extension/hoverCard';
import { domainText, ordinal, percentileText } from '../../src/extension/trustText';

const links = { openInPanel: 'command:tagllm.openPanel?x', wrapInDomainTag: 'command:tagllm.wrapInDomainTag?y' };
const card = {
  svg: "<svg xmlns='http://www.w3.org/2000/svg'><rect width='10' height='10'/></svg>",
  descriptors: [
    { name: 'MW', value: 180.15894, unit: 'g/mol' },
    { name: 'QED', value: 0.5501 },
  ],
};

test('hover card: structure as a base64 data: URI, descriptors, predictions with bundle, model and device', () => {
  const md = hoverMarkdown({ kind: 'smiles', text: 'CC(=O)Oc1ccccc1C(=O)O' }, card, { predictions: [{ tag: '<QED>', value: 0.61234, bundle: 'qed' }, { tag: '<LogS>', value: -2.5, unit: 'log mol/L', bundle: 'esol' }], model: 'stories260K.gguf', device: 'cuda' }, links);
  const src = md.match(/<img src="([^"]+)"/)![1];
  assert.equal(src, svgDataUri(card.svg));
  assert.equal(Buffer.from(src.split(',')[1], 'base64').toString('utf8'), card.svg);
  assert.match(md, /MW \*\*180\.2\*\* g\/mol · QED \*\*0\.55\*\*/);
  // a format-2 bundle's prediction: no percentile, no domain, no evidence line
  assert.match(md, /\| \\<QED\\> \| 0\.612 \| – \| – \| qed \|/);
  assert.match(md, /\| \\<LogS\\> \| -2\.5 log mol\/L \| – \| – \| esol \|/);
  assert.doesNotMatch(md, /RMSE|ROC-AUC/);
  assert.match(md, /model stories260K\.gguf · device cuda/);
  assert.match(md, /\[Open in panel\]\(command:tagllm\.openPanel\?x\) · \[Wrap in domain tag\]\(command:tagllm\.wrapInDomainTag\?y\)/);
  // The exact descriptors, then the predictions, then the picture: a short hover still shows both.
  assert.ok(md.indexOf('MW **') < md.indexOf('\\<QED\\>') && md.indexOf('\\<QED\\>') < md.indexOf('<img'));
});

test('hover card: pending and failed predictions say so, and a protein shows its composition', () => {
  const protein = { descriptors: [{ name: 'Length', value: 4, unit: 'aa' }], composition: [['A', 2], ['K', 1], ['W', 1]] as Array<[string, number]> };
  const pending = hoverMarkdown({ kind: 'protein', text: 'AAKW' }, protein, 'pending', links);
  assert.match(pending, /computing/);
  assert.match(pending, /Composition: A 50\.0% · K 25\.0% · W 25\.0%/);
  assert.doesNotMatch(pending, /<img/);
  const failed = hoverMarkdown({ kind: 'protein', text: 'AAKW' }, protein, new Error('no model is set'), links);
  assert.match(failed, /unavailable: no model is set/);
});

test('formatNumber keeps 3 decimals, 1 above 100, and exponents for the very large and small', () => {
  assert.equal(formatNumber(0.55012), '0.55');
  assert.equal(formatNumber(180.159), '180.2');
  assert.equal(formatNumber(2e-5), '2.000e-5');
  assert.equal(formatNumber(123456), '1.235e+5');
  assert.equal(formatNumber(Number.NaN), 'NaN');
});

test('hover card: each value with its percentile among approved drugs, its domain flag and its evidence', () => {
  const predictions = [
    { tag: '<ESOL>', value: -3.214, unit: 'log mol/L', bundle: 'default', task: 'regression' as const, evidence: 'RMSE 1.13 · fingerprints 1.43 · mean 2.10 (ESOL, n = 113)', percentile: 70.6, similarity: 0.62, flags: [] },
    { tag: '<BBBP>', value: 0.912, unit: 'probability', bundle: 'default', task: 'classification' as const, evidence: 'ROC-AUC 0.812 · fingerprints 0.880 · majority class 0.500 (BBBP, n = 205)', percentile: 2.2, similarity: 0.18, flags: ['outside-domain'] },
    { tag: '<QED>', value: -0.4, bundle: 'default', flags: ['outside-training-range', 'outside-bounds'] },
  ];
  const md = hoverMarkdown({ kind: 'smiles', text: 'CCCCCCCCCCCCCCCC' }, card, { predictions, model: 'stories260K.gguf', device: 'cpu' }, links);
  assert.match(md, /\| \\<ESOL\\> \| -3\.214 log mol\/L \| 71st percentile \| ✓ similarity 0\.62 \| default \|/);
  assert.match(md, /\| \\<BBBP\\> \| 0\.912 probability \| 2nd percentile \| ⚠ outside training domain \\\(similarity 0\.18\\\) \|/);
  assert.match(md, /\| \\<QED\\> \| -0\.4 \| – \| ⚠ outside training labels’ range, impossible value \|/);
  assert.match(md, /\\<ESOL\\> RMSE 1\.13 · fingerprints 1\.43 · mean 2\.10 \\\(ESOL, n = 113\\\)/);
  assert.match(md, /\\<BBBP\\> ROC-AUC 0\.812 · fingerprints 0\.880 · majority class 0\.500 \\\(BBBP, n = 205\\\)/);
});

test('percentile ordinals and the domain column read as English', () => {
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 22, 100, 111].map(ordinal), ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '100th', '111th']);
  assert.equal(percentileText({ tag: '<X>', value: 1, bundle: 'b', percentile: 99.6 }), '100th percentile');
  assert.equal(percentileText({ tag: '<X>', value: 1, bundle: 'b' }), undefined);
  assert.equal(domainText({ tag: '<X>', value: 1, bundle: 'b', flags: [] }), undefined);
  assert.equal(domainText({ tag: '<X>', value: 1, bundle: 'b', flags: ['outside-bounds'] }), '⚠ impossible value');
});

test('hover card: a text-output tag shows the words it wrote, escaped and shortened, beside numeric predictions', () => {
  const written = 'Aspirin | an *acetyl* ester of salicylic acid, sold since 1899 as a pain reliever and fever reducer';
  const md = hoverMarkdown({ kind: 'smiles', text: 'CC(=O)Oc1ccccc1C(=O)O' }, card, { predictions: [{ tag: '<QED>', value: 0.61234, bundle: 'qed' }, { tag: '<Name>', text: written, bundle: 'names' }], model: 'm', device: 'cpu' }, links);
  assert.match(md, /\| \\<QED\\> \| 0\.612 \| – \| – \| qed \|/);
  const row = md.split('\n').find((l) => l.startsWith('| \\<Name\\>'))!;
  assert.match(row, /^\| \\<Name\\> \| “Aspirin \\\| an \\\*acetyl\\\* ester of salicylic acid, sold since 1…” \| – \| – \| names \|$/);
});
