// Every op's vector-Jacobian rule against central finite differences, in float64 on
// onnxruntime's CPU kernels (eps 1e-6; pass when |analytic - numeric| < 1e-7 + 1e-6 |numeric|).
// Shapes are small and random; broadcasting and symbolic dims are covered where the op allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph, type Shape, type Value } from '../../src/runtime/graph/graph';
import { grad } from '../../src/runtime/graph/autodiff/grad';
import { f64, gradcheck, i64, randomF64, seededRandom, type Feeds } from '../helpers/gradcheck';

interface Case {
  readonly y: Value;
  readonly yDims: number[];
  readonly wrt: Value[];
  readonly feeds: Feeds;
}

/** A float64 graph input with random contents in [lo, hi], fed with the given numeric dims. */
function makeInputs(g: Graph, feeds: Feeds, rand: () => number) {
  return (name: string, shape: Shape, dims: number[], lo = -1, hi = 1): Value => {
    const v = g.input(name, 'float64', shape);
    feeds[name] = f64(randomF64(rand, dims.reduce((a, b) => a * b, 1), lo, hi), dims);
    return v;
  };
}

function opCase(name: string, build: (g: Graph, input: ReturnType<typeof makeInputs>, feeds: Feeds) => Omit<Case, 'feeds'>) {
  test(`VJP of ${name} matches central differences (float64)`, async () => {
    const g = new Graph(name);
    const feeds: Feeds = {};
    const c = build(g, makeInputs(g, feeds, seededRandom(name.length * 101 + name.charCodeAt(0))), feeds);
    const r = await gradcheck(g, c.y, c.yDims, c.wrt, feeds, { eps: 1e-6, atol: 1e-7, rtol: 1e-6 });
    assert.ok(r.checked > 0);
    assert.ok(r.worst < 1, `${name}: worst error ${r.worst} (max abs diff ${r.maxAbsDiff})`);
  });
}

const c = (g: Graph, x: number) => g.scalar(x, 'c', 'float64');

