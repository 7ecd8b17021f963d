// The on-disk session cache (src/runtime/session/sessionCache.ts) on the quantized
// stories260K-Q8_0: a second start loads the cached graph without building it and gives
// identical logits; another runtime version, or a model file whose size or modification time
// changed, misses the cache and builds again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { buildDecoderGraph } from '../../src/runtime/llama/decoderGraph';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import { openCachedSession, RUNTIME_VERSION, type SessionCacheEntry } from '../../src/runtime/session/sessionCache';
import type { LoadedModel } from '../../src/runtime/model/description';

const ids = [1, 291, 284, 414, 305];

async function lastLogits(model: LoadedModel, entry: SessionCacheEntry): Promise<{ fromCache: boolean; builds: number; logits: Float32Array }> {
  let builds = 0;
  const build = () => {
    builds++;
    return buildDecoderGraph(model.config, model.weights, { logits: 'last', kvCache: false }).graph;
  };
  const { session, fromCache } = await openCachedSession(entry, build, 'cpu');
  try {
    const out = await session.run({
      inputs_embeds: new ort.Tensor('float32', embedTokens(model, ids), [1, ids.length, model.config.hiddenSize]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
    });
    return { fromCache, builds, logits: out.logits!.data as Float32Array };
  } finally {
    await session.release();
  }
}

test('a second session creation loads the cached graph; a new runtime version or a changed model file does not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-session-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const modelPath = join(dir, 'model.gguf');
  copyFileSync(dataPath('models', 'stories260K-Q8_0.gguf'), modelPath);
  const model = await loadGgufModel(modelPath);
  const entry: SessionCacheEntry = { cacheDir: join(dir, 'cache'), modelPath, graphKey: 'decoder logits=last', runtimeVersion: RUNTIME_VERSION };

  const first = await lastLogits(model, entry);
  assert.deepEqual([first.fromCache, first.builds], [false, 1]);
  assert.equal(readdirSync(join(dir, 'cache', 'sessions')).length, 1, 'one entry, no temporary folder left');
  const second = await lastLogits(model, entry);
  assert.deepEqual([second.fromCache, second.builds], [true, 0]);
  assert.deepEqual(second.logits, first.logits, 'identical logits from the cached graph');

  const upgraded = await lastLogits(model, { ...entry, runtimeVersion: `${RUNTIME_VERSION} (next)` });
  assert.deepEqual([upgraded.fromCache, upgraded.builds], [false, 1]);
  const otherGraph = await lastLogits(model, { ...entry, graphKey: 'decoder logits=last quantized=exact' });
  assert.deepEqual([otherGraph.fromCache, otherGraph.builds], [false, 1]);

  const later = new Date(Date.now() + 60_000);
  utimesSync(modelPath, later, later);
  const touched = await lastLogits(model, entry);
  assert.deepEqual([touched.fromCache, touched.builds], [false, 1], 'a model file with a new modification time is another model');
  assert.deepEqual(touched.logits, first.logits);
  assert.equal(readdirSync(join(dir, 'cache', 'sessions')).length, 4);
});
