/**
 * Reverse-mode gradients over a recorded {@link Graph}: `grad(g, loss, wrt)` walks the nodes
 * backwards from `loss` and appends each op's vector-Jacobian product (./rules.ts) to the same
 * graph, as standard ONNX ops, so one ONNX model computes the loss and its gradients.
 *
 * - Only values that depend on a `wrt` value carry gradients. Weights are initializers and
 *   never do, so the frozen model gets no weight gradients and branches that do not reach
 *   `wrt` (masks, rotary tables, shapes) are skipped.
 * - A value used by several nodes gets the sum of their contributions.
 * - Only float values are differentiable; int and bool values (shapes, indices, masks) stop
 *   the walk.
 * - A node reached by the walk whose op has no rule is an error naming the op.
 */
import { UsageError } from '../../errors';
import type { Graph, Value } from '../graph';
import { VJP_RULES } from './rules';

function isDifferentiable(v: Value): boolean {
  return v.dtype === 'float32' || v.dtype === 'float64';
}

/** d loss / d w for each w in `wrt`, as new values of `g`; `loss` must be a scalar (shape []). */
export function grad(g: Graph, loss: Value, wrt: readonly Value[]): Value[] {
  if (loss.shape.length !== 0) throw new UsageError(`grad needs a scalar loss; ${loss.name} has shape [${loss.shape}]`);
  for (const w of wrt) {
    if (!isDifferentiable(w)) throw new UsageError(`cannot differentiate with respect to ${w.name} (${w.dtype})`);
    if (g.isInitializer(w)) throw new UsageError(`${w.name} is an initializer (a frozen weight); make it a graph input to differentiate with respect to it`);
  }

  const dependent = dependsOn(g, wrt);
  const grads = new Map<string, Value>();
  const accumulate = (v: Value, d: Value) => {
    const prior = grads.get(v.name);
    grads.set(v.name, prior ? g.add(prior, d) : d);
  };
  if (dependent.has(loss.name)) grads.set(loss.name, g.scalar(1, 'grad_seed', loss.dtype as 'float32' | 'float64'));

  // The forward nodes only: rules append to g.nodes while we walk.
  const forward = g.nodes.slice();
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i];
    const dOutputs = node.outputs.map((o) => grads.get(o.name));
    if (dOutputs.every((d) => d === undefined)) continue;
    const needs = node.inputs.map((x) => dependent.has(x.name) && isDifferentiable(x));
    if (!needs.some(Boolean)) continue;
    const rule = VJP_RULES[node.op];
    if (!rule) throw new UsageError(`no gradient rule for ONNX op ${node.op} (node producing ${node.outputs.map((o) => o.name).join(', ')})`);
    const dInputs = rule({ g, node, dOutputs, needs });
    node.inputs.forEach((x, k) => {
      const d = dInputs[k];
      if (needs[k] && d) accumulate(x, d);
    });
  }
  return wrt.map((w) => grads.get(w.name) ?? zerosLike(g, w));
}

/** Names of the values computed (transitively) from any of `roots`, the roots included. */
function dependsOn(g: Graph, roots: readonly Value[]): Set<string> {
  const dependent = new Set(roots.map((r) => r.name));
  for (const node of g.nodes) {
    if (node.inputs.some((x) => dependent.has(x.name))) for (const o of node.outputs) if (isDifferentiable(o)) dependent.add(o.name);
  }
  return dependent;
}

function zerosLike(g: Graph, v: Value): Value {
  return g.expandLike(g.scalar(0, 'zero', v.dtype as 'float32' | 'float64'), v);
}