opCase('Add with broadcasting', (g, input) => {
  const a = input('a', [2, 1, 4], [2, 1, 4]);
  const b = input('b', [3, 1], [3, 1]);
  return { y: g.add(a, b), yDims: [2, 3, 4], wrt: [a, b] };
});
opCase('Add of a lower-rank operand over symbolic dims', (g, input) => {
  const a = input('a', ['batch', 'seq', 4], [2, 3, 4]);
  const b = input('b', [4], [4]);
  return { y: g.add(a, b), yDims: [2, 3, 4], wrt: [a, b] };
});
opCase('Sub with broadcasting', (g, input) => {
  const a = input('a', [2, 3], [2, 3]);
  const b = input('b', [2, 1], [2, 1]);
  return { y: g.sub(a, b), yDims: [2, 3], wrt: [a, b] };
});
opCase('Mul with broadcasting', (g, input) => {
  const a = input('a', [2, 3, 4], [2, 3, 4]);
  const b = input('b', [1, 3, 1], [1, 3, 1]);
  return { y: g.mul(a, b), yDims: [2, 3, 4], wrt: [a, b] };
});
opCase('Mul of a value by itself', (g, input) => {
  const a = input('a', [5], [5]);
  return { y: g.mul(a, a), yDims: [5], wrt: [a] };
});
opCase('Div with broadcasting', (g, input) => {
  const a = input('a', [2, 3], [2, 3]);
  const b = input('b', [3], [3], 0.5, 2);
  return { y: g.div(a, b), yDims: [2, 3], wrt: [a, b] };
});
opCase('Pow by the constant 2 (the square RMSNorm takes)', (g, input) => {
  const a = input('a', [2, 3], [2, 3]);
  return { y: g.pow(a, c(g, 2)), yDims: [2, 3], wrt: [a] };
});
opCase('Pow by another constant exponent', (g, input) => {
  const a = input('a', [2, 3], [2, 3], 0.5, 2);
  return { y: g.pow(a, c(g, -1.5)), yDims: [2, 3], wrt: [a] };
});
opCase('Pow of two inputs', (g, input) => {
  const a = input('a', [2, 3], [2, 3], 0.5, 2);
  const e = input('e', [3], [3], -1.5, 1.5);
  return { y: g.pow(a, e), yDims: [2, 3], wrt: [a, e] };
});
for (const [op, lo, hi] of [
  ['Neg', -1, 1],
  ['Sqrt', 0.3, 2],
  ['Reciprocal', 0.3, 2],
  ['Exp', -1, 1],
  ['Log', 0.3, 2],
  ['Sigmoid', -3, 3],
  ['Tanh', -2, 2],
  ['Sin', -3, 3],
  ['Cos', -3, 3],
  ['Identity', -1, 1],
] as const) {
  opCase(op, (g, input) => {
    const x = input('x', [2, 5], [2, 5], lo, hi);
    return { y: g.node(op, [x], {}, [{ dtype: 'float64', shape: x.shape }])[0], yDims: [2, 5], wrt: [x] };
  });
}
opCase('Cast (float64 to float64)', (g, input) => {
  const x = input('x', [4], [4]);
  return { y: g.cast(x, 'float64'), yDims: [4], wrt: [x] };
});
opCase('Softmax over the last axis', (g, input) => {
  const x = input('x', [2, 3, 5], [2, 3, 5], -2, 2);
  return { y: g.softmax(x, -1), yDims: [2, 3, 5], wrt: [x] };
});
opCase('Softmax over a middle axis', (g, input) => {
  const x = input('x', [2, 3, 4], [2, 3, 4], -2, 2);
  return { y: g.softmax(x, 1), yDims: [2, 3, 4], wrt: [x] };
});
opCase('LogSoftmax', (g, input) => {
  const x = input('x', [3, 6], [3, 6], -2, 2);
  return { y: g.node('LogSoftmax', [x], { axis: -1 }, [{ dtype: 'float64', shape: x.shape }])[0], yDims: [3, 6], wrt: [x] };
});
opCase('MatMul of a batch by a matrix', (g, input) => {
  const a = input('a', [2, 3, 4], [2, 3, 4]);
  const b = input('b', [4, 5], [4, 5]);
  return { y: g.matMul(a, b), yDims: [2, 3, 5], wrt: [a, b] };
});
opCase('MatMul with batch broadcasting on both sides (grouped attention)', (g, input) => {
  const a = input('a', [2, 2, 3, 4, 5], [2, 2, 3, 4, 5]);
  const b = input('b', [2, 2, 1, 5, 4], [2, 2, 1, 5, 4]);
  return { y: g.matMul(a, b), yDims: [2, 2, 3, 4, 4], wrt: [a, b] };
});
opCase('MatMul of a matrix by a batch', (g, input) => {
  const a = input('a', [3, 4], [3, 4]);
  const b = input('b', ['batch', 4, 2], [2, 4, 2]);
  return { y: g.matMul(a, b), yDims: [2, 3, 2], wrt: [a, b] };
});
opCase('MatMul by a frozen weight (an initializer)', (g, input) => {
  const a = input('a', ['batch', 'seq', 4], [2, 3, 4]);
  const w = g.initializer('w', 'float64', [4, 5], randomF64(seededRandom(3), 20));
  return { y: g.matMul(a, w), yDims: [2, 3, 5], wrt: [a] };
});
opCase('MatMul of a matrix by a frozen weight', (g, input) => {
  const a = input('a', [3, 4], [3, 4]);
  const w = g.initializer('w', 'float64', [4, 2], randomF64(seededRandom(5), 8));
  return { y: g.matMul(a, w), yDims: [3, 2], wrt: [a] };
});
opCase('ReduceSum keeping dims', (g, input) => {
  const x = input('x', [2, 3, 4], [2, 3, 4]);
  return { y: g.reduceSum(x, [0, 2], true), yDims: [1, 3, 1], wrt: [x] };
});
opCase('ReduceMax keeping dims', (g, input) => {
  const x = input('x', [2, 3, 4], [2, 3, 4]);
  return { y: g.reduceMax(x, [0, 2], true), yDims: [1, 3, 1], wrt: [x] };
});
opCase('ReduceMax dropping dims', (g, input) => {
  const x = input('x', [2, 3, 4], [2, 3, 4]);
  return { y: g.reduceMax(x, [-1], false), yDims: [2, 3], wrt: [x] };
});
opCase('ReduceSum dropping dims', (g, input) => {
  const x = input('x', [2, 3, 4], [2, 3, 4]);
  return { y: g.reduceSum(x, [-1], false), yDims: [2, 3], wrt: [x] };
});
opCase('ReduceMean over a numeric axis', (g, input) => {
  const x = input('x', ['batch', 'seq', 4], [2, 3, 4]);
  return { y: g.reduceMean(x, [-1], true), yDims: [2, 3, 1], wrt: [x] };
});
opCase('ReduceMean over symbolic axes', (g, input) => {
  const x = input('x', ['batch', 'seq', 4], [2, 3, 4]);
  return { y: g.reduceMean(x, [0, 1], false), yDims: [4], wrt: [x] };
});
opCase('CumSum', (g, input) => {
  const x = input('x', [2, 5], [2, 5]);
  return { y: g.cumSum(x, 1), yDims: [2, 5], wrt: [x] };
});
opCase('Transpose', (g, input) => {
  const x = input('x', [2, 3, 4], [2, 3, 4]);
  return { y: g.transpose(x, [2, 0, 1]), yDims: [4, 2, 3], wrt: [x] };
});
opCase('Reshape with a symbolic dim', (g, input) => {
  const x = input('x', ['batch', 6], [2, 6]);
  return { y: g.reshape(x, ['batch', 2, 3]), yDims: [2, 2, 3], wrt: [x] };
});
opCase('Unsqueeze and Squeeze', (g, input) => {
  const x = input('x', [3, 1, 2], [3, 1, 2]);
  return { y: g.unsqueeze(g.squeeze(x, [1]), [0]), yDims: [1, 3, 2], wrt: [x] };
});
opCase('Expand', (g, input) => {
  const x = input('x', [3, 1], [3, 1]);
  const like = input('like', [2, 3, 4], [2, 3, 4]);
  return { y: g.mul(g.expandLike(x, like), like), yDims: [2, 3, 4], wrt: [x, like] };
});
opCase('Concat along a symbolic axis', (g, input) => {
  const a = input('a', [2, 'seq'], [2, 3]);
  const b = input('b', [2, 2], [2, 2]);
  return { y: g.concat([a, b, a], 1), yDims: [2, 8], wrt: [a, b] };
});
opCase('Split', (g, input) => {
  const x = input('x', [2, 5], [2, 5]);
  const [p, q] = g.node('Split', [x, g.int64s([2, 3])], { axis: 1 }, [{ dtype: 'float64', shape: [2, 2] }, { dtype: 'float64', shape: [2, 3] }]);
  return { y: g.add(g.reduceSum(p, [1], false), g.reduceSum(g.mul(q, q), [1], false)), yDims: [2], wrt: [x] };
});
opCase('Split with an unused output', (g, input) => {
  const x = input('x', [2, 5], [2, 5]);
  const [, q] = g.node('Split', [x, g.int64s([2, 3])], { axis: 1 }, [{ dtype: 'float64', shape: [2, 2] }, { dtype: 'float64', shape: [2, 3] }]);
  return { y: q, yDims: [2, 3], wrt: [x] };
});
opCase('Slice with negative and clamped bounds', (g, input) => {
  const x = input('x', [3, 6], [3, 6]);
  return { y: g.slice(x, [1, -4], [99, -1], [0, 1]), yDims: [2, 3], wrt: [x] };
});
opCase('Gather along an axis with repeated indices', (g, input, feeds) => {
  const x = input('x', [2, 5, 3], [2, 5, 3]);
  const idx = g.input('idx', 'int64', [4]);
  feeds.idx = i64([4, 0, 4, 2], [4]);
  return { y: g.gather(x, idx, 1), yDims: [2, 4, 3], wrt: [x] };
});
opCase('Gather of one row by a scalar index', (g, input, feeds) => {
  const x = input('x', [5, 3], [5, 3]);
  const idx = g.input('idx', 'int64', []);
  feeds.idx = i64([3], []);
  return { y: g.gather(x, idx, 0), yDims: [3], wrt: [x] };
});
opCase('GatherElements', (g, input, feeds) => {
  const x = input('x', [2, 5, 3], [2, 5, 3]);
  const idx = g.input('idx', 'int64', [2, 2, 3]);
  feeds.idx = i64([4, 0, 1, 4, 4, 2, 0, 0, 3, 1, 2, 2], [2, 2, 3]);
  return { y: g.node('GatherElements', [x, idx], { axis: 1 }, [{ dtype: 'float64', shape: [2, 2, 3] }])[0], yDims: [2, 2, 3], wrt: [x] };
});
opCase('Where with broadcasting', (g, input, feeds) => {
  const a = input('a', [2, 3], [2, 3]);
  const b = input('b', [3], [3]);
  const cond = g.input('cond', 'bool', [2, 3]);
  feeds.cond = new ort.Tensor('bool', Uint8Array.from([1, 0, 1, 0, 0, 1]), [2, 3]);
  return { y: g.where(cond, a, b), yDims: [2, 3], wrt: [a, b] };
});
opCase('a chain that reuses values (RMSNorm-like)', (g, input) => {
  const x = input('x', ['batch', 'seq', 4], [2, 3, 4]);
  const w = input('w', [4], [4]);
  const variance = g.reduceMean(g.pow(x, c(g, 2)), [-1]);
  return { y: g.mul(g.div(x, g.sqrt(g.add(variance, c(g, 1e-5)))), w), yDims: [2, 3, 4], wrt: [x, w] };
});

