import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, hoverMarkdown, svgDataUri } from '../../src/extension/hoverCard';

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
  assert.match(md, /\| \\<QED\\> \| 0\.612 \| qed \|/);
  assert.match(md, /\| \\<LogS\\> \| -2\.5 log mol\/L \| esol \|/);
  assert.match(md, /model stories260K\.gguf · device cuda/);
  assert.match(md, /\[Open in panel\]\(command:tagllm\.openPanel\?x\) · \[Wrap in domain tag\]\(command:tagllm\.wrapInDomainTag\?y\)/);
  // Predictions come before the picture: a short hover still shows them.
  assert.ok(md.indexOf('<QED>') < md.indexOf('<img'));
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

test('hover card: a text-output tag shows the words it wrote, escaped and shortened, beside numeric predictions', () => {
  const written = 'Aspirin | an *acetyl* ester of salicylic acid, sold since 1899 as a pain reliever and fever reducer';
  const md = hoverMarkdown({ kind: 'smiles', text: 'CC(=O)Oc1ccccc1C(=O)O' }, card, { predictions: [{ tag: '<QED>', value: 0.61234, bundle: 'qed' }, { tag: '<Name>', text: written, bundle: 'names' }], model: 'm', device: 'cpu' }, links);
  assert.match(md, /\| \\<QED\\> \| 0\.612 \| qed \|/);
  const row = md.split('\n').find((l) => l.startsWith('| \\<Name\\>'))!;
  assert.match(row, /^\| \\<Name\\> \| “Aspirin \\\| an \\\*acetyl\\\* ester of salicylic acid, sold since 1…” \| names \|$/);
});
