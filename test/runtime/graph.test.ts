import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph, broadcastAxes } from '../../src/runtime/graph/graph';
import { serializeModel, writeModelWithExternalData } from '../../src/runtime/graph/serialize';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function run(graph: Graph, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(serializeModel(graph));
  return session.run(feeds) as Promise<Record<string, ort.Tensor>>;
}

test('builder infers broadcast shapes with symbolic dims and runs on onnxruntime', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 3]);
  const w = g.initializer('w', 'float32', [3, 2], Float32Array.of(1, 2, 3, 4, 5, 6));
  const b = g.initializer('b', 'float32', [2], Float32Array.of(0.5, -0.5));
  const y = g.add(g.matMul(x, w), b);
  assert.deepEqual(y.shape, ['batch', 2]);
  assert.deepEqual(broadcastAxes(b.shape, y.shape), [0]);
  g.output(y, 'y');
  const out = await run(g, { x: new ort.Tensor('float32', Float32Array.of(1, 0, 0, 0, 1, 1), [2, 3]) });
  assert.deepEqual(Array.from(out.y.data as Float32Array), [1.5, 1.5, 8.5, 9.5]);
  assert.deepEqual(out.y.dims, [2, 2]);
});

test('reshape copies symbolic dims and infers at most one', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', ['batch', 'seq', 6]);
  const r = g.reshape(x, ['batch', 'seq', 2, 3]);
  const t = g.transpose(r, [0, 2, 1, 3]);
  assert.deepEqual(t.shape, ['batch', 2, 'seq', 3]);
  const back = g.reshape(g.transpose(t, [0, 2, 1, 3]), ['batch', 'seq', 6]);
  const flat = g.reshape(back, ['batch*seq', 6]);
  g.output(flat, 'flat');
  assert.throws(() => g.reshape(x, ['a', 'b', 6]), /more than one/);
  const data = Float32Array.from({ length: 24 }, (_, i) => i);
  const out = await run(g, { x: new ort.Tensor('float32', data, [2, 2, 6]) });
  assert.deepEqual(out.flat.dims, [4, 6]);
  assert.deepEqual(Array.from(out.flat.data as Float32Array), Array.from(data));
});

test('different symbolic dims do not broadcast', () => {
  const g = new Graph();
  const a = g.input('a', 'float32', ['seq', 4]);
  const b = g.input('b', 'float32', ['past', 4]);
  assert.throws(() => g.add(a, b), /cannot broadcast/);
});

test('concat names the summed dim; nodes are recorded as plain data in order', async () => {
  const g = new Graph();
  const past = g.input('past', 'float32', [1, 'past', 2]);
  const cur = g.input('cur', 'float32', [1, 'seq', 2]);
  const all = g.concat([past, cur], 1);
  assert.deepEqual(all.shape, [1, 'past+seq', 2]);
  const s = g.reduceSum(g.mul(all, all), [1], false);
  g.output(s, 's');
  assert.deepEqual(g.nodes.map((n) => n.op), ['Concat', 'Mul', 'ReduceSum', 'Identity']);
  assert.equal(g.producer(s)?.op, 'ReduceSum');
  assert.equal(g.producer(past), undefined);
  const out = await run(g, {
    past: new ort.Tensor('float32', new Float32Array(0), [1, 0, 2]),
    cur: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 2, 2]),
  });
  assert.deepEqual(Array.from(out.s.data as Float32Array), [10, 20]);
});

test('a graph written with external data runs like the in-memory one', async () => {
  const g = new Graph();
  const x = g.input('x', 'float32', [1, 512]);
  const w = g.initializer('w', 'float32', [512, 3], Float32Array.from({ length: 1536 }, (_, i) => Math.sin(i)));
  const b = g.initializer('b', 'float32', [3], Float32Array.of(1, 2, 3));
  g.output(g.add(g.matMul(x, w), b), 'y');
  const feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: 512 }, (_, i) => Math.cos(i)), [1, 512]) };
  const dir = mkdtempSync(join(tmpdir(), 'tagllm-graph-test-'));
  try {
    writeModelWithExternalData(g, join(dir, 'model.onnx'));
    assert.ok(statSync(join(dir, 'model.onnx')).size < 1024, 'the weight went to the data file');
    assert.equal(statSync(join(dir, 'model.onnx.data')).size, 512 * 3 * 4);
    const fromDisk = (await (await ort.InferenceSession.create(join(dir, 'model.onnx'))).run(feeds)).y;
    const inMemory = (await run(g, feeds)).y;
    assert.deepEqual(Array.from(fromDisk.data as Float32Array), Array.from(inMemory.data as Float32Array));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
