// The memory check made from a GGUF header before loading: the estimate against hand-computed
// sizes, the typed refusal of a model that cannot fit (loader and CLI), and nothing read first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSparseGgufs, type SparseGgufSpec } from '../helpers/sparseGguf';
import { readGgufHeader } from '../../src/runtime/model/gguf/reader';
import { readGgufConfig, loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { GgufFile } from '../../src/runtime/model/gguf/reader';
import { ESTIMATE_CONTEXT_TOKENS, RUNTIME_OVERHEAD_BYTES, assertFits, estimateModelMemory, heldWeightBytes, kvCacheBytes, memoryVerdict } from '../../src/runtime/model/memoryEstimate';
import { InsufficientMemoryError } from '../../src/runtime/errors';

const dir = mkdtempSync(join(tmpdir(), 'tagllm-memory-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const smollm2: SparseGgufSpec = { path: join(dir, 'smollm2-q4_0.gguf'), architecture: 'llama', hidden: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, type: 'Q4_0', fileType: 2, tied: true };
// Llama-3.1-70B's shape: no machine that runs these tests holds it.
const llama70b: SparseGgufSpec = { path: join(dir, 'llama-70b-q4_k.gguf'), architecture: 'llama', hidden: 8192, layers: 80, heads: 64, kvHeads: 8, ffn: 28672, vocab: 128256, type: 'Q4_K', fileType: 15, tied: false };
writeSparseGgufs([smollm2, llama70b]);

/** Parameters of a Llama shape, counted by hand from the tensor list. */
function parameters(s: SparseGgufSpec): number {
  const kv = (s.hidden / s.heads) * s.kvHeads;
  const layer = 2 * s.hidden + 2 * s.hidden * s.hidden + 2 * kv * s.hidden + 3 * s.ffn * s.hidden;
  return s.vocab * s.hidden * (s.tied ? 1 : 2) + s.layers * layer + s.hidden;
}

test('the estimate is the held weights, a float32 KV cache of the estimate context, and the runtime overhead', () => {
  const file = GgufFile.open(smollm2.path);
  const config = readGgufConfig(file);
  file.close();
  assert.equal(parameters(smollm2), 134_515_008); // SmolLM2-135M as transformers counts it
  // today's engine: float32 values, 4.5 copies at the peak of creating an in-memory session
  assert.equal(heldWeightBytes(file.header), 4 * 134_515_008 * 4.5);
  // keys and values: 2 x 30 layers x 3 KV heads x 64 x 2048 positions x 4 bytes
  assert.equal(kvCacheBytes(config, ESTIMATE_CONTEXT_TOKENS), 2 * 30 * 3 * 64 * 2048 * 4);
  const e = estimateModelMemory(heldWeightBytes(file.header), config);
  assert.equal(e.totalBytes, 4 * 134_515_008 * 4.5 + 94_371_840 + RUNTIME_OVERHEAD_BYTES);
  assert.equal(memoryVerdict(e, e.totalBytes, 8e9).fits, true);
  assert.equal(memoryVerdict(e, e.totalBytes - 1, 8e9).fits, false);
});

test('a model that cannot fit is refused with a typed error naming its size, the estimate and the memory available, before any tensor is read', async () => {
  const fileBytes = statSync(llama70b.path).size;
  assert.ok(fileBytes > 39e9 && fileBytes < 44e9, `a 70B Q4_K is about 40 GB, got ${fileBytes}`);
  const started = performance.now();
  await assert.rejects(loadGgufModel(llama70b.path, { availableMemoryBytes: 20e9 }), (err: unknown) => {
    assert.ok(err instanceof InsufficientMemoryError);
    assert.equal(err.sizes.fileBytes, fileBytes);
    assert.equal(err.sizes.availableBytes, 20e9);
    assert.equal(err.sizes.estimateBytes, estimateModelMemory(heldWeightBytes(readGgufHeader(llama70b.path)), { numLayers: 80, numKvHeads: 8, headDim: 128 }).totalBytes);
    assert.match(err.message, new RegExp(`^${llama70b.path}: this model \\(${(fileBytes / 1e9).toFixed(1)} GB file\\) needs about \\d+\\.\\d GB; 20\\.0 GB of \\d+\\.\\d+ GB available`));
    return true;
  });
  // reading 40 GB of holes would take far longer than parsing a header
  assert.ok(performance.now() - started < 5000);
  const small = memoryVerdict(estimateModelMemory(1e9, { numLayers: 1, numKvHeads: 1, headDim: 2 }), 2e9, 4e9);
  assert.doesNotThrow(() => assertFits(small, 1, 'x'));
});

test('the CLI refuses it with one line and a failing status', () => {
  const cli = resolve(__dirname, '../../dist/cli.js');
  const run = spawnSync(process.execPath, [cli, 'generate', '--model', llama70b.path, '--prompt', 'a', '--max-new-tokens', '1'], { encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /^tagllm: .*llama-70b-q4_k\.gguf: this model \(\d+\.\d GB file\) needs about \d+(\.\d+)? GB; .* available: loading it would swap or be killed, so it is not loaded/);
  assert.equal(run.stderr.trim().split('\n').length, 1);
});
