import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findModelsOnDisk, modelPickText } from '../../src/extension/modelDiscovery';
import { writeSparseGgufs } from '../helpers/sparseGguf';
import { readGgufHeader } from '../../src/runtime/model/gguf/reader';
import { estimateModelMemory, heldWeightBytes } from '../../src/runtime/model/memoryEstimate';

test('finds Ollama models through manifests and blobs, and LM Studio GGUF files, in their usual places', () => {
  const home = mkdtempSync(join(tmpdir(), 'tagllm-home-'));
  const digest = 'a'.repeat(64);
  const manifestDir = join(home, '.ollama', 'models', 'manifests', 'registry.ollama.ai', 'library', 'llama3.2');
  mkdirSync(manifestDir, { recursive: true });
  mkdirSync(join(home, '.ollama', 'models', 'blobs'), { recursive: true });
  writeFileSync(join(home, '.ollama', 'models', 'blobs', `sha256-${digest}`), 'GGUF');
  const layers = [{ mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'b'.repeat(64)}` }, { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}` }];
  writeFileSync(join(manifestDir, '1b'), JSON.stringify({ schemaVersion: 2, layers }));
  // A manifest whose blob is missing, and one that is not JSON, are not models.
  writeFileSync(join(manifestDir, 'gone'), JSON.stringify({ layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${'c'.repeat(64)}` }] }));
  writeFileSync(join(manifestDir, 'junk'), 'not json');
  for (const root of [join(home, '.lmstudio', 'models'), join(home, '.cache', 'lm-studio', 'models')]) {
    mkdirSync(join(root, 'lmstudio-community', 'SmolLM2-135M-GGUF'), { recursive: true });
    writeFileSync(join(root, 'lmstudio-community', 'SmolLM2-135M-GGUF', 'SmolLM2-135M-Q8_0.gguf'), 'GGUF');
    writeFileSync(join(root, 'lmstudio-community', 'SmolLM2-135M-GGUF', 'mmproj-model.gguf'), 'GGUF');
    writeFileSync(join(root, 'lmstudio-community', 'SmolLM2-135M-GGUF', 'README.md'), '#');
  }
  const found = findModelsOnDisk(home, {});
  assert.deepEqual(
    found.map((m) => [m.source, m.label, m.path]),
    [
      ['ollama', 'Ollama: library/llama3.2:1b', join(home, '.ollama', 'models', 'blobs', `sha256-${digest}`)],
      ['lmstudio', 'LM Studio: lmstudio-community/SmolLM2-135M-GGUF/SmolLM2-135M-Q8_0.gguf', join(home, '.lmstudio', 'models', 'lmstudio-community', 'SmolLM2-135M-GGUF', 'SmolLM2-135M-Q8_0.gguf')],
      ['lmstudio', 'LM Studio: lmstudio-community/SmolLM2-135M-GGUF/SmolLM2-135M-Q8_0.gguf', join(home, '.cache', 'lm-studio', 'models', 'lmstudio-community', 'SmolLM2-135M-GGUF', 'SmolLM2-135M-Q8_0.gguf')],
    ],
  );
  // OLLAMA_MODELS moves the Ollama store.
  assert.equal(findModelsOnDisk(home, { OLLAMA_MODELS: join(home, 'nowhere') }).filter((m) => m.source === 'ollama').length, 0);
});

test('each found model is listed with family, parameters and quantization from its GGUF header, and whether memory holds it', () => {
  const home = mkdtempSync(join(tmpdir(), 'tagllm-home-'));
  const digest = 'd'.repeat(64);
  const blobs = join(home, 'ollama-store', 'blobs');
  const manifests = join(home, 'ollama-store', 'manifests', 'registry.ollama.ai', 'library', 'llama3.2');
  const lmStudio = join(home, '.lmstudio', 'models', 'Qwen', 'Qwen2.5-0.5B-GGUF');
  const lmStudioCache = join(home, '.cache', 'lm-studio', 'models', 'google', 'gemma-3-1b-GGUF');
  for (const d of [blobs, manifests, lmStudio, lmStudioCache]) mkdirSync(d, { recursive: true });
  writeFileSync(join(manifests, '1b'), JSON.stringify({ layers: [{ mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${digest}` }] }));
  const shapes = { layers: 2, heads: 4, kvHeads: 2, tied: true } as const;
  writeSparseGgufs([
    // Ollama's llama3.2:1b blob: Llama 3.2 1B's shape, Q4_K_M (file type 15)
    { path: join(blobs, `sha256-${digest}`), architecture: 'llama', hidden: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, type: 'Q4_K', fileType: 15, tied: true },
    // no general.file_type: the type holding most bytes names it
    { path: join(lmStudio, 'qwen2.5-0.5b-q8_0.gguf'), architecture: 'qwen2', hidden: 896, ffn: 4864, vocab: 151936, type: 'Q8_0', ...shapes },
    { path: join(lmStudioCache, 'gemma-3-1b-Q4_0.gguf'), architecture: 'gemma3', hidden: 256, ffn: 512, vocab: 1024, type: 'Q4_0', fileType: 2, ...shapes },
  ]);
  writeFileSync(join(lmStudio, 'broken.gguf'), 'GGUF');
  const found = findModelsOnDisk(home, { OLLAMA_MODELS: join(home, 'ollama-store') });
  assert.deepEqual(found.map((m) => m.label), [
    'Ollama: library/llama3.2:1b',
    'LM Studio: Qwen/Qwen2.5-0.5B-GGUF/broken.gguf',
    'LM Studio: Qwen/Qwen2.5-0.5B-GGUF/qwen2.5-0.5b-q8_0.gguf',
    'LM Studio: google/gemma-3-1b-GGUF/gemma-3-1b-Q4_0.gguf',
  ]);
  const roomy = { availableBytes: 20e9, totalBytes: 24e9 };
  const [llama, broken, qwen, gemma] = found.map((m) => modelPickText(m.path, roomy));

  // 128256 x 2048 embedding + 16 layers of (2 norms, q/o 2048², k/v 512 x 2048, 3 x 8192 x 2048) + final norm
  const llamaParams = 128256 * 2048 + 16 * (2 * 2048 + 2 * 2048 * 2048 + 2 * 512 * 2048 + 3 * 8192 * 2048) + 2048;
  assert.equal(llamaParams, 1_235_814_400); // Llama-3.2-1B as transformers counts it
  const llamaFile = statSync(join(blobs, `sha256-${digest}`)).size;
  assert.equal(llama!.description, `llama · 1.2B parameters · Q4_K_M · ${(llamaFile / 1e9).toFixed(2)} GB`);
  const llamaEstimate = estimateModelMemory(heldWeightBytes(readGgufHeader(join(blobs, `sha256-${digest}`))), { numLayers: 16, numKvHeads: 8, headDim: 64 }).totalBytes;
  assert.equal(llama!.detail, `$(check) fits in memory: needs about ${(llamaEstimate / 1e9).toFixed(1)} GB; 20.0 GB of 24.0 GB available`);
  assert.equal(llama!.refusal, undefined);

  // 151936 x 896 embedding + 2 layers of (2 norms, q/o 896², k/v 448 x 896, 3 x 4864 x 896) + final norm = 167,070,240
  assert.match(qwen!.description, /^qwen2 · 167M parameters · Q8_0 · 0\.18 GB$/);
  assert.match(qwen!.detail, /^\$\(check\) fits in memory/);
  assert.match(gemma!.description, /^gemma3 · 1M parameters · Q4_0 · 0\.00 GB$/); // 1,443,072 parameters
  assert.match(gemma!.detail, /^\$\(warning\) not supported: architecture "gemma3" is not supported \(supported: .*llama/);
  assert.match(gemma!.refusal!, /cannot run here/);
  assert.match(broken!.detail, /^\$\(error\) .*GGUF/);
  assert.ok(broken!.refusal);

  // The same 1B with too little memory free: listed, and picking it is refused with the numbers.
  const tight = modelPickText(join(blobs, `sha256-${digest}`), { availableBytes: 4e9, totalBytes: 8e9 });
  assert.equal(tight.detail, `$(error) too large for this machine's memory: needs about ${(llamaEstimate / 1e9).toFixed(1)} GB; 4.00 GB of 8.00 GB available`);
  assert.match(tight.refusal!, /^This model needs about \d+\.\d GB; 4\.00 GB of 8\.00 GB available\. Loading it would swap/);
});
