import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findModelsOnDisk } from '../../src/extension/modelDiscovery';

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
