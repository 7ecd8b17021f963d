/**
 * A small typed builder for ONNX graphs over standard ops (default domain, opset 21) and a few
 * onnxruntime contrib ops ({@link Graph.contribNode}).
 *
 * The contract, for code that builds forward graphs (src/runtime/llama/) and for code that
 * walks them backwards (src/runtime/graph/autodiff/):
 *
 * - A {@link Value} is an immutable handle: a unique `name`, a `dtype` and a static `shape`.
 *   Dimensions are numbers or symbolic names ('batch', 'seq', 'past', 'past+seq'). The builder
 *   infers each op's output shape at build time, broadcasting right-aligned as ONNX does; two
 *   different symbolic names never broadcast against each other (that throws), so a VJP rule
 *   can compare an input's shape with the output's to find which axes a broadcast expanded
 *   (see {@link broadcastAxes}).
 * - Every op is recorded as plain data, a {@link GraphNode} `{ op, inputs, outputs, attrs }`,
 *   appended to `graph.nodes` in creation order, which is a topological order. Walk it in
 *   reverse for gradients, and keep appending to the same graph (backward ops, new outputs)
 *   after the forward part is built. `graph.producer(v)` finds the node that made a value;
 *   graph inputs and initializers have none.
 * - Numeric attributes are ints unless the name is in {@link FLOAT_ATTRIBUTES}.
 *   Int64 tensor operands that ONNX takes as inputs (Reshape's shape, Slice's starts, the axes
 *   of Unsqueeze/Squeeze/Reduce*) are small initializers made by {@link Graph.int64s}.
 * - Graph inputs come from {@link Graph.input}; model weights and constants are initializers
 *   ({@link Graph.initializer}, {@link Graph.scalar}, {@link Graph.int64s}); graph outputs are
 *   marked with {@link Graph.output}, under the value's own name or a given one.
 * - Ops whose output shape depends on run-time data (Range, Expand, a Slice with tensor
 *   bounds) take the output shape from the caller, who knows which symbolic dims it has.
 * - Any other standard op can be added with {@link Graph.node} and explicit output types.
 *
 * Serialize with `serializeModel` (./serialize.ts); weights go in as raw initializers
 * (float32, or uint8/uint4 blocks of quantized weights).
 */
import { ShapeMismatchError, UsageError } from '../errors';

/** uint8 and uint4 hold quantized weights (uint4: two values per byte, the first in the low nibble). */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8' | 'uint4';
export type Dim = number | string;
export type Shape = readonly Dim[];

export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface Initializer {
  readonly value: Value;
  /** Row-major contents; shape dims are all numbers. Kept by reference, never copied. */
  readonly data: TensorData;
}

export type AttrValue = number | readonly number[] | string;
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface GraphNode {
  readonly op: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
  /** The operator set: absent for the ONNX default domain, 'com.microsoft' for onnxruntime's contrib ops. */
  readonly domain?: 'com.microsoft';
}

/** Attribute names whose numbers serialize as floats rather than ints. */
export const FLOAT_ATTRIBUTES: ReadonlySet<string> = new Set(['epsilon', 'alpha', 'beta', 'value_float']);

export interface OutputType {
  readonly dtype: DType;
  readonly shape: Shape;
}

