// Each GGUF block type as a MatMulNBits product (src/runtime/llama/quantizedLinear.ts), against
// the float32 weights gguf-py's reference dequantizer gives for the same bytes: random blocks
// (random integers, scales and mins), x W^T in the graph and the tag-gradient product dy W
// through the run-time DequantizeLinear. Exact mode (accuracy_level 0) agrees to float32
// rounding; fast mode (int8 activations) within the error llama.cpp's Q8 activations have.
// F16/BF16 weights are dequantized to float32 on load and run as plain MatMul (toModel.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { pythonExecutable } from '../helpers/python';
import { Graph } from '../../src/runtime/graph/graph';
import { grad } from '../../src/runtime/graph/autodiff/grad';
import { serializeModel } from '../../src/runtime/graph/serialize';
import { dequantize } from '../../src/runtime/model/gguf/quant';
import { ggmlTypeLayout } from '../../src/runtime/model/gguf/tensorTypes';
import type { QuantizedTensor } from '../../src/runtime/model/description';
import { quantizedLinear, toNBits, type QuantizedMatMulMode } from '../../src/runtime/llama/quantizedLinear';
import { relativeMaxError } from '../helpers/compare';

const ROWS = 6;
const COLS = 512;
const M = 5;

// Random blocks of each type: random bytes, with every f16 field (scales, mins) set to a finite
// value of a realistic size; gguf-py dequantizes them.
const SCRIPT = `
import json, sys, numpy as np
from gguf import quants, GGMLQuantizationType as T
rows, cols = ${ROWS}, ${COLS}
rng = np.random.default_rng(7)
fields = {'Q4_0': (18, [0]), 'Q4_1': (20, [0, 2]), 'Q5_0': (22, [0]), 'Q5_1': (24, [0, 2]), 'Q8_0': (34, [0]),
          'Q4_K': (144, [0, 2]), 'Q5_K': (176, [0, 2]), 'Q6_K': (210, [208])}
out = {}
for name, (block_bytes, halves) in fields.items():
    t = T[name]
    block = 256 if name.endswith('_K') else 32
    raw = rng.integers(0, 256, size=(rows * cols // block, block_bytes), dtype=np.uint8)
    for at in halves:
        h = (rng.uniform(0.002, 0.02, size=raw.shape[0]) * rng.choice([-1, 1], size=raw.shape[0])).astype(np.float16)
        raw[:, at:at + 2] = h.view(np.uint8).reshape(-1, 2)
    values = quants.dequantize(raw.reshape(rows, -1), t)
    out[name] = {'id': int(t), 'bytes': raw.tobytes().hex(), 'values': values.reshape(-1).astype(float).tolist()}
json.dump(out, sys.stdout)
`;

interface Vector { id: number; bytes: string; values: number[] }

const vectors = (() => {
  const run = spawnSync(pythonExecutable(), ['-c', SCRIPT], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`gguf-py reference failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, Vector>;
})();

function tensorOf(v: Vector): QuantizedTensor {
  return { shape: [ROWS, COLS], type: ggmlTypeLayout(v.id)!, bytes: Uint8Array.from(Buffer.from(v.bytes, 'hex')) };
}

const randoms = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 12.9898) * 0.5 + Math.cos(i * 0.37 + seed));

/** y = x W^T and dx = dy W (through grad) from one graph: loss = sum(y * dy). */
async function run(w: QuantizedTensor, mode: QuantizedMatMulMode, x: Float32Array, dy: Float32Array): Promise<{ y: Float32Array; dx: Float32Array }> {
  const g = new Graph('quantized_matmul');
  const input = g.input('x', 'float32', ['m', COLS]);
  const weights = g.input('dy', 'float32', ['m', ROWS]);
  const y = quantizedLinear(g, input, toNBits(w), 'w', mode);
  g.output(y, 'y');
  const loss = g.reduceSum(g.mul(y, weights), [0, 1], false);
  g.output(grad(g, loss, [input])[0]!, 'dx');
  const session = await ort.InferenceSession.create(serializeModel(g), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, [M, COLS]), dy: new ort.Tensor('float32', dy, [M, ROWS]) });
    return { y: out.y!.data as Float32Array, dx: out.dx!.data as Float32Array };
  } finally {
    await session.release();
  }
}

for (const [name, v] of Object.entries(vectors)) {
  test(`${name}: MatMulNBits product and its gradient match gguf-py's dequantized weights`, async () => {
    const w = tensorOf(v);
    // Our own dequantizer agrees with gguf-py on these bytes too (Q5_1 and Q5_K have no other vectors).
    const ours = dequantize(w.type, w.bytes, ROWS * COLS);
    let maxDiff = 0;
    v.values.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - x))));
    assert.ok(maxDiff <= 1e-6 * Math.max(...v.values.map(Math.abs)), `${name} dequantized: max diff ${maxDiff}`);

    const x = randoms(M * COLS, 1);
    const dy = randoms(M * ROWS, 2);
    const yRef = new Float64Array(M * ROWS);
    const dxRef = new Float64Array(M * COLS);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < ROWS; n++) {
        let s = 0;
        for (let k = 0; k < COLS; k++) s += x[m * COLS + k]! * v.values[n * COLS + k]!;
        yRef[m * ROWS + n] = s;
        for (let k = 0; k < COLS; k++) dxRef[m * COLS + k] += dy[m * ROWS + n]! * v.values[n * COLS + k]!;
      }
    }
    const exact = await run(w, 'exact', x, dy);
    const fast = await run(w, 'fast', x, dy);
    const errors = { exact: relativeMaxError(exact.y, yRef), fast: relativeMaxError(fast.y, yRef), dx: relativeMaxError(exact.dx, dxRef), dxFast: relativeMaxError(fast.dx, dxRef) };
    console.log(`${name}: relative error exact ${errors.exact.toExponential(1)}, fast ${errors.fast.toExponential(1)}, gradient ${errors.dx.toExponential(1)}`);
    assert.ok(errors.exact < 1e-5, `exact product: ${errors.exact}`);
    assert.ok(errors.fast < 2e-2, `fast product: ${errors.fast}`);
    // The gradient never goes through int8 activations: DequantizeLinear + float32 MatMul in both modes.
    assert.ok(errors.dx < 1e-5 && errors.dxFast < 1e-5, `gradient: ${errors.dx}, ${errors.dxFast}`);
  });
}
