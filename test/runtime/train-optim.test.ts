import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW } from '../../src/runtime/train/adamw';
import { cosineWithWarmup } from '../../src/runtime/train/schedule';
import { GradientAccumulator } from '../../src/runtime/train/accumulate';
import { SeededRng } from '../../src/runtime/train/rng';

test('AdamW first step moves each parameter by lr against the gradient sign (bias correction)', () => {
  const p = new Map([['t', Float32Array.from([1, -2, 3])]]);
  const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
  opt.update(p, new Map([['t', Float32Array.from([0.5, -3, 1e-3])]]), 0.1);
  // m̂ = g, v̂ = g², so the step is lr·g/|g| whatever the gradient's size
  assert.ok(Math.abs(p.get('t')![0] - 0.9) < 1e-6);
  assert.ok(Math.abs(p.get('t')![1] - -1.9) < 1e-6);
  assert.ok(Math.abs(p.get('t')![2] - 2.9) < 1e-5);
});

test('AdamW second step matches the hand-computed bias-corrected update', () => {
  const p = new Map([['w', Float32Array.from([0])]]);
  const opt = new AdamW({ beta1: 0.9, beta2: 0.99, eps: 0, weightDecay: 0 });
  opt.update(p, new Map([['w', Float32Array.from([1])]]), 1); // p = -1
  opt.update(p, new Map([['w', Float32Array.from([3])]]), 1);
  // m = 0.9·0.1 + 0.1·3 = 0.39, m̂ = 0.39/0.19; v = 0.99·0.01 + 0.01·9 = 0.0999, v̂ = 0.0999/0.0199
  const expected = -1 - 0.39 / 0.19 / Math.sqrt(0.0999 / 0.0199);
  assert.ok(Math.abs(p.get('w')![0] - expected) < 1e-5, `${p.get('w')![0]} vs ${expected}`);
});

test('AdamW weight decay is decoupled: a zero gradient still shrinks by (1 - lr·wd)', () => {
  const p = new Map([['t', Float32Array.from([2])]]);
  const opt = new AdamW({ beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
  opt.update(p, new Map([['t', Float32Array.from([0])]]), 0.5);
  assert.ok(Math.abs(p.get('t')![0] - 2 * (1 - 0.05)) < 1e-6);
});

test('AdamW minimises a quadratic and its state round-trips', () => {
  const target = [3, -1, 0.5];
  const run = (steps: number, opt: AdamW, p: Map<string, Float32Array>) => {
    for (let s = 0; s < steps; s++) {
      const x = p.get('x')!;
      opt.update(p, new Map([['x', x.map((v, i) => 2 * (v - target[i]))]]), 0.05);
    }
  };
  const p1 = new Map([['x', new Float32Array(3)]]);
  const a = new AdamW();
  run(600, a, p1);
  target.forEach((t, i) => assert.ok(Math.abs(p1.get('x')![i] - t) < 1e-2));
  // split run with a state copy gives the same numbers
  const p2 = new Map([['x', new Float32Array(3)]]);
  const b = new AdamW();
  run(300, b, p2);
  const c = new AdamW();
  c.setState(b.getState());
  const p3 = new Map([['x', Float32Array.from(p2.get('x')!)]]);
  run(300, c, p3);
  assert.deepEqual(Array.from(p3.get('x')!), Array.from(p1.get('x')!));
});

test('cosine schedule: linear warm-up to the peak, then decay to zero', () => {
  const total = 100;
  const warm = 3; // 3% of 100
  assert.ok(Math.abs(cosineWithWarmup(0, total, 1) - 1 / warm) < 1e-12);
  assert.equal(cosineWithWarmup(warm - 1, total, 1), 1);
  assert.equal(cosineWithWarmup(warm, total, 1), 1);
  const mid = warm + (total - warm) / 2;
  assert.ok(Math.abs(cosineWithWarmup(mid, total, 1) - 0.5) < 1e-12);
  assert.ok(cosineWithWarmup(total, total, 1) < 1e-12);
  for (let s = warm; s < total; s++) assert.ok(cosineWithWarmup(s + 1, total, 1) <= cosineWithWarmup(s, total, 1));
});

test('accumulated micro-batches give the mean gradient of the whole batch', () => {
  const acc = new GradientAccumulator();
  acc.add(new Map([['t', Float32Array.from([1, 2])]]), 1);
  acc.add(new Map([['t', Float32Array.from([5, 6])]]), 3);
  assert.equal(acc.count, 4);
  assert.deepEqual(Array.from(acc.mean().get('t')!), [1.5, 2]);
  acc.reset();
  assert.equal(acc.count, 0);
});

test('seeded RNG repeats from a saved state and shuffles into a permutation', () => {
  const r = new SeededRng(42);
  r.next();
  const saved = r.getState();
  const a = [r.next(), r.next(), r.next()];
  r.setState(saved);
  assert.deepEqual([r.next(), r.next(), r.next()], a);
  const perm = new SeededRng(7).permutation(50);
  assert.deepEqual([...perm].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(perm, new SeededRng(8).permutation(50));
  let mean = 0;
  const g = new SeededRng(1);
  for (let i = 0; i < 20000; i++) mean += g.next();
  assert.ok(Math.abs(mean / 20000 - 0.5) < 0.01);
});
