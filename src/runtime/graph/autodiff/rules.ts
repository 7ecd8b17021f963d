/**
 * Vector-Jacobian rules, one small function per ONNX op, keyed by op type. A rule gets the
 * forward node, the gradients of its outputs (undefined where an output carries none) and
 * which inputs need a gradient; it appends standard ONNX ops to the graph and returns the
 * gradient of each input (undefined where none is needed or defined). Every gradient has its
 * input's shape: a broadcast input gets the output gradient summed back over the broadcast
 * axes ({@link unbroadcast}).
 *
 * Integer operands (axes, shapes, starts/ends, indices) must be initializers where a rule
 * needs their values; the graph builder makes them so.
 */
import { UsageError } from '../../errors';
import { broadcastAxes, type Graph, type GraphNode, type Value } from '../graph';

export interface VjpContext {
  readonly g: Graph;
  readonly node: GraphNode;
  readonly dOutputs: readonly (Value | undefined)[];
  readonly needs: readonly boolean[];
}

export type VjpRule = (ctx: VjpContext) => (Value | undefined)[];

type FloatDType = 'float32' | 'float64';

function constant(g: Graph, x: number, like: Value): Value {
  return g.scalar(x, 'grad_const', like.dtype as FloatDType);
}

function zerosLike(g: Graph, v: Value): Value {
  return g.expandLike(constant(g, 0, v), v);
}

/** The gradient `d` of a broadcast result, summed back to `input`'s shape. */
export function unbroadcast(g: Graph, d: Value, input: Value): Value {
  const axes = broadcastAxes(input.shape, d.shape);
  if (axes.length === 0) return d;
  const summed = g.reduceSum(d, axes, true);
  const extra = d.shape.length - input.shape.length;
  return extra > 0 ? g.squeeze(summed, Array.from({ length: extra }, (_, i) => i)) : summed;
}

/** The values of an int64 initializer operand (axes, starts, shapes). */
function constantInts(g: Graph, v: Value, node: GraphNode): number[] {
  const init = g.initializers.get(v.name);
  if (!init) throw new UsageError(`gradient of ${node.op} needs ${v.name} to be a constant (an initializer)`);
  return Array.from(init.data as BigInt64Array, Number);
}

