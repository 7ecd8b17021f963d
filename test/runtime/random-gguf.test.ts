// scripts/write-random-gguf.py, the files `npm run bench` compares against llama.cpp: a valid
// GGUF that our reader and llama.cpp (node-llama-cpp's prebuilt CPU binary) both load, with the
// real tokenizer's vocabulary (both tokenize like the tokenizer.json it came from), tensors in
// order at aligned offsets, llama-quantize's fallback for rows that are not whole Q4_K blocks,
// and weights of a sane spread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pythonExecutable } from '../helpers/python';
import { dataPath } from '../helpers/data';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { readGgufConfig } from '../../src/runtime/model/gguf/toModel';
import { dequantize } from '../../src/runtime/model/gguf/quant';
import { tokenizerFromGgufMetadata } from '../../src/runtime/tokenizer/fromGguf';
import { Tokenizer } from '../../src/runtime/tokenizer/tokenizer';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-random-gguf-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'smollm2-135m-Q4_K.gguf');
const tokenizerJson = dataPath('tokenizers', 'smollm2', 'tokenizer.json');
const text = 'The molecule CC(=O)Oc1ccccc1C(=O)O binds MKTAYIAKQRQISFVKSHFSRQ at 37.5 °C; x = f(1e-3) 🙂 蛋白质';

test('the SmolLM2-shape Q4_K file: header, types, offsets, tokenizer and weights', () => {
  const run = spawnSync(pythonExecutable(), [resolve(__dirname, '../../scripts/write-random-gguf.py'), '--shape', 'smollm2-135m', '--type', 'Q4_K', '--tokenizer', tokenizerJson, '--out', file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const gguf = GgufFile.open(file);
  try {
    const { header } = gguf;
    const config = readGgufConfig(gguf);
    assert.deepEqual(
      [config.hiddenSize, config.numLayers, config.numHeads, config.numKvHeads, config.intermediateSize, config.vocabSize, config.tieWordEmbeddings, config.ropeTheta],
      [576, 30, 9, 3, 1536, 49152, true, 100000],
    );
    assert.equal(header.metadata.get('general.file_type'), 14); // MOSTLY_Q4_K_S
    const type = (name: string) => header.tensors.find((t) => t.name === name)!.type.name;
    // rows of 576 are not whole 256-value super-blocks: Q5_0, as llama-quantize falls back; ffn_down's rows of 1536 are
    assert.deepEqual(['token_embd.weight', 'blk.0.attn_q.weight', 'blk.0.ffn_gate.weight', 'blk.0.ffn_down.weight', 'blk.0.attn_norm.weight'].map(type), ['Q5_0', 'Q5_0', 'Q5_0', 'Q4_K', 'F32']);
    // tensor data in file order, each at an offset aligned to general.alignment, the last ending at the file's end
    let end = header.dataStart;
    for (const t of header.tensors) {
      assert.ok(t.fileOffset >= end && (t.fileOffset - header.dataStart) % header.alignment === 0, t.name);
      end = t.fileOffset + t.byteLength;
    }
    assert.equal(Math.ceil((end - header.dataStart) / header.alignment) * header.alignment + header.dataStart, header.fileSize);

    for (const name of ['blk.3.ffn_down.weight', 'blk.3.attn_v.weight']) {
      const t = header.tensors.find((x) => x.name === name)!;
      const w = dequantize(t.type, gguf.tensorBytes(t), t.elementCount);
      const mean = w.reduce((a, b) => a + b, 0) / w.length;
      const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
      assert.ok(std > 0.01 && std < 0.04 && Math.abs(mean) < 0.01, `${name}: mean ${mean}, std ${std}`);
    }

    const fromGguf = tokenizerFromGgufMetadata(header.metadata, file);
    const ours = new Tokenizer(fromGguf.tokenizerJson, fromGguf.specialTokens);
    const reference = new Tokenizer(JSON.parse(readFileSync(tokenizerJson, 'utf8')), { addBos: false });
    assert.deepEqual(ours.encode(text, { addBos: false }), reference.encode(text));
    assert.equal(fromGguf.specialTokens.bos, 0); // <|endoftext|>
  } finally {
    gguf.close();
  }
});

test('llama.cpp loads the file, tokenizes like the tokenizer.json, and evaluates it', async () => {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', skipDownload: true, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  try {
    const reference = new Tokenizer(JSON.parse(readFileSync(tokenizerJson, 'utf8')), { addBos: false });
    assert.deepEqual([...model.tokenize(text)], reference.encode(text));
    const context = await model.createContext({ contextSize: 256 });
    const sequence = context.getSequence();
    const steps = sequence.evaluate(model.tokenize(text), { temperature: 0 });
    const next = await steps.next();
    assert.ok(Number.isInteger(next.value) && (next.value as number) >= 0 && (next.value as number) < 49152);
    await steps.return();
    await context.dispose();
  } finally {
    await model.dispose();
    await llama.dispose();
  }
});