export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly producers = new Map<string, GraphNode>();
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  // ---- values that are not computed ---------------------------------------------------------

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = this.newValue(name, dtype, shape, true);
    this.inputs.push(v);
    return v;
  }

  /** A constant tensor (a weight, a table); `data` is kept by reference. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: TensorData): Value {
    const elements = shape.reduce((a, b) => a * b, 1);
    const size = dtype === 'uint4' ? Math.ceil(elements / 2) : elements;
    if (data.length !== size) throw new ShapeMismatchError(`initializer ${name} has ${data.length} elements, shape [${shape}] needs ${size}`);
    const v = this.newValue(name, dtype, shape, false);
    this.initializers.set(v.name, { value: v, data });
    return v;
  }

  /** A float scalar constant (shape []); float64 serves gradient checks in double precision. */
  scalar(x: number, name = 'const', dtype: 'float32' | 'float64' = 'float32'): Value {
    return this.initializer(this.uniqueName(name), dtype, [], dtype === 'float64' ? Float64Array.of(x) : Float32Array.of(x));
  }

  /** A 1-D int64 constant, the form ONNX takes for shapes, axes and slice bounds. */
  int64s(values: readonly number[], name = 'ints'): Value {
    return this.initializer(this.uniqueName(name), 'int64', [values.length], BigInt64Array.from(values, (x) => BigInt(x)));
  }

  /** Marks a value as a graph output, under its own name or (through an Identity) under `name`. */
  output(v: Value, name?: string): Value {
    const out = name === undefined || name === v.name ? v : this.node('Identity', [v], {}, [{ dtype: v.dtype, shape: v.shape }], name)[0];
    this.outputs.push(out);
    return out;
  }

  producer(v: Value): GraphNode | undefined {
    return this.producers.get(v.name);
  }

  isInitializer(v: Value): boolean {
    return this.initializers.has(v.name);
  }

  /** Appends any standard op with explicitly given output types; the other methods build on this. */
  node(op: string, inputs: readonly Value[], attrs: Attrs, outputTypes: readonly OutputType[], outputName?: string): Value[] {
    return this.addNode(op, inputs, attrs, outputTypes, outputName);
  }

  /** An onnxruntime contrib op (domain com.microsoft), such as MatMulNBits. */
  contribNode(op: string, inputs: readonly Value[], attrs: Attrs, outputTypes: readonly OutputType[]): Value[] {
    return this.addNode(op, inputs, attrs, outputTypes, undefined, 'com.microsoft');
  }

  private addNode(op: string, inputs: readonly Value[], attrs: Attrs, outputTypes: readonly OutputType[], outputName?: string, domain?: 'com.microsoft'): Value[] {
    const outputs = outputTypes.map((t, i) =>
      this.newValue(outputName !== undefined && i === 0 ? outputName : this.uniqueName(op.toLowerCase()), t.dtype, t.shape, outputName !== undefined && i === 0),
    );
    const node: GraphNode = domain === undefined ? { op, inputs, outputs, attrs } : { op, inputs, outputs, attrs, domain };
    this.nodes.push(node);
    for (const o of outputs) this.producers.set(o.name, node);
    return outputs;
  }

  // ---- elementwise ----------------------------------------------------------------------------

  add(a: Value, b: Value): Value { return this.binary('Add', a, b); }
  sub(a: Value, b: Value): Value { return this.binary('Sub', a, b); }
  mul(a: Value, b: Value): Value { return this.binary('Mul', a, b); }
  div(a: Value, b: Value): Value { return this.binary('Div', a, b); }
  pow(a: Value, b: Value): Value { return this.binary('Pow', a, b); }
  max(a: Value, b: Value): Value { return this.binary('Max', a, b); }
  min(a: Value, b: Value): Value { return this.binary('Min', a, b); }
  equal(a: Value, b: Value): Value { return this.binary('Equal', a, b, 'bool'); }
  less(a: Value, b: Value): Value { return this.binary('Less', a, b, 'bool'); }
  lessOrEqual(a: Value, b: Value): Value { return this.binary('LessOrEqual', a, b, 'bool'); }
  greater(a: Value, b: Value): Value { return this.binary('Greater', a, b, 'bool'); }
  and(a: Value, b: Value): Value { return this.binary('And', a, b, 'bool'); }

  neg(x: Value): Value { return this.unary('Neg', x); }
  sqrt(x: Value): Value { return this.unary('Sqrt', x); }
  reciprocal(x: Value): Value { return this.unary('Reciprocal', x); }
  exp(x: Value): Value { return this.unary('Exp', x); }
  log(x: Value): Value { return this.unary('Log', x); }
  sigmoid(x: Value): Value { return this.unary('Sigmoid', x); }
  tanh(x: Value): Value { return this.unary('Tanh', x); }
  sin(x: Value): Value { return this.unary('Sin', x); }
  cos(x: Value): Value { return this.unary('Cos', x); }
  not(x: Value): Value { return this.unary('Not', x); }
  identity(x: Value): Value { return this.unary('Identity', x); }

  where(cond: Value, a: Value, b: Value): Value {
    const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'Where'), b.shape, 'Where');
    return this.node('Where', [cond, a, b], {}, [{ dtype: a.dtype, shape }])[0];
  }

  cast(x: Value, to: DType): Value {
    return this.node('Cast', [x], { to: ONNX_DTYPE_CODE[to] }, [{ dtype: to, shape: x.shape }])[0];
  }

  softmax(x: Value, axis = -1): Value {
    return this.node('Softmax', [x], { axis }, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  // ---- linear algebra and reductions ---------------------------------------------------------

  /** numpy-style matmul of rank >= 2 operands; leading (batch) dims broadcast. */
  matMul(a: Value, b: Value): Value {
    if (a.shape.length < 2 || b.shape.length < 2) throw new ShapeMismatchError(`MatMul needs rank >= 2, got [${a.shape}] x [${b.shape}]`);
    const k1 = a.shape[a.shape.length - 1];
    const k2 = b.shape[b.shape.length - 2];
    if (k1 !== k2) throw new ShapeMismatchError(`MatMul inner dims differ: [${a.shape}] x [${b.shape}]`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'MatMul');
    const shape = [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]];
    return this.node('MatMul', [a, b], {}, [{ dtype: a.dtype, shape }])[0];
  }

  reduceMean(x: Value, axes: readonly number[], keepdims = true): Value { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceSum(x: Value, axes: readonly number[], keepdims = true): Value { return this.reduce('ReduceSum', x, axes, keepdims); }
  reduceMax(x: Value, axes: readonly number[], keepdims = true): Value { return this.reduce('ReduceMax', x, axes, keepdims); }

  cumSum(x: Value, axis: number): Value {
    const axisValue = this.initializer(this.uniqueName('axis'), 'int64', [], BigInt64Array.of(BigInt(axis)));
    return this.node('CumSum', [x, axisValue], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  // ---- shape manipulation ---------------------------------------------------------------------

  /**
   * Reshape to `target`. A symbolic dim is copied from the same position of the input (ONNX 0)
   * or, for at most one position, inferred (ONNX -1); numbers are taken as they are.
   */
  reshape(x: Value, target: Shape): Value {
    let inferred = 0;
    const onnxShape = target.map((d, i) => {
      if (typeof d === 'number') return d;
      if (x.shape[i] === d) return 0;
      inferred++;
      return -1;
    });
    if (inferred > 1) throw new UsageError(`Reshape [${x.shape}] -> [${target}] leaves more than one dim to infer`);
    const known = (s: Shape) => (s.every((d) => typeof d === 'number') ? (s as number[]).reduce((a, b) => a * b, 1) : undefined);
    const from = known(x.shape);
    const to = known(target);
    if (from !== undefined && to !== undefined && from !== to) throw new ShapeMismatchError(`Reshape [${x.shape}] -> [${target}] changes the element count`);
    return this.node('Reshape', [x, this.int64s(onnxShape, 'shape')], {}, [{ dtype: x.dtype, shape: target }])[0];
  }

  /** Reshape `x` to the run-time shape of `like` (used by VJP rules to undo a reshape). */
  reshapeLike(x: Value, like: Value): Value {
    return this.node('Reshape', [x, this.shapeOf(like)], {}, [{ dtype: x.dtype, shape: like.shape }])[0];
  }

  /** Broadcast `x` to the run-time shape of `like`. */
  expandLike(x: Value, like: Value): Value {
    const shape = broadcastShapes(x.shape, like.shape, 'Expand');
    return this.node('Expand', [x, this.shapeOf(like)], {}, [{ dtype: x.dtype, shape }])[0];
  }

  transpose(x: Value, perm: readonly number[]): Value {
    if (perm.length !== x.shape.length) throw new ShapeMismatchError(`Transpose perm [${perm}] does not fit [${x.shape}]`);
    return this.node('Transpose', [x], { perm }, [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }])[0];
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    const rank = x.shape.length + axes.length;
    const norm = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.has(i) ? 1 : x.shape[j++]);
    return this.node('Unsqueeze', [x, this.int64s(axes, 'axes')], {}, [{ dtype: x.dtype, shape }])[0];
  }

  squeeze(x: Value, axes: readonly number[]): Value {
    const norm = new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)));
    for (const a of norm) if (x.shape[a] !== 1) throw new ShapeMismatchError(`Squeeze axis ${a} of [${x.shape}] is not 1`);
    const shape = x.shape.filter((_, i) => !norm.has(i));
    return this.node('Squeeze', [x, this.int64s(axes, 'axes')], {}, [{ dtype: x.dtype, shape }])[0];
  }

  concat(values: readonly Value[], axis: number): Value {
    const rank = values[0].shape.length;
    const ax = axis < 0 ? axis + rank : axis;
    const shape = values[0].shape.map((d, i) => {
      if (i === ax) return values.map((v) => v.shape[i]).reduce(addDims);
      for (const v of values) if (v.shape[i] !== d) throw new ShapeMismatchError(`Concat shapes differ off axis ${axis}: [${values.map((v) => `[${v.shape}]`)}]`);
      return d;
    });
    return this.node('Concat', values, { axis }, [{ dtype: values[0].dtype, shape }])[0];
  }

  /**
   * Slice with constant bounds along `axes`. The output shape is computed for number dims; a
   * symbolic dim that is sliced needs `outShape`.
   */
  slice(x: Value, starts: readonly number[], ends: readonly number[], axes: readonly number[], outShape?: Shape): Value {
    const shape = outShape ?? x.shape.map((d, i) => {
      const k = axes.findIndex((a) => (a < 0 ? a + x.shape.length : a) === i);
      if (k < 0) return d;
      if (typeof d !== 'number') throw new UsageError(`Slice of symbolic dim ${d} needs an explicit output shape`);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      return Math.max(clamp(ends[k]) - clamp(starts[k]), 0);
    });
    return this.node('Slice', [x, this.int64s(starts, 'starts'), this.int64s(ends, 'ends'), this.int64s(axes, 'axes')], {}, [{ dtype: x.dtype, shape }])[0];
  }

  /** Slice with run-time bounds (1-D int64 values); the caller states the output shape. */
  sliceDynamic(x: Value, starts: Value, ends: Value, axes: readonly number[], outShape: Shape): Value {
    return this.node('Slice', [x, starts, ends, this.int64s(axes, 'axes')], {}, [{ dtype: x.dtype, shape: outShape }])[0];
  }

  /** Split along `axis` into parts of the given (number) sizes. */
  split(x: Value, sizes: readonly number[], axis: number): Value[] {
    const ax = axis < 0 ? axis + x.shape.length : axis;
    const total = sizes.reduce((a, b) => a + b, 0);
    if (typeof x.shape[ax] === 'number' && x.shape[ax] !== total) throw new ShapeMismatchError(`Split sizes [${sizes}] do not add up to dim ${x.shape[ax]} of [${x.shape}]`);
    const types = sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? n : d)) }));
    return this.node('Split', [x, this.int64s(sizes, 'split')], { axis }, types);
  }

  gather(data: Value, indices: Value, axis = 0): Value {
    const ax = axis < 0 ? axis + data.shape.length : axis;
    const shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    return this.node('Gather', [data, indices], { axis }, [{ dtype: data.dtype, shape }])[0];
  }

  /** The run-time shape of `x` (dims `start` up to `end`) as a 1-D int64 value. */
  shapeOf(x: Value, start = 0, end = x.shape.length): Value {
    const attrs: Attrs = start === 0 && end === x.shape.length ? {} : { start, end };
    return this.node('Shape', [x], attrs, [{ dtype: 'int64', shape: [end - start] }])[0];
  }

  /** One run-time dim of `x` as an int64 scalar. */
  dimOf(x: Value, axis: number): Value {
    const idx = this.initializer(this.uniqueName('axis'), 'int64', [], BigInt64Array.of(BigInt(axis)));
    return this.gather(this.shapeOf(x), idx, 0);
  }

  /** ONNX Range over scalar values; `length` names the output dim. */
  range(start: Value, limit: Value, delta: Value, length: Dim): Value {
    return this.node('Range', [start, limit, delta], {}, [{ dtype: start.dtype, shape: [length] }])[0];
  }

  // ---- helpers ------------------------------------------------------------------------------

  private binary(op: string, a: Value, b: Value, dtype?: DType): Value {
    if (a.dtype !== b.dtype) throw new ShapeMismatchError(`${op} dtypes differ: ${a.dtype} vs ${b.dtype} (${a.name}, ${b.name})`);
    return this.node(op, [a, b], {}, [{ dtype: dtype ?? a.dtype, shape: broadcastShapes(a.shape, b.shape, op) }])[0];
  }

  private unary(op: string, x: Value): Value {
    return this.node(op, [x], {}, [{ dtype: x.dtype, shape: x.shape }])[0];
  }

  private reduce(op: string, x: Value, axes: readonly number[], keepdims: boolean): Value {
    const norm = new Set(axes.map((a) => (a < 0 ? a + x.shape.length : a)));
    const shape = keepdims ? x.shape.map((d, i) => (norm.has(i) ? 1 : d)) : x.shape.filter((_, i) => !norm.has(i));
    return this.node(op, [x, this.int64s(axes, 'axes')], { keepdims: keepdims ? 1 : 0 }, [{ dtype: x.dtype, shape }])[0];
  }

  private newValue(name: string, dtype: DType, shape: Shape, exactName: boolean): Value {
    const unique = exactName ? name : this.uniqueName(name);
    if (this.names.has(unique)) throw new UsageError(`graph value name "${name}" is already used`);
    this.names.add(unique);
    return { name: unique, dtype, shape: [...shape] };
  }

  private uniqueName(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.names.has(n));
    return n;
  }
}

export const ONNX_DTYPE_CODE: Readonly<Record<DType, number>> = { float32: 1, float64: 11, int32: 6, int64: 7, bool: 9, uint8: 2, uint4: 21 };

function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${a}+${b}`;
}

/** Right-aligned ONNX/numpy broadcasting; different symbolic names are an error, not a guess. */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new ShapeMismatchError(`${op} cannot broadcast [${a}] with [${b}]`);
  }
  return out;
}

/**
 * The axes of `outShape` along which a value of `inShape` was broadcast (right-aligned): the
 * axes a VJP must sum over (keepdims) before reshaping the gradient back to `inShape`.
 */
export function broadcastAxes(inShape: Shape, outShape: Shape): number[] {
  const offset = outShape.length - inShape.length;
  const axes: number[] = [];
  for (let i = 0; i < outShape.length; i++) {
    const d = i < offset ? 1 : inShape[i - offset];
    if (i < offset || (d === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}
