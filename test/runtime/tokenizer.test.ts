// Tokenizers built from GGUF metadata and read from tokenizer.json reproduce the ids that
// Hugging Face tokenizers/transformers produced for the same files (shared reference JSON).
import { test } from 'node:test';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dataPath } from '../helpers/data';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { tokenizerFromGgufMetadata } from '../../src/runtime/tokenizer/fromGguf';
import { Tokenizer, asTokenIds } from '../../src/runtime/tokenizer/tokenizer';
import { InvalidFileError, UnsupportedError } from '../../src/runtime/errors';
import type { GgufMetadata, GgufValue } from '../../src/runtime/model/gguf/metadata';

function ggufMetadata(name: string): GgufMetadata {
  const file = GgufFile.open(dataPath('models', name));
  try {
    return file.header.metadata;
  } finally {
    file.close();
  }
}

function ggufTokenizer(name: string): Tokenizer {
  const built = tokenizerFromGgufMetadata(ggufMetadata(name), name);
  return new Tokenizer(built.tokenizerJson, built.specialTokens);
}

const readJson = (...parts: string[]) => JSON.parse(readFileSync(dataPath(...parts), 'utf8'));

interface StoriesCase {
  text: string;
  input_ids_with_bos: number[];
  greedy_continuation_ids: number[];
  greedy_continuation_text: string;
}
interface TinyBpeReference {
  tokenization: { text: string; ids: number[]; decoded: string }[];
  prompt: string;
  prompt_ids: number[];
}

test('stories260K (SentencePiece in GGUF): ids with BOS match transformers for every reference prompt', () => {
  const tokenizer = ggufTokenizer('stories260K.gguf');
  const cases: StoriesCase[] = readJson('models', 'stories260K.reference.json').cases;
  assert.equal(cases.length, 3);
  for (const c of cases) assert.deepEqual(tokenizer.encode(c.text), c.input_ids_with_bos, c.text);
  assert.equal(tokenizer.addBos, true);
  assert.equal(tokenizer.bos, 1);
  assert.equal(tokenizer.eos, 2);
  assert.equal(tokenizer.vocabSize, 512);
});

test('stories260K: greedy continuation ids decode to the reference text; BOS can be left off', () => {
  const tokenizer = ggufTokenizer('stories260K.gguf');
  for (const c of readJson('models', 'stories260K.reference.json').cases as StoriesCase[]) {
    assert.equal(tokenizer.decode(asTokenIds(c.greedy_continuation_ids)), c.greedy_continuation_text);
    assert.deepEqual(tokenizer.encode(c.text, { addBos: false }), c.input_ids_with_bos.slice(1));
  }
});

test('stories260K: text outside the 512-token vocabulary falls back to bytes and round-trips', () => {
  const tokenizer = ggufTokenizer('stories260K.gguf');
  const text = 'Ünïcödé 東京 🙂 tabs\tand\nnew lines';
  const ids = tokenizer.encode(text, { addBos: false });
  const byteToken = (hex: string) => tokenizer.tokenToId(`<0x${hex}>`);
  // 東 is E6 9D B1 in UTF-8: three byte-fallback tokens in a row.
  const east = [byteToken('E6'), byteToken('9D'), byteToken('B1')];
  assert.ok(ids.some((_, i) => east.every((id, k) => ids[i + k] === id)), 'byte fallback for 東');
  assert.equal(tokenizer.decode(ids), text);
});

test('tiny-bpe-llama: tokenizer.json and the GGUF-built tokenizer both give the reference ids for all tricky strings', () => {
  const reference: TinyBpeReference = readJson('models', 'tiny-bpe-llama.reference.json');
  const fromGguf = ggufTokenizer('tiny-bpe-llama.gguf');
  const fromJson = new Tokenizer(readJson('models', 'tiny-bpe-llama-hf', 'tokenizer.json'), { bos: 0, eos: 0, addBos: false });
  assert.equal(reference.tokenization.length, 7);
  for (const tokenizer of [fromGguf, fromJson]) {
    for (const c of reference.tokenization) {
      const ids = tokenizer.encode(c.text);
      assert.deepEqual(ids, c.ids, c.text);
      assert.equal(tokenizer.decode(ids), c.decoded);
    }
    assert.deepEqual(tokenizer.encode(reference.prompt), reference.prompt_ids);
  }
  assert.equal(fromGguf.addBos, false);
  assert.equal(fromGguf.vocabSize, 1024);
});

test('tiny-bpe-llama: special tokens are matched whole and can be skipped when decoding', () => {
  const tokenizer = ggufTokenizer('tiny-bpe-llama.gguf');
  const ids = tokenizer.encode('<|im_start|>user<|im_end|>');
  assert.equal(ids[0], tokenizer.tokenToId('<|im_start|>'));
  assert.equal(tokenizer.decode(ids, { skipSpecialTokens: true }), 'user');
});

