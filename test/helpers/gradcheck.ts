// Central finite differences against the gradients `grad` builds, run through onnxruntime.
import * as ort from 'onnxruntime-node';
import type { Graph, Value } from '../../src/runtime/graph/graph';
import { grad } from '../../src/runtime/graph/autodiff/grad';
import { serializeModel } from '../../src/runtime/graph/serialize';

export type Feeds = Record<string, ort.Tensor>;

/** A deterministic generator (mulberry32) so every run checks the same numbers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF64(rand: () => number, n: number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

export interface GradcheckResult {
  /** Largest |analytic - numeric| / (atol/rtol + |numeric|)-style error, per wrt input. */
  readonly worst: number;
  readonly maxAbsDiff: number;
  readonly checked: number;
}

/**
 * Projects `y` on a fixed random tensor of `yDims` (loss = sum(y * r), so every output
 * element matters with its own weight), differentiates with respect to `wrt`, and compares
 * each element of each gradient with (L(x + eps) - L(x - eps)) / 2 eps.
 * Returns the worst error measured as |a - n| / (atol + rtol |n|): the check passes below 1.
 */
export async function gradcheck(
  g: Graph,
  y: Value,
  yDims: readonly number[],
  wrt: readonly Value[],
  feeds: Feeds,
  opts: { eps: number; atol: number; rtol: number; seed?: number },
): Promise<GradcheckResult> {
  const rand = seededRandom(opts.seed ?? 7);
  const n = yDims.reduce((a, b) => a * b, 1);
  const dtype = y.dtype as 'float32' | 'float64';
  // A graph input rather than an initializer, so it takes y's (possibly symbolic) shape.
  const r = g.input('projection', dtype, y.shape);
  const projection = new ort.Tensor(dtype, dtype === 'float64' ? randomF64(rand, n) : Float32Array.from(randomF64(rand, n)), [...yDims]);
  feeds = { ...feeds, projection };
  const loss = g.reduceSum(g.mul(y, r), yDims.map((_, i) => i), false);
  const grads = grad(g, loss, wrt);
  g.output(loss, 'loss');
  grads.forEach((d, i) => g.output(d, `grad_${i}`));
  const session = await ort.InferenceSession.create(serializeModel(g), { graphOptimizationLevel: 'disabled' });
  try {
    const out = await session.run(feeds);
    let worst = 0;
    let maxAbsDiff = 0;
    let checked = 0;
    for (const [i, w] of wrt.entries()) {
      const analytic = out[`grad_${i}`].data as Float64Array | Float32Array;
      const base = feeds[w.name];
      const x = base.data as Float64Array | Float32Array;
      if (analytic.length !== x.length) throw new Error(`grad_${i} has ${analytic.length} elements, ${w.name} has ${x.length}`);
      for (let k = 0; k < x.length; k++) {
        const at = async (delta: number) => {
          const moved = x.slice();
          moved[k] += delta;
          const res = await session.run({ ...feeds, [w.name]: new ort.Tensor(base.type as 'float64', moved, base.dims) }, ['loss']);
          return Number((res.loss.data as Float64Array)[0]);
        };
        const numeric = ((await at(opts.eps)) - (await at(-opts.eps))) / (2 * opts.eps);
        const diff = Math.abs(analytic[k] - numeric);
        maxAbsDiff = Math.max(maxAbsDiff, diff);
        worst = Math.max(worst, diff / (opts.atol + opts.rtol * Math.abs(numeric)));
        checked++;
      }
    }
    return { worst, maxAbsDiff, checked };
  } finally {
    await session.release();
  }
}

export function f64(data: Float64Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float64', data, dims);
}

export function i64(values: readonly number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}
