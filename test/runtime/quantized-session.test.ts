// Session creation keeps quantized weights quantized: the graph onnxruntime actually runs (its
// optimized model, written at session creation) of the stories260K-Q8_0 training graph still
// multiplies with MatMulNBits and dequantizes with DequantizeLinear at run time, and holds no
// float32 initializer the size of a quantized weight (constant folding would have made one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { dataPath } from '../helpers/data';
import { loadGgufModel } from '../../src/runtime/model/gguf/toModel';
import { isQuantized } from '../../src/runtime/model/tensor';
import { serializeModel } from '../../src/runtime/graph/serialize';
import { ModelProto } from '../../src/runtime/graph/onnxProto';
import { addGradients, buildLossGraph } from '../../src/runtime/train/lossGraphs';

interface OptimizedModel {
  graph: { node: { opType: string }[]; initializer: { name: string; dims: (number | { toNumber(): number })[]; dataType: number }[] };
}

test('stories260K-Q8_0 training graph: onnxruntime runs MatMulNBits and DequantizeLinear, and folds no weight to float32', async (t) => {
  const model = await loadGgufModel(dataPath('models', 'stories260K-Q8_0.gguf'));
  const quantizedElements = new Set<number>();
  const floatWeights: string[] = [];
  for (const [name, w] of model.weights) if (isQuantized(w)) quantizedElements.add(w.shape[0] * w.shape[1]);
  else floatWeights.push(name);
  assert.ok(quantizedElements.size > 0);

  const dir = mkdtempSync(join(tmpdir(), 'tagllm-optimized-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const optimized = join(dir, 'optimized.onnx');
  const graph = addGradients(buildLossGraph(model.config, model.weights, 'regression')).graph;
  const session = await ort.InferenceSession.create(serializeModel(graph), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  await session.release();

  const proto = ModelProto.decode(readFileSync(optimized)) as unknown as OptimizedModel;
  const ops = proto.graph.node.map((n) => n.opType);
  const count = (op: string) => ops.filter((o) => o === op).length;
  // Per layer: q/k/v packed, o_proj and gate/up packed are Q8_0 (down_proj's rows of 172 values stay F32).
  assert.equal(count('MatMulNBits'), 3 * model.config.numLayers, `MatMulNBits nodes: ${count('MatMulNBits')}`);
  assert.equal(count('DequantizeLinear'), 3 * model.config.numLayers, 'one run-time dequantization per quantized product, for its gradient');
  const FLOAT = 1;
  // A float32 initializer with as many values as a quantized weight that is not one of the
  // model's float weights (down_proj here has gate/up's size, transposed) would be a folded copy.
  const folded = proto.graph.initializer.filter(
    (i) => i.dataType === FLOAT && quantizedElements.has(i.dims.reduce<number>((a, d) => a * Number(d), 1)) && !floatWeights.some((name) => i.name.startsWith(name)),
  );
  assert.deepEqual(folded.map((i) => i.name), [], 'no float32 copy of a quantized weight');
});