test('stream decoding emits exactly the full decode, holding back incomplete UTF-8', () => {
  for (const [name, text] of [
    ['stories260K.gguf', 'Once upon a time, 東京 🙂 was big.'],
    ['tiny-bpe-llama.gguf', 'Ünïcödé café — naïve 東京 🙂'],
  ] as const) {
    const tokenizer = ggufTokenizer(name);
    const ids = tokenizer.encode(text, { addBos: false });
    const stream = tokenizer.streamDecoder();
    const pieces = ids.map((id) => stream.push(id));
    pieces.push(stream.flush());
    assert.equal(pieces.join(''), tokenizer.decode(ids), name);
    assert.ok(pieces.every((p) => !p.includes('\uFFFD')), `${name}: no replacement characters mid-stream`);
  }
});

test('merges derived from SentencePiece scores rank by the merged piece', () => {
  const metadata = new Map<string, GgufValue>(ggufMetadata('stories260K.gguf'));
  const built = tokenizerFromGgufMetadata(metadata, 'stories260K.gguf');
  const model = built.tokenizerJson.model as { merges: [string, string][]; vocab: Record<string, number> };
  const scores = metadata.get('tokenizer.ggml.scores') as number[];
  const mergedScores = model.merges.map(([l, r]) => scores[model.vocab[l + r]!]!);
  assert.ok(mergedScores.every((s, i) => i === 0 || mergedScores[i - 1]! >= s), 'merges sorted by score, best first');
  assert.ok(model.merges.length > 0);
});

test('tokenizer.ggml.pre picks the pre-tokenizer split of llama.cpp (GPT-2, Llama 3, Qwen2, SmolLM)', () => {
  const base = ggufMetadata('tiny-bpe-llama.gguf');
  const split = (pre: string) => {
    const built = tokenizerFromGgufMetadata(new Map(base).set('tokenizer.ggml.pre', pre), 'x.gguf');
    const hf = new HfTokenizer(built.tokenizerJson, {});
    return (hf.pre_tokenizer as unknown as { pre_tokenize(text: string): string[] }).pre_tokenize("Hello 12345 world's\n\nDON'T");
  };
  // Byte-level pieces: Ġ is a space, Ċ a newline.
  assert.deepEqual(split('gpt-2'), ['Hello', 'Ġ12345', 'Ġworld', "'s", 'Ċ', 'Ċ', 'DON', "'", 'T']);
  // Llama 3: digits in groups of up to three, newlines together, contractions in any case.
  assert.deepEqual(split('llama-bpe'), ['Hello', 'Ġ', '123', '45', 'Ġworld', "'s", 'ĊĊ', 'DON', "'T"]);
  // Qwen2: single digits.
  assert.deepEqual(split('qwen2'), ['Hello', 'Ġ', '1', '2', '3', '4', '5', 'Ġworld', "'s", 'ĊĊ', 'DON', "'T"]);
  // SmolLM: single digits, then the GPT-2 split.
  assert.deepEqual(split('smollm'), ['Hello', 'Ġ', '1', '2', '3', '4', '5', 'Ġworld', "'s", 'Ċ', 'Ċ', 'DON', "'", 'T']);
});

test('bad tokenizer metadata: one-line errors naming the file and the key', () => {
  const base = ggufMetadata('tiny-bpe-llama.gguf');
  const withValue = (key: string, value: GgufValue | undefined) => {
    const m = new Map(base);
    if (value === undefined) m.delete(key);
    else m.set(key, value);
    return m;
  };
  assert.throws(
    () => tokenizerFromGgufMetadata(withValue('tokenizer.ggml.model', 'bert'), 'x.gguf'),
    (e: unknown) => e instanceof UnsupportedError && /x\.gguf: .*"bert"/.test(e.message),
  );
  assert.throws(
    () => tokenizerFromGgufMetadata(withValue('tokenizer.ggml.pre', 'no-such-pre'), 'x.gguf'),
    (e: unknown) => e instanceof UnsupportedError && /no-such-pre/.test(e.message),
  );
  assert.throws(
    () => tokenizerFromGgufMetadata(withValue('tokenizer.ggml.tokens', undefined), 'x.gguf'),
    (e: unknown) => e instanceof InvalidFileError && /tokenizer\.ggml\.tokens/.test(e.message) && !e.message.includes('\n'),
  );
  assert.throws(
    () => tokenizerFromGgufMetadata(withValue('tokenizer.ggml.bos_token_id', 5000), 'x.gguf'),
    (e: unknown) => e instanceof InvalidFileError && /bos_token_id/.test(e.message),
  );
});
