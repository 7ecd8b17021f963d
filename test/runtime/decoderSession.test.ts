// Session plumbing: the provider choice and its fallback, the per-model session cache, and
// inputs of the wrong size refused before onnxruntime sees them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dataPath } from '../helpers/data';
import { loadModel } from '../../src/runtime/model/load';
import { DecoderSession, decoderSession } from '../../src/runtime/session/decoderSession';
import { createOrtSession, cudaAvailable } from '../../src/runtime/session/ortSession';
import { serializeModel, writeModelWithExternalData } from '../../src/runtime/graph/serialize';
import { buildDecoderGraph } from '../../src/runtime/llama/decoderGraph';
import { embedTokens } from '../../src/runtime/llama/embedTokens';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph } from '../../src/runtime/graph/graph';
import { ShapeMismatchError } from '../../src/runtime/errors';

function identityModel(): Uint8Array {
  const g = new Graph();
  g.output(g.neg(g.input('x', 'float32', [2])), 'y');
  return serializeModel(g);
}

test('asking for CUDA where it cannot start falls back to CPU and says why', async (t) => {
  if (cudaAvailable()) return t.skip('this machine has the CUDA provider');
  const s = await createOrtSession(identityModel(), 'cuda');
  assert.equal(s.provider, 'cpu');
  assert.match(s.fallbackReason ?? '', /CUDA/);
  const cpu = await createOrtSession(identityModel(), 'cpu');
  assert.equal(cpu.provider, 'cpu');
  assert.equal(cpu.fallbackReason, undefined);
});

test('sessions are cached per model and shape class', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const a = await decoderSession(model, { logits: 'last', kvCache: true });
  assert.equal(await decoderSession(model, { logits: 'last', kvCache: true }), a);
  assert.notEqual(await decoderSession(model, { logits: 'all', kvCache: false }), a);
});

test('inputs of the wrong size are refused with the expected shape', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const session = await DecoderSession.create(model, { logits: 'none', kvCache: false });
  await assert.rejects(session.forward(new Float32Array(63), [1, 1], BigInt64Array.of(1n)), (e: Error) => e instanceof ShapeMismatchError && /\[1, 1, 64\]/.test(e.message));
  await assert.rejects(session.forward(new Float32Array(128), [1, 2], BigInt64Array.of(1n)), ShapeMismatchError);
});

test('the decoder loaded from a model file with external data gives the in-memory logits', async () => {
  const model = await loadModel(dataPath('models', 'stories260K.gguf'));
  const { graph } = buildDecoderGraph(model.config, model.weights, { logits: 'last', kvCache: false });
  const ids = [1, 403, 407, 261, 378];
  const feeds = {
    inputs_embeds: new ort.Tensor('float32', embedTokens(model, ids), [1, ids.length, model.config.hiddenSize]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
  };
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-external-'));
  try {
    writeModelWithExternalData(graph, join(dir, 'model.onnx'));
    const fromDisk = await (await createOrtSession(join(dir, 'model.onnx'), 'cpu')).session.run(feeds);
    const inMemory = await (await createOrtSession(serializeModel(graph), 'cpu')).session.run(feeds);
    assert.deepEqual(Array.from(fromDisk.logits.data as Float32Array), Array.from(inMemory.logits.data as Float32Array));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
