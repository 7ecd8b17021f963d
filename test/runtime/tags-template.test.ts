import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';
import { parseTagName, type TagName, type TagValue } from '../../src/runtime/tags/name';
import { fillTemplate, parseTemplate, resolveTemplate, NAMED_TEMPLATES } from '../../src/runtime/tags/template';
import { batchInputs, expandInput, type ExpansionContext } from '../../src/runtime/tags/expand';
import { UsageError } from '../../src/runtime/errors';
import { floatTensor } from '../../src/runtime/model/tensor';

const tag = (s: string) => parseTagName(s);

function randomValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

test('tag names are <Name> and nothing else', () => {
  assert.equal(parseTagName('<SMILES>'), '<SMILES>');
  assert.equal(parseTagName('<pIC50>'), '<pIC50>');
  for (const bad of ['SMILES', '<>', '<1abc>', '<a b>', '<<QED>>', '<QED']) assert.throws(() => parseTagName(bad), UsageError, bad);
});

test('templates split into text, tags and slots', () => {
  const t = parseTemplate('Input: <SMILES> {smiles}. Output: <QED>');
  assert.deepEqual(t.tags, ['<SMILES>', '<QED>']);
  assert.deepEqual(t.slots, ['smiles']);
  assert.deepEqual(
    t.segments.map((s) => s.kind),
    ['text', 'tag', 'text', 'slot', 'text', 'tag'],
  );
  assert.throws(() => parseTemplate('no tags {smiles}'), /no tag placeholder/);
});

test('filling drops whitespace at tags, keeps inputs as text, and names missing slots', () => {
  const t = parseTemplate('Input: The SMILES is <SMILES> {smiles}. Output: <QED>');
  assert.deepEqual(fillTemplate(t, { smiles: 'C<O>C' }), [
    { kind: 'text', text: 'Input: The SMILES is' },
    { kind: 'tag', tag: '<SMILES>' },
    { kind: 'text', text: 'C<O>C. Output:' },
    { kind: 'tag', tag: '<QED>' },
  ]);
  assert.throws(() => fillTemplate(t, { seq: 'MKV' }), /needs \{smiles\}; got \{seq\}/);
});

test('named templates instantiate with the paper defaults or a given function tag', () => {
  const qed = resolveTemplate('molecule-property');
  assert.equal(qed.text, 'Input: The SMILES of the molecule is <SMILES> {smiles}. Output: the quantitative estimate of druglikeness score is <QED>');
  const logp = resolveTemplate('molecule-property', { tag: tag('<LogP>'), description: 'octanol-water partition coefficient' });
  assert.deepEqual(logp.tags, ['<SMILES>', '<LogP>']);
  assert.deepEqual(resolveTemplate('binding-affinity').slots, ['seq', 'smiles']);
  assert.deepEqual(resolveTemplate('drug-synergy').tags, ['<SMILES>', '<DC>']);
  assert.deepEqual(resolveTemplate('smiles-domain').slots, ['text']);
  assert.deepEqual(resolveTemplate('protein-property').tags, ['<Protein>', '<Descriptor>']);
  assert.throws(() => resolveTemplate('no-such-template'), /unknown template "no-such-template"; use one of/);
  assert.ok(Object.keys(NAMED_TEMPLATES).length >= 6);
});

function bpeContext(p: number): { context: ExpansionContext; tokenizer: Tokenizer; values: Map<TagName, TagValue> } {
  const json = JSON.parse(readFileSync(dataPath('models/tiny-bpe-llama-hf/tokenizer.json'), 'utf8'));
  const tokenizer = new Tokenizer(json, { bos: 0, eos: 0, addBos: true });
  const hidden = 8;
  const embedding = { shape: [1024, hidden], data: randomValues(1024 * hidden, 1) };
  const values = new Map<TagName, TagValue>([
    [tag('<SMILES>'), { p, hiddenSize: hidden, data: randomValues(p * hidden, 2) }],
    [tag('<QED>'), { p, hiddenSize: hidden, data: randomValues(p * hidden, 3) }],
  ]);
  const context: ExpansionContext = {
    embedding,
    encodeText: (text) => tokenizer.encode(text, { addBos: false }),
    bos: 0,
    tagValue: (name) => values.get(name) ?? assert.fail(`no ${name}`),
  };
  return { context, tokenizer, values };
}

test('expansion: token ids around tags are the tokenizer ids of each text run; spans and read position', () => {
  const p = 3;
  const { context, tokenizer, values } = bpeContext(p);
  const template = resolveTemplate('molecule-property');
  const x = expandInput(template, { smiles: 'CC(=O)Oc1ccccc1C(=O)O' }, context);
  const before = tokenizer.encode('Input: The SMILES of the molecule is', { addBos: false });
  const after = tokenizer.encode('CC(=O)Oc1ccccc1C(=O)O. Output: the quantitative estimate of druglikeness score is', { addBos: false });
  const expected = [0, ...before, ...Array(p).fill(-1), ...after, ...Array(p).fill(-1)];
  assert.deepEqual([...x.tokenIds], expected);
  assert.deepEqual(x.tagSpans, [
    { tag: '<SMILES>', start: 1 + before.length, length: p },
    { tag: '<QED>', start: 1 + before.length + p + after.length, length: p },
  ]);
  assert.deepEqual(x.readSpan, { start: expected.length - p, length: p });
  const H = x.hiddenSize;
  // Each position holds its token's embedding row, or the tag's vectors in order.
  expected.forEach((id, pos) => {
    const row = x.inputsEmbeds.subarray(pos * H, (pos + 1) * H);
    if (id >= 0) assert.deepEqual(row, floatTensor(context.embedding).data.subarray(id * H, (id + 1) * H));
  });
  for (const span of x.tagSpans) {
    assert.deepEqual(x.inputsEmbeds.subarray(span.start * H, (span.start + p) * H), values.get(span.tag)!.data);
  }
});

test('batching pads on the right; every row equals its single-row expansion', () => {
  const { context } = bpeContext(2);
  const template = resolveTemplate('molecule-property');
  const singles = ['CCO', 'c1ccccc1CCN(C)C(=O)OCC', 'O'].map((smiles) => expandInput(template, { smiles }, context));
  const batch = batchInputs(singles);
  const T = Math.max(...singles.map((s) => s.seqLength));
  const H = batch.hiddenSize;
  assert.equal(batch.seqLength, T);
  singles.forEach((s, b) => {
    assert.deepEqual(batch.inputsEmbeds.subarray(b * T * H, b * T * H + s.seqLength * H), s.inputsEmbeds);
    assert.ok(batch.inputsEmbeds.subarray(b * T * H + s.seqLength * H, (b + 1) * T * H).every((v) => v === 0));
    assert.deepEqual([...batch.attentionMask.subarray(b * T, (b + 1) * T)], [...Array(s.seqLength).fill(1n), ...Array(T - s.seqLength).fill(0n)]);
    assert.deepEqual([...batch.tokenIds.subarray(b * T, b * T + s.seqLength)], [...s.tokenIds]);
  });
});

test('a tag of the wrong width is refused', () => {
  const { context } = bpeContext(2);
  const bad: ExpansionContext = { ...context, tagValue: () => ({ p: 2, hiddenSize: 5, data: new Float32Array(10) }) };
  assert.throws(() => expandInput(resolveTemplate('molecule-property'), { smiles: 'C' }, bad), /width 5, the model's hidden size is 8/);
});