test('grad skips branches that do not reach wrt and never differentiates initializers', () => {
  const g = new Graph('frozen');
  const x = g.input('x', 'float32', [2, 3]);
  const w = g.initializer('w', 'float32', [3, 3], new Float32Array(9));
  const loss = g.reduceSum(g.matMul(x, w), [0, 1], false);
  const before = g.nodes.length;
  grad(g, loss, [x]);
  // dX = dY @ W^T is the one matrix product; none is spent on a gradient for w.
  const added = g.nodes.slice(before);
  assert.equal(added.filter((n) => n.op === 'MatMul' || n.op === 'Gemm').length, 1);
  assert.throws(() => grad(g, loss, [w]), /initializer/);
});

test('grad names the op that has no rule', () => {
  const g = new Graph('norule');
  const x = g.input('x', 'float32', [3]);
  const y = g.node('Erf', [x], {}, [{ dtype: 'float32', shape: [3] }])[0];
  assert.throws(() => grad(g, g.reduceSum(y, [0], false), [x]), /no gradient rule for ONNX op Erf/);
});

test('grad of a loss that does not depend on wrt is zeros of its shape', async () => {
  const g = new Graph('unrelated');
  const x = g.input('x', 'float64', [3]);
  const z = g.input('z', 'float64', [3]);
  const feeds: Feeds = { x: f64(Float64Array.of(1, 2, 3), [3]), z: f64(Float64Array.of(4, 5, 6), [3]) };
  const r = await gradcheck(g, g.mul(z, z), [3], [x], feeds, { eps: 1e-6, atol: 1e-12, rtol: 0 });
  assert.equal(r.maxAbsDiff, 0);
});