function normalizeAxes(axes: readonly number[], rank: number): number[] {
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

function swapLastTwo(g: Graph, x: Value): Value {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return g.transpose(x, perm);
}

/**
 * dy @ w^T for a frozen 2-D weight w, as one Gemm with transB over dy's rows: a Transpose of an
 * initializer would be constant-folded by onnxruntime into a second copy of every weight.
 */
function timesWeightTransposed(g: Graph, dy: Value, w: Value): Value {
  const rows = w.shape[0];
  const flat = dy.shape.length === 2 ? dy : g.reshape(dy, ['rows', dy.shape[dy.shape.length - 1]]);
  const product = g.node('Gemm', [flat, w], { transB: 1 }, [{ dtype: dy.dtype, shape: [flat.shape[0], rows] }])[0];
  if (dy.shape.length === 2) return product;
  const shape = g.concat([g.shapeOf(dy, 0, dy.shape.length - 1), g.int64s([rows as number], 'rows')], 0);
  return g.node('Reshape', [product, shape], {}, [{ dtype: dy.dtype, shape: [...dy.shape.slice(0, -1), rows] }])[0];
}

/** Gradient of the elementwise unary ops, from the input x, the output y and dy. */
function unary(f: (g: Graph, dy: Value, x: Value, y: Value) => Value): VjpRule {
  return ({ g, node, dOutputs }) => [f(g, dOutputs[0]!, node.inputs[0], node.outputs[0])];
}

/** Gradient over reduced axes: dy (kept dims restored) expanded back to x's shape. */
function expandReduced(g: Graph, node: GraphNode, dy: Value): { dx: Value; axes: number[] } {
  const x = node.inputs[0];
  const rank = x.shape.length;
  const axes = node.inputs[1] ? normalizeAxes(constantInts(g, node.inputs[1], node), rank) : Array.from({ length: rank }, (_, i) => i);
  const keepdims = (node.attrs.keepdims ?? 1) !== 0;
  const kept = keepdims ? dy : g.unsqueeze(dy, axes);
  return { dx: g.expandLike(kept, x), axes };
}

const gradOf = (ctx: VjpContext) => ctx.dOutputs[0]!;

export const VJP_RULES: Readonly<Record<string, VjpRule>> = {
  Identity: (ctx) => [gradOf(ctx)],

  Add: ({ g, node, dOutputs, needs }) => {
    const [a, b] = node.inputs;
    const dy = dOutputs[0]!;
    return [needs[0] ? unbroadcast(g, dy, a) : undefined, needs[1] ? unbroadcast(g, dy, b) : undefined];
  },

  Sub: ({ g, node, dOutputs, needs }) => {
    const [a, b] = node.inputs;
    const dy = dOutputs[0]!;
    return [needs[0] ? unbroadcast(g, dy, a) : undefined, needs[1] ? unbroadcast(g, g.neg(dy), b) : undefined];
  },

  Mul: ({ g, node, dOutputs, needs }) => {
    const [a, b] = node.inputs;
    const dy = dOutputs[0]!;
    return [needs[0] ? unbroadcast(g, g.mul(dy, b), a) : undefined, needs[1] ? unbroadcast(g, g.mul(dy, a), b) : undefined];
  },

  Div: ({ g, node, dOutputs, needs }) => {
    const [a, b] = node.inputs;
    const y = node.outputs[0];
    const dy = dOutputs[0]!;
    // d(a/b)/db = -a/b^2 = -y/b
    return [needs[0] ? unbroadcast(g, g.div(dy, b), a) : undefined, needs[1] ? unbroadcast(g, g.neg(g.div(g.mul(dy, y), b)), b) : undefined];
  },

  Pow: ({ g, node, dOutputs, needs }) => {
    const [a, e] = node.inputs;
    const y = node.outputs[0];
    const dy = dOutputs[0]!;
    const da = needs[0] ? unbroadcast(g, g.mul(dy, powDerivative(g, a, e)), a) : undefined;
    const de = needs[1] ? unbroadcast(g, g.mul(g.mul(dy, y), g.log(a)), e) : undefined;
    return [da, de];
  },

  Neg: unary((g, dy) => g.neg(dy)),
  Sqrt: unary((g, dy, _x, y) => g.div(g.mul(dy, constant(g, 0.5, y)), y)),
  Reciprocal: unary((g, dy, _x, y) => g.neg(g.mul(dy, g.mul(y, y)))),
  Exp: unary((g, dy, _x, y) => g.mul(dy, y)),
  Log: unary((g, dy, x) => g.div(dy, x)),
  Sigmoid: unary((g, dy, _x, y) => g.mul(dy, g.mul(y, g.sub(constant(g, 1, y), y)))),
  Tanh: unary((g, dy, _x, y) => g.mul(dy, g.sub(constant(g, 1, y), g.mul(y, y)))),
  Sin: unary((g, dy, x) => g.mul(dy, g.cos(x))),
  Cos: unary((g, dy, x) => g.neg(g.mul(dy, g.sin(x)))),
  Cast: unary((g, dy, x) => g.cast(dy, x.dtype)),

  Softmax: ({ g, node, dOutputs }) => {
    const y = node.outputs[0];
    const dy = dOutputs[0]!;
    const axis = (node.attrs.axis as number | undefined) ?? -1;
    return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
  },

  LogSoftmax: ({ g, node, dOutputs }) => {
    const y = node.outputs[0];
    const dy = dOutputs[0]!;
    const axis = (node.attrs.axis as number | undefined) ?? -1;
    return [g.sub(dy, g.mul(g.exp(y), g.reduceSum(dy, [axis], true)))];
  },

  MatMul: ({ g, node, dOutputs, needs }) => {
    const [a, b] = node.inputs;
    const dy = dOutputs[0]!;
    return [
      needs[0] ? unbroadcast(g, g.isInitializer(b) && b.shape.length === 2 ? timesWeightTransposed(g, dy, b) : g.matMul(dy, swapLastTwo(g, b)), a) : undefined,
      needs[1] ? unbroadcast(g, g.matMul(swapLastTwo(g, a), dy), b) : undefined,
    ];
  },

  ReduceSum: ({ g, node, dOutputs }) => [expandReduced(g, node, dOutputs[0]!).dx],

  // The gradient goes to the maxima, shared equally where several positions tie.
  ReduceMax: ({ g, node, dOutputs }) => {
    const x = node.inputs[0];
    const { dx, axes } = expandReduced(g, node, dOutputs[0]!);
    const y = node.outputs[0];
    const yKept = (node.attrs.keepdims ?? 1) !== 0 ? y : g.unsqueeze(y, axes);
    const atMax = g.cast(g.equal(x, yKept), x.dtype);
    return [g.div(g.mul(dx, atMax), g.reduceSum(atMax, axes, true))];
  },

  ReduceMean: ({ g, node, dOutputs }) => {
    const x = node.inputs[0];
    const { dx, axes } = expandReduced(g, node, dOutputs[0]!);
    const dims = axes.map((a) => x.shape[a]);
    if (dims.every((d) => typeof d === 'number')) return [g.mul(dx, constant(g, 1 / (dims as number[]).reduce((p, q) => p * q, 1), x))];
    const counted = g.node('ReduceProd', [g.gather(g.shapeOf(x), g.int64s(axes, 'reduced_axes'))], { keepdims: 0 }, [{ dtype: 'int64', shape: [] }])[0];
    return [g.div(dx, g.cast(counted, x.dtype))];
  },

  CumSum: ({ g, node, dOutputs }) => {
    const reverse = (node.attrs.reverse ?? 0) === 0 ? 1 : 0;
    const exclusive = node.attrs.exclusive ?? 0;
    const dy = dOutputs[0]!;
    return [g.node('CumSum', [dy, node.inputs[1]], { reverse, exclusive }, [{ dtype: dy.dtype, shape: dy.shape }])[0]];
  },

  Transpose: ({ g, node, dOutputs }) => {
    const perm = node.attrs.perm as readonly number[];
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [g.transpose(dOutputs[0]!, inverse)];
  },

  Reshape: ({ g, node, dOutputs }) => [g.reshapeLike(dOutputs[0]!, node.inputs[0])],
  Flatten: ({ g, node, dOutputs }) => [g.reshapeLike(dOutputs[0]!, node.inputs[0])],

  Unsqueeze: ({ g, node, dOutputs }) => [g.squeeze(dOutputs[0]!, constantInts(g, node.inputs[1], node))],

  Squeeze: ({ g, node, dOutputs }) =>
    node.inputs[1] ? [g.unsqueeze(dOutputs[0]!, constantInts(g, node.inputs[1], node))] : [g.reshapeLike(dOutputs[0]!, node.inputs[0])],

  Expand: ({ g, node, dOutputs }) => [unbroadcast(g, dOutputs[0]!, node.inputs[0])],

  Concat: ({ g, node, dOutputs, needs }) => {
    const dy = dOutputs[0]!;
    const rank = dy.shape.length;
    const axis = node.attrs.axis as number;
    const ax = axis < 0 ? axis + rank : axis;
    // Split sizes from the run-time shapes, so symbolic lengths split as well as numeric ones.
    const sizes = g.concat(node.inputs.map((x) => g.shapeOf(x, ax, ax + 1)), 0);
    const parts = g.node('Split', [dy, sizes], { axis: ax }, node.inputs.map((x) => ({ dtype: dy.dtype, shape: x.shape })));
    return parts.map((p, k) => (needs[k] ? p : undefined));
  },

  Split: ({ g, node, dOutputs }) => {
    const axis = (node.attrs.axis as number | undefined) ?? 0;
    return [g.concat(dOutputs.map((d, k) => d ?? zerosLike(g, node.outputs[k])), axis)];
  },

  Slice: ({ g, node, dOutputs }) => {
    const [x, startsV, endsV, axesV, stepsV] = node.inputs;
    const rank = x.shape.length;
    const starts = constantInts(g, startsV, node);
    const ends = constantInts(g, endsV, node);
    const axes = axesV ? constantInts(g, axesV, node).map((a) => (a < 0 ? a + rank : a)) : starts.map((_, i) => i);
    if (stepsV && constantInts(g, stepsV, node).some((s) => s !== 1)) throw new UsageError(`gradient of Slice supports step 1 only (node producing ${node.outputs[0].name})`);
    const pads = new Array<number>(2 * rank).fill(0);
    axes.forEach((a, k) => {
      const d = x.shape[a];
      if (typeof d !== 'number') throw new UsageError(`gradient of Slice along symbolic dim ${d} is not supported (node producing ${node.outputs[0].name})`);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      const begin = clamp(starts[k]);
      pads[a] = begin;
      pads[rank + a] = d - Math.max(clamp(ends[k]), begin);
    });
    const dy = dOutputs[0]!;
    return [g.node('Pad', [dy, g.int64s(pads, 'pads')], {}, [{ dtype: dy.dtype, shape: x.shape }])[0]];
  },

  Gather: ({ g, node, dOutputs }) => {
    const [data, indices] = node.inputs;
    const rank = data.shape.length;
    const axis = (node.attrs.axis as number | undefined) ?? 0;
    const ax = axis < 0 ? axis + rank : axis;
    if (indices.shape.length > 1) throw new UsageError(`gradient of Gather supports scalar or 1-D indices, got [${indices.shape}]`);
    // Make the gathered axis explicit and the indices a vector along it, then scatter-add.
    const dy = indices.shape.length === 0 ? g.unsqueeze(dOutputs[0]!, [ax]) : dOutputs[0]!;
    const along = Array.from({ length: rank }, (_, i) => (i === ax ? (indices.shape[0] ?? 1) : 1));
    const index = g.expandLike(g.reshape(indices, along), dy);
    return [scatterAdd(g, data, index, dy, ax), undefined];
  },

  GatherElements: ({ g, node, dOutputs }) => {
    const [data, indices] = node.inputs;
    const axis = (node.attrs.axis as number | undefined) ?? 0;
    return [scatterAdd(g, data, indices, dOutputs[0]!, axis), undefined];
  },

  Where: ({ g, node, dOutputs, needs }) => {
    const [cond, a, b] = node.inputs;
    const dy = dOutputs[0]!;
    const zero = constant(g, 0, dy);
    return [
      undefined,
      needs[1] ? unbroadcast(g, g.where(cond, dy, zero), a) : undefined,
      needs[2] ? unbroadcast(g, g.where(cond, zero, dy), b) : undefined,
    ];
  },
};

/**
 * d(a^e)/da = e a^(e-1). A constant scalar exponent (RMSNorm's square) becomes plain
 * multiplications: onnxruntime's general Pow is several times slower than Mul.
 */
function powDerivative(g: Graph, a: Value, e: Value): Value {
  const init = g.initializers.get(e.name);
  if (!init || init.data.length !== 1) return g.mul(e, g.pow(a, g.sub(e, constant(g, 1, e))));
  const exponent = Number(init.data[0]);
  if (exponent === 2) return g.mul(a, constant(g, 2, a));
  return g.mul(g.pow(a, constant(g, exponent - 1, e)), constant(g, exponent, a));
}

/** Zeros shaped like `data` with `updates` added at `indices` along `axis` (repeats add up). */
function scatterAdd(g: Graph, data: Value, indices: Value, updates: Value, axis: number): Value {
  return g.node('ScatterElements', [zerosLike(g, data), indices, updates], { axis, reduction: 'add' }, [{ dtype: data.dtype, shape: data.shape }])[0];
}
