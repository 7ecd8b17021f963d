// The real tokenizers of every family (shared data, tokenizers/) give exactly the ids of the
// reference library — `tokenizers` for tokenizer.json, sentencepiece for tokenizer.model — on
// a mixed text set and on llama.cpp's 47 test strings, and llama.cpp's expected ids for those
// strings; from tokenizer.json and from a tokenizer rebuilt from GGUF metadata (llama.cpp's
// vocab-only files, and GGUFs scripts/make-tokenizer-fixtures.py writes as llama.cpp's converter
// does). Reference ids come from that script, run by this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dataPath } from '../helpers/data';
import { scriptFixtures } from '../helpers/scriptFixtures';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { tokenizerFromGgufMetadata } from '../../src/runtime/tokenizer/fromGguf';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';

const TEXTS = resolve(__dirname, '../fixtures/tokenizer-texts.json');

interface References {
  readonly texts: string[];
  readonly vector_texts: string[];
  readonly cases: Record<string, { texts: number[][]; vector_texts: number[][] }>;
}

function fixtures(): { dir: string; references: References } {
  const dir = scriptFixtures('make-tokenizer-fixtures.py', [TEXTS]);
  return { dir, references: JSON.parse(readFileSync(join(dir, 'references.json'), 'utf8')) };
}

function fromGguf(path: string): Tokenizer {
  const file = GgufFile.open(path);
  try {
    const built = tokenizerFromGgufMetadata(file.header.metadata, path);
    return new Tokenizer(built.tokenizerJson, built.specialTokens);
  } finally {
    file.close();
  }
}

const fromJson = (...parts: string[]) => new Tokenizer(JSON.parse(readFileSync(dataPath('tokenizers', ...parts), 'utf8')), { addBos: false });

/** llama.cpp's expected ids: one line per test string, each line ending in a newline. */
function llamaCppVectors(name: string): number[][] {
  const lines = readFileSync(dataPath('tokenizers', 'llama.cpp-vocab-tests', `ggml-vocab-${name}.gguf.out`), 'utf8').split('\n');
  return lines.slice(0, -1).map((line) => (line.trim() === '' ? [] : line.trim().split(/\s+/).map(Number)));
}

function assertSameIds(tokenizer: Tokenizer, texts: readonly string[], expected: readonly number[][], what: string): void {
  assert.equal(texts.length, expected.length);
  const wrong = texts.flatMap((text, i) => {
    const ids = tokenizer.encode(text, { addBos: false });
    return JSON.stringify(ids) === JSON.stringify(expected[i]) ? [] : [`${JSON.stringify(text)}: ${JSON.stringify(ids)} vs ${JSON.stringify(expected[i])}`];
  });
  assert.deepEqual(wrong, [], `${what}: ${wrong.length} of ${texts.length} texts differ`);
}

// case -> the ways we build it, and llama.cpp's vector file for it (if any).
const CASES: Record<string, { tokenizers: Record<string, () => Tokenizer>; vectors?: string }> = {
  'qwen2.5': { tokenizers: { 'tokenizer.json': () => fromJson('qwen2.5', 'tokenizer.json'), 'written GGUF': () => fromGguf(join(fixtures().dir, 'qwen2.5.gguf')) }, vectors: 'qwen2' },
  qwen3: { tokenizers: { 'tokenizer.json': () => fromJson('qwen3', 'tokenizer.json'), 'written GGUF': () => fromGguf(join(fixtures().dir, 'qwen3.gguf')) }, vectors: 'qwen2' },
  llama3: { tokenizers: { 'tokenizer.json': () => fromJson('llama3-bpe', 'tokenizer.json'), 'written GGUF': () => fromGguf(join(fixtures().dir, 'llama3.gguf')) }, vectors: 'llama-bpe' },
  smollm2: { tokenizers: { 'tokenizer.json': () => fromJson('smollm2', 'tokenizer.json'), 'written GGUF': () => fromGguf(join(fixtures().dir, 'smollm2.gguf')) } },
  phi3: {
    tokenizers: { 'tokenizer.json': () => fromJson('phi3', 'tokenizer.json'), "llama.cpp's GGUF": () => fromGguf(dataPath('tokenizers', 'llama.cpp-vocab-tests', 'ggml-vocab-phi-3.gguf')) },
    vectors: 'phi-3',
  },
  llama2: {
    tokenizers: { "llama.cpp's GGUF": () => fromGguf(dataPath('tokenizers', 'llama.cpp-vocab-tests', 'ggml-vocab-llama-spm.gguf')), 'written GGUF': () => fromGguf(join(fixtures().dir, 'llama2.gguf')) },
    vectors: 'llama-spm',
  },
  mistral: { tokenizers: { 'written GGUF': () => fromGguf(join(fixtures().dir, 'mistral.gguf')) } },
};

for (const [name, c] of Object.entries(CASES)) {
  for (const [form, make] of Object.entries(c.tokenizers)) {
    test(`${name} (${form}): the reference library's ids on the mixed texts and llama.cpp's test strings`, () => {
      const { references } = fixtures();
      const tokenizer = make();
      const expected = references.cases[name]!;
      assertSameIds(tokenizer, references.texts, expected.texts, 'mixed texts');
      assertSameIds(tokenizer, references.vector_texts, expected.vector_texts, "llama.cpp's test strings");
      if (c.vectors) assertSameIds(tokenizer, references.vector_texts, llamaCppVectors(c.vectors), `llama.cpp's ${c.vectors} ids`);
    });
  }
}

test("gpt-2 (llama.cpp's GGUF): llama.cpp's expected ids", () => {
  const { references } = fixtures();
  assertSameIds(fromGguf(dataPath('tokenizers', 'llama.cpp-vocab-tests', 'ggml-vocab-gpt-2.gguf')), references.vector_texts, llamaCppVectors('gpt-2'), "llama.cpp's gpt-2 ids");
});
